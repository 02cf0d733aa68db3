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
