import AsyncHTTPClient
import NIOCore
import NIOSSL
import ProvisioningModel

/// A service's settings error, which can say that the CA file could not be read as PEM certificates (each says it
/// in its own words, naming its service or its variable).
public protocol CAFileError: Error {
    static func unreadableCAFile(path: String, reason: String) -> Self
}

/// What every vendor's HTTP client shares: how its connection pool is made, and how a transport failure becomes a
/// `RedirectError`, so that every service's client keeps the same timeouts, limits and refusals.
public enum VendorHTTP {
    /// An HTTP client for a provisioning service: connect and read timeouts, a keep-alive pool of `maxConnections`,
    /// HTTP/1.1, redirects refused (a redirect could send a signed or basic-auth request elsewhere), and TLS verified
    /// against the system roots plus `caFile`'s certificates. A CA file that cannot be read is thrown as `Failure`,
    /// the service's own settings error.
    public static func makeClient<Failure: CAFileError>(
        for connection: VendorConnection, failure: Failure.Type
    ) throws(Failure) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let caFile = connection.caFile {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw .unreadableCAFile(path: caFile, reason: String(describing: error))
            }
            guard !certificates.isEmpty else { throw .unreadableCAFile(path: caFile, reason: "no certificate in it") }
            tls.additionalTrustRoots = [.certificates(certificates)]
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(connection.connectTimeout), read: TimeAmount(connection.readTimeout)),
            connectionPool: .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connection.maxConnections)
            )
        )
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// A client `make` builds on an HTTP connection pool of its own (`makeClient`), and the function
    /// that closes that pool once the client is no longer used: what each account of every service gets. A CA file
    /// that cannot be read is the service's own settings error; a client `make` refuses closes its pool at once.
    public static func withOwnPool<Client, Failure: CAFileError>(
        _ connection: VendorConnection, _ make: (HTTPClient) throws(Failure) -> Client
    ) throws(Failure) -> (client: Client, close: @Sendable () async -> Void) {
        let httpClient = try Self.makeClient(for: connection, failure: Failure.self)
        do {
            return (try make(httpClient), { try? await httpClient.shutdown() })
        } catch {
            try? httpClient.syncShutdown()
            throw error
        }
    }

    /// What a failed exchange was, as delivery retries or reports it: a timeout by its phase, a refused or broken
    /// TLS handshake, an answer over `maxBytes`, a cancelled call, or a broken connection.
    public static func redirectError(for error: any Error, maxBytes: Int) -> RedirectError {
        if let error = error as? RedirectError { return error }
        if error is CancellationError { return .cancelled }
        if error is NIOTooManyBytesError { return .responseTooLarge(limit: maxBytes) }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .getConnectionFromPoolTimeout: return .timeout(.connect)
            case .tlsHandshakeTimeout: return .timeout(.tlsHandshake)
            case .readTimeout, .deadlineExceeded, .writeTimeout: return .timeout(.response)
            case .cancelled: return .cancelled
            case .remoteConnectionClosed: return .connection("the server closed the connection")
            default: return .connection(error.shortDescription)
            }
        }
        if let error = error as? NIOSSLError { return .tls(String(describing: error)) }
        if let error = error as? BoringSSLError { return .tls(String(describing: error)) }
        if let error = error as? NIOSSLExtraError { return .tls(String(describing: error)) }
        let text = String(describing: error)
        if text.contains("SSL") || text.contains("certificate") { return .tls(text) }
        return .connection(text)
    }
}

extension Duration {
    /// Whole milliseconds, for a log line's latency.
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
