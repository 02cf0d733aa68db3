import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SnomRedirect
import WebhookSignature

/// `POST /v1/tenants/{tenant}/events`: authenticates a PBX's webhook, records it, and answers 2xx only after COMMIT.
struct WebhookController: Sendable {
    let store: Store
    let authenticator: WebhookAuthenticator
    let vendors: VendorFilter
    let signal: WorkSignal
    let metrics: ProvHookMetrics
    let logger: Logger

    func addRoutes(to router: Router<ProvHookRequestContext>) {
        router.post("/v1/tenants/:tenant/events", use: self.receive)
    }

    @Sendable func receive(request: Request, context: ProvHookRequestContext) async throws -> Response {
        let tenantID = context.parameters.get("tenant") ?? ""
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > WebhookEvent.maxBodyBytes {
            return self.refuse(.contentTooLarge, "too_large", "the body exceeds \(WebhookEvent.maxBodyBytes) bytes", tenantID, context)
        }
        let credentials: TenantCredentials?
        do {
            credentials = try await self.store.credentials(tenantID: tenantID)
        } catch {
            return self.unavailable(error, tenantID: tenantID)
        }
        guard let credentials else {
            return self.refuse(.notFound, "unknown_tenant", "no tenant \(String(tenantID.prefix(64)).debugDescription)", tenantID, context)
        }
        let body: [UInt8]
        do {
            body = Array((try await request.body.collect(upTo: WebhookEvent.maxBodyBytes)).readableBytesView)
        } catch {
            return self.refuse(.contentTooLarge, "too_large", "the body exceeds \(WebhookEvent.maxBodyBytes) bytes", tenantID, context)
        }

        var webhookID = request.headers[.webhookID]
        let authorization = request.headers[.authorization]
        if credentials.allowBearer, let authorization, authorization.lowercased().hasPrefix("bearer ") {
            guard self.authenticator.verifyBearer(authorization, secret: credentials.secret) else {
                let failure = WebhookAuthenticationFailure.badBearer
                return self.refuse(.unauthorized, failure.rawValue, failure.message, tenantID, context)
            }
            // A panel that cannot sign may not send an id either; such events cannot be deduplicated.
            if webhookID == nil { webhookID = "bearer_" + UUID().uuidString.lowercased() }
        } else {
            let verdict = self.authenticator.verify(
                id: webhookID, timestamp: request.headers[.webhookTimestamp],
                signatures: request.headers[.webhookSignature], body: body, secret: credentials.secret)
            if case .failure(let failure) = verdict {
                return self.refuse(.unauthorized, failure.rawValue, failure.message, tenantID, context)
            }
        }
        guard let webhookID, (1...256).contains(webhookID.utf8.count),
            webhookID.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else {
            return await self.reject(
                WebhookEventError(code: "invalid_webhook_id", message: "webhook-id must be 1 to 256 printable ASCII characters"),
                type: nil, mac: nil, tenantID: tenantID, webhookID: nil, context: context)
        }

        let event: WebhookEvent
        do {
            event = try WebhookEvent.parse(body)
        } catch {
            return await self.reject(error, type: nil, mac: nil, tenantID: tenantID, webhookID: webhookID, context: context)
        }
        do {
            switch try await self.store.ingest(
                event, tenantID: tenantID, webhookID: webhookID, payload: body, actor: context.actor, vendors: self.vendors)
            {
            case .accepted(let queued):
                if queued { self.signal.wake() }
                self.metrics.event(type: event.type, outcome: "accepted")
                return JSONResponse.make(.accepted, ["status": "accepted", "event": webhookID])
            case .duplicate:
                self.metrics.event(type: event.type, outcome: "duplicate")
                return JSONResponse.make(.ok, ["status": "duplicate", "event": webhookID])
            case .rejected(let rejection):
                self.metrics.event(type: event.type, outcome: "rejected")
                self.metrics.rejection(reason: rejection.code)
                return JSONResponse.error(.badRequest, code: rejection.code, message: rejection.message)
            }
        } catch {
            return self.unavailable(error, tenantID: tenantID)
        }
    }

    /// A refusal before authentication succeeded: counted and logged, never journaled, no secrets anywhere.
    private func refuse(
        _ status: HTTPResponse.Status, _ code: String, _ message: String, _ tenantID: String, _ context: ProvHookRequestContext
    ) -> Response {
        self.metrics.rejection(reason: code)
        self.logger.notice(
            "webhook refused",
            metadata: ["tenant": "\(tenantID.prefix(64))", "reason": "\(code)", "source": "\(context.actor)"])
        return JSONResponse.error(status, code: code, message: message)
    }

    /// An authenticated webhook refused for its content: journaled first, then 400 (503 if it cannot be journaled).
    private func reject(
        _ rejection: WebhookEventError, type: String?, mac: MACAddress?, tenantID: String, webhookID: String?,
        context: ProvHookRequestContext
    ) async -> Response {
        do {
            try await self.store.journalRejection(rejection, type: type, mac: mac, tenantID: tenantID, webhookID: webhookID, actor: context.actor)
        } catch {
            return self.unavailable(error, tenantID: tenantID)
        }
        self.metrics.rejection(reason: rejection.code)
        self.metrics.event(type: type ?? "unknown", outcome: "rejected")
        return JSONResponse.error(.badRequest, code: rejection.code, message: rejection.message)
    }

    private func unavailable(_ error: any Error, tenantID: String) -> Response {
        self.metrics.rejection(reason: "unavailable")
        self.logger.error("cannot record a webhook; answering 503", metadata: ["tenant": "\(tenantID.prefix(64))", "error": "\(error)"])
        var response = JSONResponse.error(.serviceUnavailable, code: "unavailable", message: "the event could not be recorded; retry later")
        response.headers[.retryAfter] = "5"
        return response
    }
}

extension HTTPField.Name {
    /// Standard Webhooks' headers.
    static let webhookID = Self("webhook-id")!
    static let webhookTimestamp = Self("webhook-timestamp")!
    static let webhookSignature = Self("webhook-signature")!
}
