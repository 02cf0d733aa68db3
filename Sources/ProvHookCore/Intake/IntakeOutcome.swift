/// What became of an event handed to the `Intake`. Metrics and HTTP answers are derived from this, and only this.
public enum IntakeOutcome: Sendable, Hashable {
    /// Committed. `queued` says whether a device now waits for a call (false when every MAC was outside the vendor
    /// filter, or the event waits for a lookup).
    case accepted(queued: Bool)
    /// The same event id was accepted before; nothing changed.
    case duplicate
    /// Not about a device, or not this provhook's business; nothing was journaled.
    case ignored(reason: String)
    /// Refused for its content, and journaled.
    case refused(EventRejection)

    /// The outcome as the answers and the metrics name it.
    public var name: String {
        switch self {
        case .accepted: "accepted"
        case .duplicate: "duplicate"
        case .ignored: "ignored"
        case .refused: "rejected"
        }
    }

    init(_ result: IngestResult) {
        switch result {
        case .accepted(let queued): self = .accepted(queued: queued)
        case .duplicate: self = .duplicate
        case .rejected(let rejection): self = .refused(rejection)
        }
    }
}
