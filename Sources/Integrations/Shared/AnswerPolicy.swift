import HTTPTypes
import ProvHookCore

/// How a platform's webhooks are answered, so that its retries do what they should: a platform that retries
/// every error must not retry a refusal no retry can change.
public struct AnswerPolicy: Sendable, Hashable {
    public var accepted: HTTPResponse.Status
    public var duplicate: HTTPResponse.Status
    public var ignored: HTTPResponse.Status
    public var refused: HTTPResponse.Status
    /// Whether, when nothing could be recorded, the connection is closed without an answer (for a platform that
    /// retries only transport errors) rather than answered 503.
    public var closesConnectionWhenUnavailable: Bool

    public init(
        accepted: HTTPResponse.Status, duplicate: HTTPResponse.Status, ignored: HTTPResponse.Status,
        refused: HTTPResponse.Status, closesConnectionWhenUnavailable: Bool = false
    ) {
        (self.accepted, self.duplicate, self.ignored, self.refused) = (accepted, duplicate, ignored, refused)
        self.closesConnectionWhenUnavailable = closesConnectionWhenUnavailable
    }

    /// The native contract's: 202 accepted, 200 for a duplicate or an ignored event, 400 refused.
    public static let native = AnswerPolicy(accepted: .accepted, duplicate: .ok, ignored: .ok, refused: .badRequest)

    /// The status of what became of an event.
    public func status(for outcome: IntakeOutcome) -> HTTPResponse.Status {
        switch outcome {
        case .accepted: self.accepted
        case .duplicate: self.duplicate
        case .ignored: self.ignored
        case .refused: self.refused
        }
    }
}
