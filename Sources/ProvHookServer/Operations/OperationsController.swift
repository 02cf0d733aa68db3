import Deadlines
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ProvHookCore

/// `GET /readyz` and `/metrics`, on the admin listener. (`/healthz`, which says only that the process answers, is
/// also on the webhook listener, for a PBX-side or load-balancer probe.)
struct OperationsController: Sendable {
    let store: Store
    /// Each redirection account's health, by name, as its worker last saw it.
    let health: @Sendable () -> [String: ServiceHealth.Snapshot]
    let metrics: ProvHookMetrics
    /// Whether webhooks could be recorded lately (a database that answers a ping may still refuse writes).
    let recording: RecordingHealth

    func addRoutes(to router: Router<ProvHookRequestContext>) {
        router.get("/healthz") { _, _ in Status(status: "ok") }
        router.get("/readyz", use: self.ready)
        router.get("/metrics", use: self.exposition)
    }

    struct Status: ResponseEncodable {
        var status: String
    }

    struct Readiness: ResponseEncodable {
        struct Checks: Encodable {
            var database: String
            /// "ok", or since when events cannot be recorded and why (read-only, disk full, …).
            var recording: String
            var redirectCredentials: String
            var redirectService: String
            /// Each redirection account's credentials and service, by name, when there is more than `default`.
            var accounts: [String: AccountChecks]?
            /// Each periodically synced source: "ok at …", "error at …: …" or "not run yet". Details only: a PBX that
            /// cannot be read does not make provhook unready.
            var sourceSyncs: [String: String]?

            enum CodingKeys: String, CodingKey {
                case database, recording
                case redirectCredentials = "redirect_credentials"
                case redirectService = "redirect_service"
                case accounts
                case sourceSyncs = "source_syncs"
            }
        }
        struct AccountChecks: Encodable {
            var credentials: String
            var service: String
        }
        var status: String
        var checks: Checks
    }

    /// Ready when the database answers, the last events could be recorded (`RecordingHealth`), and the service has
    /// refused the credentials of none of our accounts. The
    /// top-level `redirect_credentials` and `redirect_service` name each failing account; `accounts` details them.
    @Sendable func ready(request: Request, context: ProvHookRequestContext) async -> EditedResponse<Readiness> {
        let databaseUp = await self.store.ping()
        let healths = self.health()
        let format = ISO8601DateFormatter()
        var accounts: [String: Readiness.AccountChecks] = [:]
        for (name, snapshot) in healths {
            accounts[name] = Readiness.AccountChecks(
                credentials: snapshot.credentialsRejectedSince.map { "rejected since \(format.string(from: $0))" }
                    ?? "ok",
                service: snapshot.upstreamFailingSince.map {
                    "failing since \(format.string(from: $0)): \(snapshot.lastUpstreamError ?? "")"
                } ?? "ok")
        }
        func summary(_ part: KeyPath<Readiness.AccountChecks, String>) -> String {
            let failing = accounts.filter { $0.value[keyPath: part] != "ok" }.sorted { $0.key < $1.key }
            guard !failing.isEmpty else { return "ok" }
            if failing.count == 1, accounts.count == 1 { return failing[0].value[keyPath: part] }
            return failing.map { "account \($0.key): \($0.value[keyPath: part])" }.joined(separator: "; ")
        }
        var syncs: [String: String]?
        if databaseUp, let sources = try? await self.store.sources() {
            let synced = sources.filter { $0.syncInterval != nil }
            if !synced.isEmpty {
                syncs = Dictionary(
                    uniqueKeysWithValues: synced.map { source in
                        let text = source.lastSync.map { last in
                            last.error.map { "error at \(format.string(from: last.at)): \($0.prefix(200))" }
                                ?? "ok at \(format.string(from: last.at))"
                        }
                        return (source.name, text ?? "not run yet")
                    })
            }
        }
        let recordingFailure = self.recording.failure
        let checks = Readiness.Checks(
            database: databaseUp ? "ok" : "unreachable",
            recording: recordingFailure.map { "failing since \(format.string(from: $0.since)): \($0.reason)" } ?? "ok",
            redirectCredentials: summary(\.credentials),
            redirectService: summary(\.service), accounts: accounts.count > 1 ? accounts : nil, sourceSyncs: syncs)
        let isReady =
            databaseUp && recordingFailure == nil && healths.values.allSatisfy { $0.credentialsRejectedSince == nil }
        return EditedResponse(
            status: isReady ? .ok : .serviceUnavailable,
            response: Readiness(status: isReady ? "ready" : "not_ready", checks: checks))
    }

    /// The Prometheus exposition; the devices and journal gauges are read from the database at scrape time.
    @Sendable func exposition(request: Request, context: ProvHookRequestContext) async -> Response {
        let store = self.store
        if let stats = try? await withDeadline(
            .seconds(2), "counting devices for the metrics", { try await store.scrapeStats() })
        {
            self.metrics.devices(stats)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.render())))
    }
}
