import HTTPTypes
import Hummingbird
import Integrations
import NIOCore
import ProvHookCore

/// The body of a webhook's answer: what became of the event.
struct WebhookReceipt: ResponseEncodable {
    struct Failure: Encodable {
        var code: String
        var message: String
    }
    var status: String
    /// The event's id; for an ignored event, why it was ignored.
    var event: String?
    var error: Failure?

    init(_ outcome: IntakeOutcome, eventID: String?) {
        self.status = outcome.name
        switch outcome {
        case .ignored(let reason):
            self.event = reason
        case .refused(let rejection):
            self.event = eventID
            self.error = Failure(code: rejection.code.rawValue, message: rejection.message)
        case .accepted, .duplicate:
            self.event = eventID
        }
    }
}

extension AnswerPolicy {
    /// The one mapping of an outcome to an HTTP answer: the platform's status, the receipt as the body.
    func response(to outcome: IntakeOutcome, eventID: String?) -> EditedResponse<WebhookReceipt> {
        EditedResponse(status: self.status(for: outcome), response: WebhookReceipt(outcome, eventID: eventID))
    }

    /// A refusal as the native contract answers it: its error body, with the platform's status.
    func error(for rejection: EventRejection) -> APIError {
        APIError(self.status(for: .refused(rejection)), code: rejection.code.rawValue, message: rejection.message)
    }
}

extension Request {
    /// The whole body, or nil when it is larger than `limit`. A body that did not arrive in time rethrows the
    /// listener's `RequestBodyTimeout`: the listener closed that connection, and counted it.
    func collectWebhookBody(upTo limit: Int) async throws -> [UInt8]? {
        do {
            return Array((try await self.body.collect(upTo: limit)).readableBytesView)
        } catch let timeout as RequestBodyTimeout {
            throw timeout
        } catch {
            return nil
        }
    }
}
