import AsyncHTTPClient
import Logging
import NIOHTTP1
import StandInSupport
import VendorHTTP
import XMLRPC

/// A vendor's stand-in running for a test, a client of ours, and a plain HTTP client for the requests a test sends
/// by hand. Each vendor's tests declare theirs (`StandIn`): its accounts, and how its client is made; starting and
/// stopping are the same for all.
public protocol StandInFixture {
    associatedtype State: ServedStandInState
    associatedtype Client

    /// The stand-in.
    var server: RunningStandIn<State> { get }
    /// The client under test, of our account.
    var client: Client { get }
    /// A plain HTTP client for the requests a test sends by hand.
    var httpClient: HTTPClient { get }

    init(server: RunningStandIn<State>, client: Client, httpClient: HTTPClient)
}

extension StandInFixture {
    /// The stand-in's data.
    public var state: State { self.server.state }

    /// Starts a stand-in of `state` (with `tls`, over HTTPS with a certificate of a fresh private CA), runs `body`
    /// with it, the client `makeClient` makes for its URL and the CA file (nil without TLS), and a plain HTTP client;
    /// stops and closes all of them afterwards, whether `body` returns or throws.
    @discardableResult
    public static func with<T>(
        state: State, tls: Bool,
        client makeClient: (_ url: String, _ caFile: String?) throws -> (Client, @Sendable () async -> Void),
        _ body: (Self) async throws -> T
    ) async throws -> T {
        let authority = tls ? try PrivateCertificateAuthority() : nil
        return try await RunningStandIn<State>.with(state: state, tls: authority) { server in
            try await VendorTestHarness.with(authority: authority) { caFile in
                try makeClient(server.url, caFile)
            } _: { client, plain in
                try await body(Self(server: server, client: client, httpClient: plain))
            }
        }
    }
}

/// The fixture of a service with basic auth: our account and another's.
public protocol BasicAuthStandInFixture: StandInFixture {
    /// Our account's user.
    static var user: String { get }
    /// Our account's password: distinctive, so that a test can look for it in every message.
    static var password: String { get }
    /// Another account's user.
    static var otherUser: String { get }
    /// Another account's password.
    static var otherPassword: String { get }
    /// The password as our client sends it in basic auth: itself, unless the service takes a digest of it (Fanvil).
    static func sentPassword(for password: String) -> String
}

extension BasicAuthStandInFixture {
    /// Our account and the other one, as a stand-in's state takes them.
    public static var accounts: [String: String] { [Self.user: Self.password, Self.otherUser: Self.otherPassword] }

    public static func sentPassword(for password: String) -> String { password }

    /// Posts `body` to `path` (by default the service's path and query) with our credentials as the service takes
    /// them (unless `authorization` says otherwise) and `contentType`: the stand-in's answer, status,
    /// `WWW-Authenticate` and text. Over plain HTTP: a stand-in started without TLS.
    public func post(
        _ body: String, path: String? = nil, method: HTTPMethod = .POST, contentType: String? = "text/xml",
        authorization: String? = nil
    ) async throws -> (status: Int, challenge: String?, text: String) {
        try await VendorTestHarness.send(
            body, to: "http://127.0.0.1:\(self.server.port)\(path ?? self.state.servicePath)", method: method,
            contentType: contentType,
            authorization: authorization
                ?? VendorTestHarness.basic(Self.user, Self.sentPassword(for: Self.password)),
            through: self.httpClient)
    }

    /// Calls `method(params)` with our credentials and decodes the answer.
    public func call(_ method: String, _ params: [XMLRPCValue]) async throws -> XMLRPCResponse {
        let answer = try await self.post(try XMLRPCEncoder.encodeCall(method, params))
        return try XMLRPCDecoder(maxBodyBytes: 1 << 20).decodeResponse(Array(answer.text.utf8))
    }
}

extension VendorConnection {
    /// How a client reaches a stand-in: trusting `caFile` (the stand-in's private CA), plain HTTP allowed when there
    /// is none, and short timeouts, so that a test that goes wrong fails fast.
    public static func forTests(caFile: String?) -> VendorConnection {
        VendorConnection(
            caFile: caFile, allowsPlainHTTP: caFile == nil, connectTimeout: .seconds(2), readTimeout: .seconds(5))
    }
}

extension XMLRPCLogin {
    /// A login for a stand-in at `url`, reached as `VendorConnection.forTests` says.
    public static func forTests(_ url: String, _ user: String, _ password: String, _ caFile: String?) -> XMLRPCLogin {
        XMLRPCLogin(endpoint: url, user: user, password: password, connection: .forTests(caFile: caFile))
    }
}

extension VendorStandIn where State: SinglePathXMLRPCStandInState, Client: XMLRPCLoginClient {
    /// Starts a stand-in with our account and the other one (with `tls`, over HTTPS), runs `body` with it and a
    /// client of ours, and stops both afterwards.
    @discardableResult
    public static func with<T>(tls: Bool = false, _ body: (Self) async throws -> T) async throws -> T {
        try await Self.with(
            state: State(accounts: Self.accounts), tls: tls,
            client: { url, caFile in
                try Client.withOwnPool(
                    login: .forTests(url, Self.user, Self.password, caFile), logger: Logger(label: "t"))
            }, body)
    }

    /// A client of the stand-in for another login, sharing the HTTP client; the password is sent as the service
    /// takes it unless `digested` is false.
    public func client(user: String, password: String, digested: Bool = true) -> Client {
        var login = self.client.login
        (login.user, login.password) = (user, password)
        return Client(
            login: login,
            endpoint: XMLRPCEndpoint(
                url: login.endpoint, user: user, password: digested ? Client.sentPassword(for: password) : password,
                httpClient: self.httpClient, callDeadline: login.connection.callDeadline, logger: Logger(label: "t")))
    }
}

/// A vendor's stand-in and a client of it: what a vendor's tests need. For a service with basic auth (Panasonic's,
/// Gigaset's, Fanvil's, the RPS services), our account and the other one are named after the stand-in; those of an
/// `XMLRPCLoginClient` start with `with(tls:_:)`, the others say how their client is made in an extension of their
/// own, as do the services whose credentials are not a login (an API key, OAuth client credentials).
public struct VendorStandIn<State: ServedStandInState, Client>: BasicAuthStandInFixture {
    static var name: String { String(describing: State.self) }
    public static var user: String { "\(Self.name)-ours" }
    /// Distinctive, so that a test can look for it (and, where the service takes a digest, for that) everywhere.
    public static var password: String { "\(Self.name)-SECRET-3c9a51" }
    public static var otherUser: String { "\(Self.name)-other" }
    public static var otherPassword: String { "\(Self.name)-other-pw" }

    public let server: RunningStandIn<State>
    public let client: Client
    /// An HTTP client for the requests a test sends by hand.
    public let httpClient: HTTPClient

    public init(server: RunningStandIn<State>, client: Client, httpClient: HTTPClient) {
        (self.server, self.client, self.httpClient) = (server, client, httpClient)
    }

    /// The password as the client sends it: digested where the client is an `XMLRPCLoginClient` that digests it.
    public static func sentPassword(for password: String) -> String {
        (Client.self as? any XMLRPCLoginClient.Type)?.sentPassword(for: password) ?? password
    }
}
