import Foundation
import Hummingbird
import NIOCore
import ProvHookCore

/// The request context of provhook's routes: Hummingbird's core, the peer address for the journal's actor, and the
/// one JSON style of every answer (sorted keys, unescaped slashes, ISO 8601 dates).
public struct ProvHookRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The request's connection, closed without an answer where an answer would lose the event (`closeConnection`).
    private let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }

    /// Closes the connection before any answer is written: the sender sees a transport error. For a sender that
    /// retries only those (Kazoo), this is the one answer to "nothing could be recorded" that it retries.
    func closeConnection() {
        self.channel.close(promise: nil)
    }

    public var responseEncoder: JSONEncoder { Self.encoder }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    /// The peer's address as the journal records it.
    var peer: String { self.remoteAddress?.ipAddress ?? "unknown" }

    /// The journal's actor for a webhook: `webhook:203.0.113.7`.
    var actor: String { JournalActor.webhook(peer: self.peer).rawValue }

    /// The journal's actor for an admin API call: `admin:203.0.113.7`.
    var adminActor: String { JournalActor.admin(peer: self.peer).rawValue }
}
