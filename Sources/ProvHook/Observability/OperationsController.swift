import Deadlines
import Foundation
import Hummingbird
import NIOCore

/// `GET /healthz`, `/readyz` and `/metrics`.
struct OperationsController: Sendable {
    let store: Store
    let health: ServiceHealth
    let metrics: ProvHookMetrics

    func addRoutes(to router: Router<ProvHookRequestContext>) {
        router.get("/healthz") { _, _ in JSONResponse.make(.ok, ["status": "ok"]) }
        router.get("/readyz", use: self.ready)
        router.get("/metrics", use: self.exposition)
    }

    /// Ready when the database answers and the service has not refused our credentials.
    @Sendable func ready(request: Request, context: ProvHookRequestContext) async -> Response {
        let databaseUp = await self.store.ping()
        let snapshot = self.health.snapshot
        var checks: [String: Any] = ["database": databaseUp ? "ok" : "unreachable"]
        if let since = snapshot.credentialsRejectedSince {
            checks["redirect_credentials"] = "rejected since \(ISO8601DateFormatter().string(from: since))"
        } else {
            checks["redirect_credentials"] = "ok"
        }
        if let since = snapshot.upstreamFailingSince {
            checks["redirect_service"] = "failing since \(ISO8601DateFormatter().string(from: since)): \(snapshot.lastUpstreamError ?? "")"
        } else {
            checks["redirect_service"] = "ok"
        }
        let isReady = databaseUp && snapshot.credentialsRejectedSince == nil
        return JSONResponse.make(isReady ? .ok : .serviceUnavailable, ["status": isReady ? "ready" : "not_ready", "checks": checks])
    }

    /// The Prometheus exposition; the waiting-devices gauges are read from the database at scrape time.
    @Sendable func exposition(request: Request, context: ProvHookRequestContext) async -> Response {
        let store = self.store
        if let stats = try? await withDeadline(.seconds(2), "counting waiting devices", { try await store.waitingStats() }) {
            self.metrics.waiting(count: stats.count, oldestAgeSeconds: stats.oldestAge)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.render())))
    }
}
