import HTTPTypes
import ProvHookCore

/// What a PBX platform provides, in its folder: how its requests are read and authenticated, how it is answered,
/// and the client of its API (for lookups, and for a sync when the client also lists devices).
///
/// A platform never touches the database or the journal: what it reads is recorded by the `Intake`, through the
/// planner and the store, in one transaction. A new platform is a folder of its own and one line in `Platforms`
/// (with its name among the stored `SourceKind`s).
public protocol Platform<Credentials>: Sendable {
    /// What authenticates the sender: a tenant's secret for the native contract, a source's token for a platform.
    associatedtype Credentials: Sendable

    /// The kind of source it is; nil for provhook's own contract, which is a tenant's rather than a source's.
    var kind: SourceKind? { get }
    /// Its name, for an operator.
    var displayName: String { get }
    /// How its webhooks are answered.
    var answers: AnswerPolicy { get }

    /// Authenticates `request` against the credentials and reads its body, once; nil for a platform that sends no
    /// webhooks.
    func reading(of request: InboundRequest, credentials: Credentials) -> PlatformReading?

    /// Whether a request is this platform's by its headers alone, so that it is answered as the platform needs
    /// even when its source cannot be read.
    func claims(_ headers: HTTPFields) -> Bool

    /// A client of the platform's API; nil when it has none.
    func makeDirectory(_ configuration: DirectoryConfiguration) throws(DirectoryError) -> (any DeviceDirectory)?
}

extension Platform {
    public func claims(_ headers: HTTPFields) -> Bool { false }

    public func makeDirectory(
        _ configuration: DirectoryConfiguration
    ) throws(DirectoryError) -> (any DeviceDirectory)? { nil }
}

/// The one registry of platforms.
public enum Platforms {
    /// provhook's own contract, on `POST /v1/tenants/{tenant}/events`.
    public static let native = NativeWebhookSource()

    /// Every platform a source can be, one line each.
    public static let sources: [any Platform<SourceCredentials>] = [
        KazooSource(),
        WazoSource(),
        FusionPBXSource(),
        MappingSource(),
    ]

    /// The platform of a source of `kind`.
    public static func platform(for kind: SourceKind) -> any Platform<SourceCredentials> {
        guard let platform = Self.sources.first(where: { $0.kind == kind }) else {
            preconditionFailure("no platform is registered for sources of kind \(kind.rawValue)")
        }
        return platform
    }

    /// Makes the client of a source's API by its kind, for the lookup worker and sync.
    public static let makeDirectory: DirectoryCache.Factory = { kind, configuration throws(DirectoryError) in
        guard let client = try Platforms.platform(for: kind).makeDirectory(configuration) else {
            throw .unavailable("a \(kind.rawValue) source has no PBX API")
        }
        return client
    }

    /// Whether a request whose source cannot be read claims to come from a platform whose connection is closed,
    /// rather than answered 503, when nothing can be recorded.
    public static func closesConnectionWhenUnavailable(_ headers: HTTPFields) -> Bool {
        Self.sources.contains { $0.answers.closesConnectionWhenUnavailable && $0.claims(headers) }
    }
}

/// A request as the listener received it, body collected (within the listener's size limit).
public struct InboundRequest: Sendable {
    /// The request's headers, as sent.
    public var headers: HTTPFields
    /// The whole body.
    public var body: [UInt8]
    /// The query string, undecoded (without `?`); never logged, since a platform may carry its token there.
    public var query: String

    public init(headers: HTTPFields, body: [UInt8], query: String = "") {
        (self.headers, self.body, self.query) = (headers, body, query)
    }
}

/// What a platform made of a request: the verdict, and what later steps need with it, taken from the same single
/// reading of the body.
public struct PlatformReading: Sendable {
    /// What to do.
    public var verdict: SourceVerdict
    /// The PBX account the event is about (for a source that maps accounts to tenants); nil when not said.
    public var account: String?
    /// What is kept as the event's payload (`webhook_events.payload`, which the auditor reads): never a secret.
    public var payload: [UInt8]

    public init(_ verdict: SourceVerdict, account: String? = nil, payload: [UInt8] = Array("{}".utf8)) {
        (self.verdict, self.account, self.payload) = (verdict, account, payload)
    }
}
