import EventSources
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ProvHookCore
import SnomRedirect

/// `POST` (and `GET`, for Kazoo's `http_verb: get`) `/v1/sources/{source}/events`: a PBX platform's own webhooks,
/// read by the source's kind, recorded through the same planner and transaction as the native contract, with
/// the actor `source:<name>@<address>`.
///
/// Kazoo keeps only a 200 as a success and never retries an HTTP error (only transport errors), so everything that
/// was recorded from Kazoo, a rejection included, is answered 200 with what happened in the body; a mapped panel
/// gets the native contract's 202, 200 and 400. 401 and 404 stay, since they are an operator's mistake to fix.
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

    @Sendable func receive(
        request: Request, context: ProvHookRequestContext
    ) async throws -> EditedResponse<Receipt> {
        let (kind, receipt) = try await self.record(request: request, context: context)
        // Kazoo: 200 for all it recorded (it drops anything else). A mapped panel: the native contract's statuses.
        let status: HTTPResponse.Status =
            switch (kind, receipt.status) {
            case (.kazoo, _), (_, "duplicate"), (_, "ignored"): .ok
            case (_, "accepted"): .accepted
            default: .badRequest
            }
        return EditedResponse(status: status, response: receipt)
    }

    private func record(
        request: Request, context: ProvHookRequestContext
    ) async throws -> (SourceKind, Receipt) {
        let name = context.parameters.get("source") ?? ""
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > WebhookController.maxBodyBytes {
            throw self.refusal(.contentTooLarge, "too_large", "the body exceeds 64 KiB", name, known: false)
        }
        let credentials: SourceCredentials?
        do {
            credentials = try await self.store.sourceCredentials(name: name)
        } catch {
            throw self.unavailable(error, name, known: false)
        }
        guard let credentials else {
            throw self.refusal(
                .notFound, "unknown_source", "no source \(String(name.prefix(64)).debugDescription)", name, known: false
            )
        }
        let body: [UInt8]
        do {
            body = Array((try await request.body.collect(upTo: WebhookController.maxBodyBytes)).readableBytesView)
        } catch {
            throw self.refusal(.contentTooLarge, "too_large", "the body exceeds 64 KiB", name, known: true)
        }
        let inbound = InboundRequest(headers: request.headers, body: body, query: request.uri.query ?? "")
        let actor = "source:\(name)@\(context.peer)"
        let verdict =
            switch credentials.kind {
            case .kazoo: KazooSource().receive(inbound, credentials: credentials)
            case .mapping: MappingSource().receive(inbound, credentials: credentials)
            }
        switch verdict {
        case .unauthenticated(let code, let message):
            throw self.refusal(.unauthorized, code, message, name, known: true)
        case .ignored(let reason):
            self.metrics.event(type: "other", outcome: "ignored", source: name)
            return (credentials.kind, Receipt(status: "ignored", event: reason))
        case .rejected(let rejection, let type, let eventID):
            do {
                try await self.store.journalRejection(
                    rejection, type: type, mac: nil, tenantID: credentials.tenantID, eventID: eventID, actor: actor)
            } catch {
                throw self.unavailable(error, name, known: true)
            }
            return (credentials.kind, self.rejected(rejection, type: type, eventID: eventID, source: name))
        case .event(let event, let eventID):
            let result: IngestResult
            do {
                result = try await self.store.ingest(
                    event, tenantID: credentials.tenantID, eventID: eventID,
                    payload: KazooSource.recordedPayload(inbound),
                    actor: actor, planner: self.planner)
            } catch {
                throw self.unavailable(error, name, known: true)
            }
            switch result {
            case .accepted(let queued):
                if queued { self.signal.wake() }
                self.metrics.event(type: event.type.rawValue, outcome: "accepted", source: name)
                return (credentials.kind, Receipt(status: "accepted", event: eventID))
            case .duplicate:
                self.metrics.event(type: event.type.rawValue, outcome: "duplicate", source: name)
                return (credentials.kind, Receipt(status: "duplicate", event: eventID))
            case .rejected(let rejection):
                return (credentials.kind, self.rejected(rejection, type: event.type, eventID: eventID, source: name))
            }
        }
    }

    /// What is kept of a mapped event: the event as provhook read it, in the native contract's shape (the panel's
    /// body may hold anything, secrets included).
    static func mappedPayload(_ event: DeviceEvent) -> [UInt8] {
        var fields: [String: String] = ["type": event.type.rawValue]
        if let mac = event.primaryMAC { fields["mac"] = mac.canonical }
        if let deviceID = event.deviceID { fields["device_id"] = deviceID }
        let json = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(json)
    }

    private func rejected(
        _ rejection: EventRejection, type: DeviceEventType?, eventID: String?, source: String
    ) -> Receipt {
        self.metrics.rejection(reason: rejection.code, source: source)
        self.metrics.event(type: type?.rawValue ?? "unknown", outcome: "rejected", source: source)
        return Receipt(
            status: "rejected", event: eventID, error: .init(code: rejection.code, message: rejection.message))
    }

    /// The metrics label a source by name only once it is known to exist, so that requests for made-up names cannot
    /// grow the metrics without bound.
    private func refusal(
        _ status: HTTPResponse.Status, _ code: String, _ message: String, _ name: String, known: Bool
    ) -> APIError {
        self.metrics.rejection(reason: code, source: known ? name : "unknown")
        self.logger.notice("source webhook refused", metadata: ["source": "\(name.prefix(64))", "reason": "\(code)"])
        return APIError(status, code: code, message: message)
    }

    /// Nothing could be recorded. Kazoo does not retry it; the README says how such a gap is closed.
    private func unavailable(_ error: any Error, _ name: String, known: Bool) -> APIError {
        self.metrics.rejection(reason: "unavailable", source: known ? name : "unknown")
        self.logger.error(
            "cannot record a source webhook; answering 503",
            metadata: ["source": "\(name.prefix(64))", "error": "\(error)"])
        return .unavailable("the event could not be recorded; retry later")
    }
}
