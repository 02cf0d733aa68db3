import Logging

/// The client of an XML-RPC service with basic auth for one account (Panasonic's, Gigaset's, Fanvil's): its login,
/// and the endpoint its calls go through, made here with a connection pool of its own.
public protocol XMLRPCLoginClient: Sendable {
    /// The service's name in errors and logs.
    static var serviceName: String { get }
    /// The endpoint an account calls when it names none: the service's production one.
    static var defaultEndpoint: String { get }
    /// The settings the client was made with (the account's own password, which the service may take digested).
    var login: XMLRPCLogin { get }
    /// Makes a client that sends its calls through `endpoint`, which authenticates with
    /// `sentPassword(for: login.password)`.
    init(login: XMLRPCLogin, endpoint: XMLRPCEndpoint)
    /// The password the service takes in basic auth for the account's `password`.
    static func sentPassword(for password: String) -> String
}

extension XMLRPCLoginClient {
    /// By default the account's password itself.
    public static func sentPassword(for password: String) -> String { password }

    /// Makes a client with an HTTP connection pool of its own, after checking `login`, and the function that closes
    /// that pool: what each account of the service gets.
    public static func withOwnPool(
        login: XMLRPCLogin, logger: Logger
    ) throws(XMLRPCLoginError) -> (client: Self, close: @Sendable () async -> Void) {
        var sent = login
        sent.password = Self.sentPassword(for: login.password)
        let (endpoint, close) = try XMLRPCEndpoint.withOwnPool(login: sent, service: Self.serviceName, logger: logger)
        return (Self(login: login, endpoint: endpoint), close)
    }
}
