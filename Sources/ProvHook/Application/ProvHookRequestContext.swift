import Hummingbird
import NIOCore

/// The request context of provhook's routes: Hummingbird's core, plus the peer address for the journal's actor.
public struct ProvHookRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The peer as the journal records it: `webhook:203.0.113.7`.
    var actor: String { "webhook:\(self.remoteAddress?.ipAddress ?? "unknown")" }
}
