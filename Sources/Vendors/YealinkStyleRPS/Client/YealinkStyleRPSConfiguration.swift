import ProvisioningModel
import VendorHTTP

/// Where and how to reach one account of a Yealink-style RPS (Htek's, Akuvox's) over XML-RPC.
public struct YealinkStyleRPSConfiguration: Sendable {
    /// Which vendor's service.
    public var dialect: RPSDialect
    /// The endpoint (used exactly as given, query included: Akuvox's is `…/fcgi/do?id=1`), the basic-auth login, the
    /// trust roots, the timeouts and the pool. Every answer is a flag and a line of text.
    public var login: XMLRPCLogin
    /// Whether registrations take a MAC another account holds (the service's `isOverride`).
    public var override: Bool

    /// An account of `dialect`'s service; `endpoint` nil is the vendor's published one.
    public init(
        dialect: RPSDialect, endpoint: String? = nil, user: String, password: String, override: Bool = false,
        connection: VendorConnection = VendorConnection()
    ) {
        self.dialect = dialect
        self.login = XMLRPCLogin(
            endpoint: endpoint ?? dialect.defaultEndpoint, user: user, password: password, connection: connection)
        self.override = override
    }

    /// Checks the endpoint (absolute, no credentials in it, https unless `allowsPlainHTTP`) and the user.
    public func validate() throws(XMLRPCLoginError) {
        try self.login.validate(service: self.dialect.name, plainHTTPNote: self.dialect.plainHTTPNote)
    }
}

extension YealinkStyleRPSConfiguration: SecretHolding {
    /// The service, endpoint and user, never the password.
    public var description: String {
        "YealinkStyleRPSConfiguration(\(self.dialect.kind), endpoint: \(self.login.endpoint), user: \(self.login.user), password: <redacted>)"
    }
}
