import EventSources
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ProvHookCore

/// `POST /v1/tenants/{tenant}/events`: hands a PBX's request to its event source, records what the source makes of
/// it, and answers 2xx only after COMMIT.
struct WebhookController: Sendable {
    /// The largest body accepted: 64 KiB.
    static let maxBodyBytes = 64 * 1024

    let store: Store
    /// What an event means for the devices.
    let planner: EventPlanner
    /// Wakes this process's worker once an event queued work.
    let signal: WorkSignal
    /// Who sends to this route, and how they authenticate.
    let source: any EventSource<TenantCredentials>
    let metrics: ProvHookMetrics
    let logger: Logger
    /// The tenants' credentials as last read, for a few seconds; an event is recorded only while they are current.
    let credentialsCache = TenantCredentialsCache()

    func addRoutes(to router: Router<ProvHookRequestContext>) {
        router.post("/v1/tenants/:tenant/events", use: self.receive)
    }

    /// The answer to an event that was recorded.
    struct Receipt: ResponseEncodable {
        var status: String
        var event: String
    }

    @Sendable func receive(request: Request, context: ProvHookRequestContext) async throws -> EditedResponse<Receipt> {
        let tenantID = context.parameters.get("tenant") ?? ""
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > Self.maxBodyBytes {
            throw self.refusal(
                .contentTooLarge, "too_large", "the body exceeds \(Self.maxBodyBytes) bytes", tenantID, context)
        }
        guard var (credentials, cached) = try await self.credentials(tenantID, fresh: false) else {
            throw self.unknownTenant(tenantID, context)
        }
        let body: [UInt8]
        do {
            body = Array((try await request.body.collect(upTo: Self.maxBodyBytes)).readableBytesView)
        } catch let timeout as RequestBodyTimeout {
            // Not a body too large: the listener closed the connection of a request that did not arrive in time,
            // and counted it.
            throw timeout
        } catch {
            throw self.refusal(
                .contentTooLarge, "too_large", "the body exceeds \(Self.maxBodyBytes) bytes", tenantID, context)
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
            switch self.source.receive(
                InboundRequest(headers: request.headers, body: body), credentials: credentials)
            {
            case .unauthenticated where cached:
                continue
            case .unauthenticated(let code, let message):
                throw self.refusal(.unauthorized, code, message, tenantID, context)
            case .ignored(let reason):
                self.metrics.event(type: "other", outcome: "ignored")
                return EditedResponse(status: .ok, response: Receipt(status: "ignored", event: reason))
            case .lookup:
                // The native contract names the MAC of every event that needs one; its source never asks for a lookup.
                throw APIError(
                    .internalServerError, code: "internal", message: "the event needs a lookup this contract has not")
            case .rejected(let rejection, let type, let eventID):
                let journaled: Bool
                do {
                    journaled = try await self.store.journalRejection(
                        rejection, type: type, mac: nil, tenantID: tenantID, eventID: eventID, actor: context.actor,
                        cachedCredentials: cached ? credentials.version : nil)
                } catch {
                    throw self.unavailable(error, tenantID: tenantID)
                }
                // Stale cached credentials journal nothing: the request is authenticated again with fresh ones.
                guard journaled else { continue }
                throw self.rejected(rejection, type: type)
            case .event(let event, let eventID):
                let recorded: IngestResult?
                do {
                    recorded = try await self.store.ingest(
                        event, tenantID: tenantID, eventID: eventID, payload: body, actor: context.actor,
                        planner: self.planner, cachedCredentials: credentials.version)
                } catch {
                    throw self.unavailable(error, tenantID: tenantID)
                }
                guard let result = recorded else { continue }
                switch result {
                case .accepted(let queued):
                    if queued { self.signal.wake() }
                    self.metrics.event(type: event.type.rawValue, outcome: "accepted")
                    return EditedResponse(status: .accepted, response: Receipt(status: "accepted", event: eventID))
                case .duplicate:
                    self.metrics.event(type: event.type.rawValue, outcome: "duplicate")
                    return EditedResponse(status: .ok, response: Receipt(status: "duplicate", event: eventID))
                case .rejected(let rejection):
                    throw self.rejected(rejection, type: event.type)
                }
            }
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

    /// An authenticated event refused for its content, already journaled.
    private func rejected(_ rejection: EventRejection, type: DeviceEventType?) -> APIError {
        self.metrics.rejection(reason: rejection.code)
        self.metrics.event(type: type?.rawValue ?? "unknown", outcome: "rejected")
        return .badRequest(rejection.code, rejection.message)
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
