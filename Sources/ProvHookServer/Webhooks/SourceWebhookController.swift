import EventSources
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ProvHookCore
import ProvisioningModel

/// `POST` (and `GET`, for Kazoo's `http_verb: get`) `/v1/sources/{source}/events`: a PBX platform's own webhooks,
/// read by the source's kind, recorded through the same planner and transaction as the native contract, with
/// the actor `source:<name>@<address>`.
///
/// Each platform's answers fit how it retries:
/// - Kazoo keeps only a 200 as a success and never retries an HTTP error (only transport errors), so everything
///   that was recorded from Kazoo, a rejection included, is answered 200 with what happened in the body.
/// - Wazo's webhookd retries every 4xx and 5xx up to 10 times, except 410: a recorded rejection, which no retry
///   can change, is answered 410; what was accepted 202; a duplicate or another kind of event 200.
/// - A mapped panel gets the native contract's 202, 200 and 400.
/// 401 and 404 stay for all, since they are an operator's mistake to fix, and so does 503 when nothing could be
/// recorded (the README says what each platform makes of it).
struct SourceWebhookController: Sendable {
    let store: Store
    let planner: EventPlanner
    let signal: WorkSignal
    /// Wakes the lookup worker when an event waits for one.
    let lookupSignal: WorkSignal
    let metrics: ProvHookMetrics
    let logger: Logger

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
        let status: HTTPResponse.Status =
            switch (kind, receipt.status) {
            case (.kazoo, _), (_, "duplicate"), (_, "ignored"): .ok
            case (_, "accepted"): .accepted
            case (.wazo, _): .gone
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
            // Kazoo's own header says who is asking when the database cannot.
            let isKazoo = request.headers[HTTPField.Name("X-Hook-ID")!] != nil
            throw self.unavailable(error, name, known: false, closing: isKazoo ? context : nil)
        }
        guard let credentials else { throw self.unknownSource(name, known: false) }
        let body: [UInt8]
        do {
            body = Array((try await request.body.collect(upTo: WebhookController.maxBodyBytes)).readableBytesView)
        } catch let timeout as RequestBodyTimeout {
            // Not a body too large: the listener closed the connection of a request that did not arrive in time,
            // and counted it.
            throw timeout
        } catch {
            throw self.refusal(.contentTooLarge, "too_large", "the body exceeds 64 KiB", name, known: true)
        }
        let inbound = InboundRequest(headers: request.headers, body: body, query: request.uri.query ?? "")
        // The body may have taken a while: what it is recorded under is checked again when it is recorded, and a
        // source whose token was rotated (or that was removed) meanwhile authenticates the request again, as it is
        // now.
        var current = credentials
        for attempt in 1...WebhookController.authenticationAttempts {
            if attempt > 1 {
                let fresh: SourceCredentials?
                do {
                    fresh = try await self.store.sourceCredentials(name: name)
                } catch {
                    throw self.unavailable(error, name, known: true, closing: current.kind == .kazoo ? context : nil)
                }
                guard let fresh else { throw self.unknownSource(name, known: true) }
                current = fresh
            }
            if let answer = try await self.answer(inbound, credentials: current, name: name, context: context) {
                return answer
            }
        }
        throw self.unavailable(
            DatabaseError(context: "recording the event", reason: "the source's token kept changing"), name,
            known: true, closing: current.kind == .kazoo ? context : nil)
    }

    /// Reads, authenticates and records one request with `credentials`; nil when they were no longer the source's
    /// by the time it was recorded (nothing was written).
    private func answer(
        _ inbound: InboundRequest, credentials: SourceCredentials, name: String, context: ProvHookRequestContext
    ) async throws -> (SourceKind, Receipt)? {
        let source = (name: name, version: credentials.version)
        let closing = credentials.kind == .kazoo ? context : nil
        let actor = JournalActor.source(name, peer: context.peer).rawValue
        let verdict: SourceVerdict
        var account: String?
        let payload: [UInt8]
        switch credentials.kind {
        case .kazoo:
            // One reading of the body gives the verdict, the account and the payload alike.
            let reading = KazooSource().read(inbound, credentials: credentials)
            (verdict, account, payload) = (reading.verdict, reading.account, reading.payload)
        case .wazo:
            verdict = WazoSource().receive(inbound, credentials: credentials)
            payload = WazoSource.recordedPayload(inbound)
        case .mapping:
            verdict = MappingSource().receive(inbound, credentials: credentials)
            payload = []
        case .fusionpbx:
            throw self.refusal(
                .notFound, "no_webhooks", "source \(name) is FusionPBX, which sends no webhooks; it is synced", name,
                known: true)
        }
        if case .unauthenticated(let code, let message) = verdict {
            throw self.refusal(.unauthorized, code, message, name, known: true)
        }
        if case .ignored(let reason) = verdict {
            self.metrics.event(type: "other", outcome: "ignored", source: name)
            return (credentials.kind, Receipt(status: "ignored", event: reason))
        }
        if case .lookup(_, _, let lookupAccount, _) = verdict { account = lookupAccount ?? account }
        guard let tenantID = credentials.tenant(forAccount: account) else {
            // A reseller hook fires for every sub-account; one that is not mapped is not this source's business.
            self.metrics.event(type: "other", outcome: "ignored", source: name)
            self.logger.notice(
                "source event for an account that is not mapped; ignored",
                metadata: ["source": "\(name)", "account_id": "\(account?.prefix(64) ?? "none")"])
            return (
                credentials.kind,
                Receipt(status: "ignored", event: "account \(account?.prefix(64) ?? "none") is not mapped to a tenant")
            )
        }
        switch verdict {
        case .unauthenticated, .ignored:
            preconditionFailure("answered above")
        case .rejected(let rejection, let type, let eventID):
            let journaled: Bool
            do {
                journaled = try await self.store.journalRejection(
                    rejection, type: type, mac: nil, tenantID: tenantID, eventID: eventID, actor: actor, source: source)
            } catch {
                throw self.unavailable(error, name, known: true, closing: closing)
            }
            guard journaled else { return nil }
            return (credentials.kind, self.rejected(rejection, type: type, eventID: eventID, source: name))
        case .lookup(let type, let deviceID, let lookupAccount, let eventID):
            let queued: IngestResult?
            do {
                queued = try await self.store.queueLookup(
                    PendingLookup(
                        source: name, tenantID: tenantID, eventID: eventID, type: type, deviceID: deviceID,
                        accountID: lookupAccount, actor: actor), sourceCredentials: source.version)
            } catch {
                throw self.unavailable(error, name, known: true, closing: closing)
            }
            guard let result = queued else { return nil }
            if case .accepted = result { self.lookupSignal.wake() }
            return (credentials.kind, self.receipt(result, type: type, eventID: eventID, source: name))
        case .event(let event, let eventID):
            let recorded: IngestResult?
            do {
                if case .removed(_, let deviceID?) = event {
                    try await self.store.supersedeLookups(tenantID: tenantID, deviceID: deviceID, actor: actor)
                }
                recorded = try await self.store.ingest(
                    event, tenantID: tenantID, eventID: eventID,
                    payload: payload.isEmpty ? Self.mappedPayload(event) : payload, actor: actor,
                    planner: self.planner, source: name, sourceCredentials: source.version)
            } catch {
                throw self.unavailable(error, name, known: true, closing: closing)
            }
            guard let result = recorded else { return nil }
            if case .accepted(true) = result { self.signal.wake() }
            return (credentials.kind, self.receipt(result, type: event.type, eventID: eventID, source: name))
        }
    }

    private func receipt(
        _ result: IngestResult, type: DeviceEventType, eventID: String, source: String
    ) -> Receipt {
        switch result {
        case .accepted:
            self.metrics.event(type: type.rawValue, outcome: "accepted", source: source)
            return Receipt(status: "accepted", event: eventID)
        case .duplicate:
            self.metrics.event(type: type.rawValue, outcome: "duplicate", source: source)
            return Receipt(status: "duplicate", event: eventID)
        case .rejected(let rejection):
            return self.rejected(rejection, type: type, eventID: eventID, source: source)
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

    /// The 404 for a source that does not exist, or no longer does (`known`: it did when the request began).
    private func unknownSource(_ name: String, known: Bool) -> APIError {
        self.refusal(
            .notFound, "unknown_source", "no source \(String(name.prefix(64)).debugDescription)", name, known: known)
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

    /// Nothing could be recorded: 503, which Wazo and most panels retry. Kazoo drops every HTTP error and retries
    /// only transport errors, so for Kazoo (`closing`) the connection is closed without an answer instead, and Kazoo
    /// sends the event again 2 s later, as many times as the hook's `retries` allows.
    private func unavailable(
        _ error: any Error, _ name: String, known: Bool, closing context: ProvHookRequestContext?
    ) -> APIError {
        self.metrics.rejection(reason: "unavailable", source: known ? name : "unknown")
        self.logger.error(
            context == nil
                ? "cannot record a source webhook; answering 503"
                : "cannot record a Kazoo webhook; closing the connection so that Kazoo retries",
            metadata: ["source": "\(name.prefix(64))", "error": "\(error)"])
        context?.closeConnection()
        return .unavailable("the event could not be recorded; retry later")
    }
}
