/// What a platform made of one request: the one reading of its body that every later step uses.
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

extension SourceVerdict {
    /// The event's idempotency key, when the request gave one.
    public var eventID: String? {
        switch self {
        case .event(_, let eventID), .lookup(_, _, _, let eventID): eventID
        case .rejected(_, _, let eventID): eventID
        case .unauthenticated, .ignored: nil
        }
    }
}
