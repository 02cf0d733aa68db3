import Hummingbird
import HummingbirdCore
import Logging
import XMLRPC

/// What a vendor's XML-RPC stand-in keeps and answers, behind the HTTP front such stand-ins share
/// (`XMLRPCStandInServer`): its accounts, its calls, and the service's methods.
public protocol XMLRPCStandInState: Actor {
    /// The HTTP status to answer the next request with before anything else (a broken front end), if any.
    func takeFailure() -> Int?
    /// Whether the basic-auth `user` and `password` are an account's.
    func authenticate(user: String, password: String) -> Bool
    /// The service's answer to an authenticated call: a value, or a fault.
    func dispatch(_ call: XMLRPCMethodCall, user: String) -> Result<XMLRPCValue, XMLRPCFault>
    /// Keeps a request: its user once authenticated, its method and parameters once decoded, and the status answered.
    func record(user: String?, method: String?, params: [XMLRPCValue], status: Int)
}

/// One request an XML-RPC stand-in received, as its state keeps it (`XMLRPCStandInState.record`).
public struct XMLRPCStandInCall: Sendable {
    /// The authenticated user, or nil if the request never got that far.
    public var user: String?
    /// The XML-RPC method, or nil.
    public var method: String?
    public var params: [XMLRPCValue]
    /// The HTTP status answered.
    public var status: Int

    public init(user: String?, method: String?, params: [XMLRPCValue], status: Int) {
        (self.user, self.method, self.params, self.status) = (user, method, params, status)
    }
}

/// A strict XML-RPC stand-in's whole HTTP application: an injected failure first, then only `paths` (and `query`),
/// then `BasicAuthXMLRPC`'s rules (POST, basic auth with the service's realm, `text/xml`, a capped body) and the
/// state's answer; every request recorded.
public struct XMLRPCStandInServer<State: XMLRPCStandInState>: RespondingStandInServer {
    /// Which query strings an endpoint takes.
    public enum QueryRule: Sendable {
        /// Any, or none: the service does not look at it.
        case ignored
        /// Exactly this one, or none when nil (Akuvox's `?id=1`, required as given).
        case exactly(String?)
    }

    public let state: State
    /// The paths the service answers on.
    public let paths: Set<String>
    /// The query strings it takes there.
    public let query: QueryRule
    private let front: BasicAuthXMLRPC

    public init(
        state: State, paths: Set<String>, query: QueryRule = .ignored, realm: String, untypedStrings: Bool = false
    ) {
        self.state = state
        self.paths = paths
        self.query = query
        self.front = BasicAuthXMLRPC(realm: realm, untypedStrings: untypedStrings)
    }

    /// Answers one HTTP request.
    public func respond(to request: Request, context: BasicRequestContext) async -> Response {
        var seen = BasicAuthXMLRPC.Seen()
        let response = await self.handle(request, seen: &seen)
        await self.state.record(
            user: seen.user, method: seen.call?.methodName, params: seen.call?.params ?? [],
            status: Int(response.status.code))
        return response
    }

    private func handle(_ request: Request, seen: inout BasicAuthXMLRPC.Seen) async -> Response {
        if let status = await self.state.takeFailure() {
            return StandInHTTP.plain(HTTPResponse.Status(code: status), "injected failure")
        }
        guard self.paths.contains(request.uri.path) else { return StandInHTTP.plain(.notFound, "not found") }
        if case .exactly(let query) = self.query, request.uri.query != query {
            return StandInHTTP.plain(.notFound, "not found")
        }
        return await self.front.answer(
            request, seen: &seen, authenticate: { await self.state.authenticate(user: $0, password: $1) },
            dispatch: { await self.state.dispatch($0, user: $1) })
    }
}

/// The state of an XML-RPC stand-in whose front door (`ledger`) answers as the others': accounts, injected
/// failures and the calls it received.
public protocol LedgeredXMLRPCStandInState: XMLRPCStandInState {
    /// Its accounts, the failures it was told to answer next, and the requests it received.
    var ledger: XMLRPCStandInLedger { get set }
}

/// The state of an XML-RPC stand-in that answers on one path with one realm (Panasonic's, Fanvil's, Gigaset's),
/// which `RunningStandIn` starts with no code of its own, and whose front door (`ledger`) answers as the others'.
public protocol SinglePathXMLRPCStandInState: LedgeredXMLRPCStandInState, ServedStandInState {
    /// The path the service answers on.
    static var path: String { get }
    /// The realm of its 401.
    static var realm: String { get }
    /// A stand-in whose accounts are these users with their passwords.
    init(accounts: [String: String])
}

/// What an XML-RPC stand-in keeps at its front door: its accounts, the HTTP statuses it answers the next requests
/// with (a broken front end), and every request it received.
public struct XMLRPCStandInLedger: Sendable {
    /// Passwords by user.
    public var accounts: [String: String]
    /// Every request, in the order received.
    public var calls: [XMLRPCStandInCall] = []
    /// What the next requests are answered with, before anything else.
    public var pendingStatuses: [Int] = []

    public init(accounts: [String: String]) { self.accounts = accounts }
}

extension LedgeredXMLRPCStandInState {
    /// Passwords by user.
    public var accounts: [String: String] { self.ledger.accounts }
    /// Every request the stand-in received, in order.
    public var calls: [XMLRPCStandInCall] { self.ledger.calls }

    /// Adds an account, or changes its password.
    public func addAccount(_ user: String, password: String) { self.ledger.accounts[user] = password }

    /// The next `count` requests are answered with HTTP `status`.
    public func failNext(_ count: Int, status: Int) {
        self.ledger.pendingStatuses.append(contentsOf: repeatElement(status, count: count))
    }

    public func takeFailure() -> Int? {
        self.ledger.pendingStatuses.isEmpty ? nil : self.ledger.pendingStatuses.removeFirst()
    }

    /// By default the password is the account's as it is.
    public func authenticate(user: String, password: String) -> Bool { self.ledger.accounts[user] == password }

    public func record(user: String?, method: String?, params: [XMLRPCValue], status: Int) {
        self.ledger.calls.append(XMLRPCStandInCall(user: user, method: method, params: params, status: status))
    }
}

extension SinglePathXMLRPCStandInState {
    public nonisolated var servicePath: String { Self.path }

    public nonisolated func makeServer() -> XMLRPCStandInServer<Self> {
        XMLRPCStandInServer(state: self, paths: [Self.path], realm: Self.realm)
    }
}
