import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// The Hummingbird application of a stand-in: `responder` on `host` and `port` (0: a free one), HTTP/1.1, HTTPS with
/// `tls`, reporting the port it bound to `onServerRunning`.
public func makeStandInApplication<Responder: HTTPResponder>(
    responder: Responder, host: String, port: Int, tls: TLSConfiguration?, logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void
) throws -> some ApplicationProtocol where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
    Application(
        responder: responder,
        server: try tls.map { try HTTPServerBuilder.tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
        configuration: .init(address: .hostname(host, port: port), serverName: nil),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
        logger: logger
    )
}

/// A stand-in's server that answers each request with `respond(to:context:)`: its application is made the same way
/// for every such stand-in.
public protocol RespondingStandInServer: StandInServer {
    /// Answers one HTTP request.
    func respond(to request: Request, context: BasicRequestContext) async -> Response
}

extension RespondingStandInServer {
    /// Builds the Hummingbird application; `tls` serves HTTPS with the given authority's server certificate.
    public func makeApplication(
        host: String = "127.0.0.1", port: Int = 0, tls: PrivateCertificateAuthority? = nil, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let responder = CallbackResponder<BasicRequestContext> { request, context in
            await self.respond(to: request, context: context)
        }
        return try makeStandInApplication(
            responder: responder, host: host, port: port, tls: try tls?.serverTLSConfiguration(), logger: logger,
            onServerRunning: onServerRunning)
    }
}
