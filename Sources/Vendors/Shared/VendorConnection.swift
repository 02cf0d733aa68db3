/// How one account's client reaches its service, whichever the vendor: the trust roots, whether plain `http://` may
/// be called, the timeouts and the pool. `VendorHTTP.makeClient` builds the HTTP client from it, and each service's
/// configuration holds one beside what is its own (URL, credentials, answer limits).
public struct VendorConnection: Sendable, Hashable {
    /// An extra PEM file of trust roots, added to the system's.
    public var caFile: String?
    /// Whether an `http://` URL may be called (a local stand-in): the request, and for some services the secret,
    /// would travel in clear.
    public var allowsPlainHTTP: Bool
    /// How long to wait for a TCP connection.
    public var connectTimeout: Duration
    /// How long to wait for the whole answer once the request is sent.
    public var readTimeout: Duration
    /// Connections kept per host; matches the worker's concurrency.
    public var maxConnections: Int

    /// The defaults are those of `PROVHOOK_REDIRECT_*`'s: 10 s to connect, 30 s to read, 8 connections.
    public init(
        caFile: String? = nil, allowsPlainHTTP: Bool = false, connectTimeout: Duration = .seconds(10),
        readTimeout: Duration = .seconds(30), maxConnections: Int = 8
    ) {
        self.caFile = caFile
        self.allowsPlainHTTP = allowsPlainHTTP
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.maxConnections = maxConnections
    }

    /// The longest one request may take, answer included: the client's deadline on each exchange.
    public var callDeadline: Duration { self.connectTimeout + self.readTimeout }
}
