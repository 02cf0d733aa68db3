import ProvisioningModel

/// What sets one vendor's copy of Yealink's RPS API apart from another's: where it answers and which calls it has.
/// Everything else (named servers, `registerDevice(mac, serverName, isOverride)`, the `[boolean, text]` answers) is
/// the same, so that one client serves them all.
public struct RPSDialect: Sendable, Hashable {
    /// The account kind whose service this is.
    public var kind: ServiceKind
    /// The service's name for operators.
    public var name: String
    /// The endpoint the vendor publishes, which an account calls when it names none.
    public var defaultEndpoint: String
    /// Whether the service has `redirect.registerDevices` and `redirect.deRegisterDevices`, the batch calls.
    public var hasBatchCalls: Bool
    /// Why the vendor's own endpoint is plain `http://`, for the error that refuses it without
    /// `PROVHOOK_REDIRECT_ALLOW_HTTP`; nil when it is `https://`.
    public var plainHTTPNote: String?

    public init(
        kind: ServiceKind, name: String, defaultEndpoint: String, hasBatchCalls: Bool, plainHTTPNote: String? = nil
    ) {
        self.kind = kind
        self.name = name
        self.defaultEndpoint = defaultEndpoint
        self.hasBatchCalls = hasBatchCalls
        self.plainHTTPNote = plainHTTPNote
    }
}
