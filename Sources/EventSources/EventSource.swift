import HTTPTypes
import ProvHookCore

/// Turns one inbound request into a checked event. A source knows its sender's format and how the sender
/// authenticates; it never touches the database or the journal: the listener records what it answers, through the
/// planner and the store, in one transaction.
///
/// A new webhook format is a new type conforming to this protocol, in a file of its own in this folder.
public protocol EventSource<Credentials>: Sendable {
    /// What authenticates the sender: a tenant's secret for the native contract, a source's token for a platform.
    associatedtype Credentials: Sendable

    /// Authenticates `request` against the credentials and parses its body.
    func receive(_ request: InboundRequest, credentials: Credentials) -> SourceVerdict
}

/// A request as the listener received it, body collected (within the listener's size limit).
public struct InboundRequest: Sendable {
    /// The request's headers, as sent.
    public var headers: HTTPFields
    /// The whole body.
    public var body: [UInt8]
    /// The query string, undecoded (without `?`); never logged, since a platform may carry its token there.
    public var query: String

    public init(headers: HTTPFields, body: [UInt8], query: String = "") {
        (self.headers, self.body, self.query) = (headers, body, query)
    }
}

/// What a source made of a request.
public enum SourceVerdict: Sendable, Hashable {
    /// Authenticated and checked: record it under `eventID`, the sender's idempotency key.
    case event(DeviceEvent, eventID: String)
    /// Authenticated and checked, but it names its device only by the PBX's id: recorded, then looked up in the
    /// source's PBX API for the MAC (`PendingLookup`). `account` is the PBX account the device is in, if said.
    case lookup(DeviceEventType, deviceID: String, account: String?, eventID: String)
    /// Authenticated, but its content is refused: journaled, then answered as a client error. `type` is the event's
    /// type when the body said which.
    case rejected(EventRejection, type: DeviceEventType?, eventID: String?)
    /// Not authenticated: answered 401, counted, never journaled.
    case unauthenticated(code: String, message: String)
    /// Authenticated, and not about a device (a platform's hook on another kind of object): answered as a success,
    /// counted, not journaled.
    case ignored(reason: String)
}
