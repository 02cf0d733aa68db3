import ProvisioningModel
import VendorHTTP

/// Where and how to reach Yealink's RPS (redirection and provisioning service) over XML-RPC, for one account.
public struct YealinkRPSConfiguration: Sendable {
    /// The production endpoint, as falconieri and ngcp-panel call it (no trailing slash).
    public static let defaultEndpoint = "https://api-dm.yealink.com:8443/xmlrpc"
    /// The server name provhook registers MACs under: RPS takes `A-z 0-9 - _ .` and spaces, and clients keep it
    /// within 20 characters.
    public static let serverName = "provhook"
    /// How the service is named in messages.
    public static let service = "Yealink RPS"

    /// The endpoint (used exactly as given), the RPS account's basic-auth login, the trust roots, the timeouts and
    /// the pool. Every RPS answer is a flag and a line of text.
    public var login: XMLRPCLogin
    /// Whether registrations take a MAC another RPS account holds (the service's `override` flag).
    public var override: Bool

    public init(
        endpoint: String = Self.defaultEndpoint, user: String, password: String, override: Bool = false,
        connection: VendorConnection = VendorConnection()
    ) {
        self.login = XMLRPCLogin(endpoint: endpoint, user: user, password: password, connection: connection)
        self.override = override
    }

    /// Checks the endpoint (absolute, no credentials in it, https unless `allowsPlainHTTP`) and the user.
    public func validate() throws(XMLRPCLoginError) {
        try self.login.validate(service: Self.service)
    }
}

extension YealinkRPSConfiguration: SecretHolding {
    /// The endpoint and the user, never the password.
    public var description: String {
        "YealinkRPSConfiguration(endpoint: \(self.login.endpoint), user: \(self.login.user), password: <redacted>)"
    }
}
