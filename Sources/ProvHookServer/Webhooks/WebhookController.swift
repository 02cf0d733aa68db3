import HTTPTypes
import Hummingbird
import Integrations
import Logging
import NIOCore
import ProvHookCore

/// `POST /v1/tenants/{tenant}/events`: hands a PBX's request to the native platform, records what it makes of it
/// through the intake, and answers 2xx only after COMMIT.
struct WebhookController: Sendable {
    /// The largest body accepted: 64 KiB.
    static let maxBodyBytes = 64 * 1024

    let store: Store
    /// Records what the platform read.
    let intake: Intake
    /// Who sends to this route, how they authenticate, and how they are answered.
    let platform: any Platform<TenantCredentials>
    let metrics: ProvHookMetrics
    let logger: Logger
    /// The tenants' credentials as last read, for a few seconds; an event is recorded only while they are current.
    let credentialsCache = TenantCredentialsCache()

    func addRoutes(to router: Router<ProvHookRequestContext>) {
        router.post("/v1/tenants/:tenant/events", use: self.receive)
    }

    @Sendable func receive(
        request: Request, context: ProvHookRequestContext
    ) async throws -> EditedResponse<WebhookReceipt> {
        let tenantID = context.parameters.get("tenant") ?? ""
        let tooLarge = "the body exceeds \(Self.maxBodyBytes) bytes"
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > Self.maxBodyBytes {
            throw self.refusal(.contentTooLarge, "too_large", tooLarge, tenantID, context)
        }
        guard var (credentials, cached) = try await self.credentials(tenantID, fresh: false) else {
            throw self.unknownTenant(tenantID, context)
        }
        guard let body = try await request.collectWebhookBody(upTo: Self.maxBodyBytes) else {
            throw self.refusal(.contentTooLarge, "too_large", tooLarge, tenantID, context)
        }

        // Cached credentials that refuse the request, or that changed before its event was recorded, are read again
        // and the request authenticated again; a tenant whose credentials keep changing is answered 503.
        for attempt in 1...Self.authenticationAttempts {
            if attempt > 1 {
                guard let current = try await self.credentials(tenantID, fresh: true) else {
                    throw self.unknownTenant(tenantID, context)
                }
                (credentials, cached) = current
            }
            guard
                let reading = self.platform.reading(
                    of: InboundRequest(headers: request.headers, body: body), credentials: credentials)
            else {
                throw APIError(.internalServerError, code: "internal", message: "the platform reads no webhooks")
            }
            switch reading.verdict {
            case .unauthenticated where cached:
                continue
            case .unauthenticated(let code, let message):
                throw self.refusal(.unauthorized, code, message, tenantID, context)
            case .lookup:
                // The native contract names the MAC of every event that needs one; it never asks for a lookup.
                throw APIError(
                    .internalServerError, code: "internal", message: "the event needs a lookup this contract has not")
            case .event, .rejected, .ignored:
                break
            }
            let outcome: IntakeOutcome?
            do {
                outcome = try await self.intake.record(
                    reading.verdict, tenantID: tenantID, payload: reading.payload, actor: context.actor,
                    authority: .tenant(version: credentials.version, cached: cached))
            } catch {
                throw self.unavailable(error, tenantID: tenantID)
            }
            // Stale cached credentials recorded nothing: the request is authenticated again with fresh ones.
            guard let outcome else { continue }
            if case .refused(let rejection) = outcome { throw self.platform.answers.error(for: rejection) }
            return self.platform.answers.response(to: outcome, eventID: reading.verdict.eventID)
        }
        throw self.unavailable(
            DatabaseError(context: "recording the event", reason: "the tenant's credentials kept changing"),
            tenantID: tenantID)
    }

    /// How often a request is authenticated, the first time perhaps with cached credentials.
    static let authenticationAttempts = 3

    /// The tenant's credentials, from the cache unless `fresh` (and then kept in it), with whether they came from
    /// it; nil for no such tenant.
    private func credentials(_ tenantID: String, fresh: Bool) async throws -> (TenantCredentials, cached: Bool)? {
        if !fresh, let cached = self.credentialsCache.get(tenantID) { return (cached, true) }
        let credentials: TenantCredentials?
        do {
            credentials = try await self.store.credentials(tenantID: tenantID)
        } catch {
            throw self.unavailable(error, tenantID: tenantID)
        }
        self.credentialsCache.set(credentials, for: tenantID)
        return credentials.map { ($0, false) }
    }

    /// The 404 for a tenant that does not exist or was removed.
    private func unknownTenant(_ tenantID: String, _ context: ProvHookRequestContext) -> APIError {
        self.refusal(
            .notFound, "unknown_tenant", "no tenant \(String(tenantID.prefix(64)).debugDescription)", tenantID, context)
    }

    /// A refusal before authentication succeeded: counted and logged, never journaled, no secrets anywhere.
    private func refusal(
        _ status: HTTPResponse.Status, _ code: String, _ message: String, _ tenantID: String,
        _ context: ProvHookRequestContext
    ) -> APIError {
        self.metrics.rejection(reason: code)
        self.logger.notice(
            "webhook refused",
            metadata: ["tenant": "\(tenantID.prefix(64))", "reason": "\(code)", "source": "\(context.actor)"])
        return APIError(status, code: code, message: message)
    }

    /// The event could not be recorded: 503, and the PBX retries.
    private func unavailable(_ error: any Error, tenantID: String) -> APIError {
        self.metrics.rejection(reason: "unavailable")
        self.logger.error(
            "cannot record a webhook; answering 503",
            metadata: ["tenant": "\(tenantID.prefix(64))", "error": "\(error)"])
        return .unavailable("the event could not be recorded; retry later")
    }
}
