import Foundation
import Metrics
import Prometheus

/// provhook's metrics, on their own Prometheus registry, so that each application instance (and each test)
/// has its own and nothing needs the global metrics bootstrap.
public final class ProvHookMetrics: Sendable {
    /// The registry `/metrics` emits.
    public let registry: PrometheusCollectorRegistry
    /// A swift-metrics factory writing into `registry`.
    public let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            .seconds(30),
        ]
        self.factory = factory
    }

    /// A webhook event by type and outcome (`accepted`, `duplicate`, `rejected`, `ignored`), and by source:
    /// `native` for `/v1/tenants/{tenant}/events`, else the source's name.
    public func event(type: String, outcome: String, source: String = "native") {
        Counter(
            label: "provhook_webhook_events_total",
            dimensions: [("type", type), ("outcome", outcome), ("source", source)], factory: self.factory
        )
        .increment()
    }

    /// A refused webhook by reason (`bad_signature`, `unknown_tenant`, `too_large`, `invalid_json`, …) and source.
    public func rejection(reason: String, source: String = "native") {
        Counter(
            label: "provhook_webhook_rejections_total", dimensions: [("reason", reason), ("source", source)],
            factory: self.factory
        )
        .increment()
    }

    /// A call to the redirection service by method and outcome (`ok`, `error`, `partial`, `transient`, `auth`),
    /// and its latency.
    public func call(
        method: String, outcome: String, account: String = RedirectAccount.defaultName, latency: Duration
    ) {
        Counter(
            label: "provhook_redirect_calls_total",
            dimensions: [("method", method), ("outcome", outcome), ("account", account)], factory: self.factory
        )
        .increment()
        self.duration("provhook_redirect_call_duration_seconds", [("method", method), ("account", account)], latency)
    }

    /// What a scrape reads from the database: devices waiting and the age of the oldest, devices by status
    /// (`provhook_devices{status="conflict"}` counts the MACs another account holds), and the journal's last seal.
    public func devices(_ stats: ScrapeStats) {
        Gauge(label: "provhook_devices_waiting", factory: self.factory).record(stats.waiting)
        Gauge(label: "provhook_oldest_waiting_seconds", factory: self.factory).record(stats.oldestWaitingAge)
        for (status, count) in stats.devicesByStatus {
            Gauge(label: "provhook_devices", dimensions: [("status", status)], factory: self.factory).record(count)
        }
        for (key, count) in stats.devicesByVendor {
            Gauge(
                label: "provhook_vendor_devices", dimensions: [("vendor", key.vendor), ("status", key.status)],
                factory: self.factory
            ).record(count)
        }
        if let sealed = stats.lastSealAt {
            Gauge(label: "provhook_journal_last_seal_timestamp_seconds", factory: self.factory)
                .record(sealed.timeIntervalSince1970)
        }
        Gauge(label: "provhook_journal_unsealed_rows", factory: self.factory).record(Double(stats.unsealedRows))
    }

    /// 1 while the service refuses our credentials.
    public func credentialsRejected(_ rejected: Bool, account: String = RedirectAccount.defaultName) {
        Gauge(
            label: "provhook_redirect_credentials_rejected", dimensions: [("account", account)], factory: self.factory
        ).record(rejected ? 1 : 0)
    }

    /// 1 while calls to the service fail for transport reasons.
    public func upstreamDown(_ down: Bool, account: String = RedirectAccount.defaultName) {
        Gauge(label: "provhook_redirect_upstream_down", dimensions: [("account", account)], factory: self.factory)
            .record(down ? 1 : 0)
    }

    /// A lookup in a PBX's API by source and outcome (`found`, `not_found`, `no_mac`, or the failure's code), and
    /// its latency.
    public func lookup(source: String, outcome: String, latency: Duration) {
        Counter(
            label: "provhook_source_lookups_total", dimensions: [("source", source), ("outcome", outcome)],
            factory: self.factory
        )
        .increment()
        self.duration("provhook_source_lookup_duration_seconds", ("source", source), latency)
    }

    /// Events waiting for a lookup, and the age of the oldest.
    public func lookupsWaiting(count: Int, oldestAgeSeconds: Double) {
        Gauge(label: "provhook_source_lookups_waiting", factory: self.factory).record(count)
        Gauge(label: "provhook_source_lookup_oldest_seconds", factory: self.factory).record(oldestAgeSeconds)
    }

    private func duration(_ label: String, _ dimension: (String, String), _ latency: Duration) {
        self.duration(label, [dimension], latency)
    }

    private func duration(_ label: String, _ dimensions: [(String, String)], _ latency: Duration) {
        Timer(label: label, dimensions: dimensions, factory: self.factory)
            .recordNanoseconds(
                latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000)
    }

    /// A periodic sync of a source by outcome (`ok`, `error`), the changes it made, its duration, and when it last
    /// succeeded.
    public func sync(source: String, succeeded: Bool, changes: Int, latency: Duration) {
        Counter(
            label: "provhook_source_syncs_total",
            dimensions: [("source", source), ("outcome", succeeded ? "ok" : "error")],
            factory: self.factory
        )
        .increment()
        Counter(label: "provhook_source_sync_changes_total", dimensions: [("source", source)], factory: self.factory)
            .increment(by: changes)
        self.duration("provhook_source_sync_duration_seconds", ("source", source), latency)
        if succeeded {
            Gauge(
                label: "provhook_source_sync_last_success_timestamp_seconds", dimensions: [("source", source)],
                factory: self.factory
            ).record(Date().timeIntervalSince1970)
        }
    }

    /// The Prometheus text exposition.
    public func render() -> [UInt8] { self.registry.emitToBuffer() }
}
