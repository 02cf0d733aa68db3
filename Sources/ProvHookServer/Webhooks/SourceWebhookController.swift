import Foundation
import HTTPTypes
import Hummingbird
import Integrations
import Logging
import NIOCore
import ProvHookCore
import ProvisioningModel

/// `POST` (and `GET`, for Kazoo's `http_verb: get`) `/v1/sources/{source}/events`: a PBX platform's own webhooks,
/// read by the platform of the source's kind (`Platforms`), recorded through the intake like the native contract's,
/// with the actor `source:<name>@<address>`.
///
/// Each platform's answers fit how it retries (its `AnswerPolicy`):
/// - Kazoo keeps only a 200 as a success and never retries an HTTP error (only transport errors), so everything
///   that was recorded from Kazoo, a rejection included, is answered 200 with what happened in the body.
/// - Wazo's webhookd retries every 4xx and 5xx up to 10 times, except 410: a recorded rejection, which no retry
///   can change, is answered 410; what was accepted 202; a duplicate or another kind of event 200.
/// - A mapped panel gets the native contract's 202, 200 and 400.
/// 401 and 404 stay for all, since they are an operator's mistake to fix, and so does 503 when nothing could be
/// recorded (the README says what each platform makes of it).
struct SourceWebhookController: Sendable {
    let store: Store
    /// Records what the platform read.
    let intake: Intake
    let metrics: ProvHookMetrics
    let logger: Logger

    func addRoutes(to router: Router<ProvHookRequestContext>) {
        router.post("/v1/sources/:source/events", use: self.receive)
        router.get("/v1/sources/:source/events", use: self.receive)
    }

    @Sendable func receive(
        request: Request, context: ProvHookRequestContext
    ) async throws -> EditedResponse<WebhookReceipt> {
        let name = context.parameters.get("source") ?? ""
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > WebhookController.maxBodyBytes {
            throw self.refusal(.contentTooLarge, "too_large", "the body exceeds 64 KiB", name, known: false)
        }
        let credentials: SourceCredentials?
        do {
            credentials = try await self.store.sourceCredentials(name: name)
        } catch {
            // The platform's own headers say who is asking when the database cannot.
            let closing = Platforms.closesConnectionWhenUnavailable(request.headers)
            throw self.unavailable(error, name, known: false, closing: closing ? context : nil)
        }
        guard let credentials else { throw self.unknownSource(name, known: false) }
        guard let body = try await request.collectWebhookBody(upTo: WebhookController.maxBodyBytes) else {
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
                    throw self.unavailable(error, name, known: true, closing: self.closing(current, context))
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
            known: true, closing: self.closing(current, context))
    }

    /// The context whose connection is closed when nothing can be recorded, for a platform that wants it so.
    private func closing(
        _ credentials: SourceCredentials, _ context: ProvHookRequestContext
    ) -> ProvHookRequestContext? {
        Platforms.platform(for: credentials.kind).answers.closesConnectionWhenUnavailable ? context : nil
    }

    /// Reads, authenticates and records one request with `credentials`; nil when they were no longer the source's
    /// by the time it was recorded (nothing was written).
    private func answer(
        _ inbound: InboundRequest, credentials: SourceCredentials, name: String, context: ProvHookRequestContext
    ) async throws -> EditedResponse<WebhookReceipt>? {
        let platform = Platforms.platform(for: credentials.kind)
        // One reading of the body gives the verdict, the account and the payload alike.
        guard let reading = platform.reading(of: inbound, credentials: credentials) else {
            throw self.refusal(
                .notFound, "no_webhooks",
                "source \(name) is \(platform.displayName), which sends no webhooks; it is synced", name, known: true)
        }
        let verdict = reading.verdict
        if case .unauthenticated(let code, let message) = verdict {
            throw self.refusal(.unauthorized, code, message, name, known: true)
        }
        var account = reading.account
        if case .lookup(_, _, let lookupAccount, _) = verdict { account = lookupAccount ?? account }
        let outcome: IntakeOutcome?
        if case .ignored(let reason) = verdict {
            outcome = self.intake.ignored(reason, source: name)
        } else if let tenantID = credentials.tenant(forAccount: account) {
            do {
                outcome = try await self.intake.record(
                    verdict, tenantID: tenantID, payload: reading.payload,
                    actor: JournalActor.source(name, peer: context.peer).rawValue,
                    source: name, authority: .source(name: name, version: credentials.version))
            } catch {
                throw self.unavailable(error, name, known: true, closing: self.closing(credentials, context))
            }
        } else {
            // A reseller hook fires for every sub-account; one that is not mapped is not this source's business.
            self.logger.notice(
                "source event for an account that is not mapped; ignored",
                metadata: ["source": "\(name)", "account_id": "\(account?.prefix(64) ?? "none")"])
            outcome = self.intake.ignored(
                "account \(account?.prefix(64) ?? "none") is not mapped to a tenant", source: name)
        }
        return outcome.map { platform.answers.response(to: $0, eventID: verdict.eventID) }
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
