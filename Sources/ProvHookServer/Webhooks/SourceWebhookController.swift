import EventSources
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ProvHookCore

/// `POST` (and `GET`, for Kazoo's `http_verb: get`) `/v1/sources/{source}/events`: a PBX platform's own webhooks,
/// read by the source's kind, recorded through the same planner and transaction as the native contract, with
/// the actor `source:<name>@<address>`.
///
/// Kazoo keeps only a 200 as a success and never retries an HTTP error (only transport errors), so everything that
/// was recorded, a rejection included, is answered 200 with what happened in the body; 401 and 404 stay, since
/// they are an operator's mistake to fix on the PBX.
struct SourceWebhookController: Sendable {
    let store: Store
    let planner: EventPlanner
    let signal: WorkSignal
    let metrics: ProvHookMetrics
    let logger: Logger

    /// The paths and methods `addRoutes` serves.
    static let routes: [String: [HTTPRequest.Method]] = ["/v1/sources/{source}/events": [.get, .post]]

    func addRoutes(to router: Router<ProvHookRequestContext>) {
        router.post("/v1/sources/:source/events", use: self.receive)
        router.get("/v1/sources/:source/events", use: self.receive)
    }

    /// The answer: what became of the event.
    struct Receipt: ResponseEncodable {
        struct Failure: Encodable {
            var code: String
            var message: String
        }
        var status: String
        var event: String?
        var error: Failure?
    }

    @Sendable func receive(request: Request, context: ProvHookRequestContext) async throws -> Receipt {
        let name = context.parameters.get("source") ?? ""
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > WebhookController.maxBodyBytes {
            throw self.refusal(.contentTooLarge, "too_large", "the body exceeds 64 KiB", name)
        }
        let credentials: SourceCredentials?
        do {
            credentials = try await self.store.sourceCredentials(name: name)
        } catch {
            throw self.unavailable(error, name)
        }
        guard let credentials else {
            throw self.refusal(
                .notFound, "unknown_source", "no source \(String(name.prefix(64)).debugDescription)", name)
        }
        let body: [UInt8]
        do {
            body = Array((try await request.body.collect(upTo: WebhookController.maxBodyBytes)).readableBytesView)
        } catch {
            throw self.refusal(.contentTooLarge, "too_large", "the body exceeds 64 KiB", name)
        }
        let inbound = InboundRequest(headers: request.headers, body: body, query: request.uri.query ?? "")
        let actor = "source:\(name)@\(context.peer)"
        switch KazooSource().receive(inbound, credentials: credentials) {
        case .unauthenticated(let code, let message):
            throw self.refusal(.unauthorized, code, message, name)
        case .ignored(let reason):
            self.metrics.event(type: "other", outcome: "ignored")
            return Receipt(status: "ignored", event: reason)
        case .rejected(let rejection, let type, let eventID):
            do {
                try await self.store.journalRejection(
                    rejection, type: type, mac: nil, tenantID: credentials.tenantID, eventID: eventID, actor: actor)
            } catch {
                throw self.unavailable(error, name)
            }
            return self.rejected(rejection, type: type, eventID: eventID)
        case .event(let event, let eventID):
            let result: IngestResult
            do {
                result = try await self.store.ingest(
                    event, tenantID: credentials.tenantID, eventID: eventID,
                    payload: KazooSource.recordedPayload(inbound),
                    actor: actor, planner: self.planner)
            } catch {
                throw self.unavailable(error, name)
            }
            switch result {
            case .accepted(let queued):
                if queued { self.signal.wake() }
                self.metrics.event(type: event.type.rawValue, outcome: "accepted")
                return Receipt(status: "accepted", event: eventID)
            case .duplicate:
                self.metrics.event(type: event.type.rawValue, outcome: "duplicate")
                return Receipt(status: "duplicate", event: eventID)
            case .rejected(let rejection):
                return self.rejected(rejection, type: event.type, eventID: eventID)
            }
        }
    }

    private func rejected(_ rejection: EventRejection, type: DeviceEventType?, eventID: String?) -> Receipt {
        self.metrics.rejection(reason: rejection.code)
        self.metrics.event(type: type?.rawValue ?? "unknown", outcome: "rejected")
        return Receipt(
            status: "rejected", event: eventID, error: .init(code: rejection.code, message: rejection.message))
    }

    private func refusal(_ status: HTTPResponse.Status, _ code: String, _ message: String, _ name: String) -> APIError {
        self.metrics.rejection(reason: code)
        self.logger.notice("source webhook refused", metadata: ["source": "\(name.prefix(64))", "reason": "\(code)"])
        return APIError(status, code: code, message: message)
    }

    /// Nothing could be recorded. Kazoo does not retry it; the README says how such a gap is closed.
    private func unavailable(_ error: any Error, _ name: String) -> APIError {
        self.metrics.rejection(reason: "unavailable")
        self.logger.error(
            "cannot record a source webhook; answering 503",
            metadata: ["source": "\(name.prefix(64))", "error": "\(error)"])
        return .unavailable("the event could not be recorded; retry later")
    }
}
