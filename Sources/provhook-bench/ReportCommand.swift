import ArgumentParser
import BenchSupport
import Foundation
import ProvHookCore

/// `provhook-bench report`: reads the raw results that `contrib/bench.sh` collected (one JSON object per line:
/// `{"name": …, "data": {…}}`), sets each figure against its limit from the same run, prints a table and writes
/// `bench-results.json`.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Table and bench-results.json from raw results.")

    @Option(help: "The raw results, one JSON object per line.") var raw: String
    @Option(help: "Where to write the JSON report.") var output = "bench-results.json"
    @Option(help: "Calls in flight at most during the delivery runs.") var deliveryConcurrency: Int
    @Option(help: "The stand-in's added latency, in milliseconds.") var latencyMs: Double
    @Option(help: "Devices per list call at most.") var listSize = 100
    @Option(help: "Free text describing the run (commit, machine).") var context = ""

    struct Measurement: Encodable {
        var name: String
        var figure: Double
        var unit: String
        var limit: Double?
        var limitName: String?
        var ratio: Double?
        /// The target, as text such as "ratio >= 1.0"; nil when the figure is context only.
        var target: String?
        var met: Bool?

        enum CodingKeys: String, CodingKey {
            case name, figure, unit, limit, ratio, target, met
            case limitName = "limit_name"
        }
    }

    func run() async throws {
        let raw = try self.load()
        var rows: [Measurement] = []
        func value(_ name: String, _ key: String) -> Double? {
            if case .number(let number)? = raw[name]?[key] { return number }
            return nil
        }
        func add(
            _ name: String, _ figure: Double?, _ unit: String, limit: Double? = nil, limitName: String? = nil,
            minimumRatio: Double? = nil, maximumRatio: Double? = nil, maximum: Double? = nil
        ) {
            guard let figure else { return }
            var row = Measurement(name: name, figure: figure, unit: unit, limit: limit, limitName: limitName)
            if let limit, limit > 0 { row.ratio = rounded(figure / limit, 3) }
            if let minimumRatio, let ratio = row.ratio {
                row.target = "ratio >= \(minimumRatio)"
                row.met = ratio >= minimumRatio
            }
            if let maximumRatio, let ratio = row.ratio {
                row.target = "ratio <= \(maximumRatio)"
                row.met = ratio <= maximumRatio
            }
            if let maximum {
                row.target = "< \(maximum) \(unit)"
                row.met = figure < maximum
            }
            rows.append(row)
        }

        // pgbench's own latency for the statement serve sends (ingest-now.pgbench): its median for a lone webhook's,
        // its p99 for the tail's. A run without pgbench's percentiles falls back to its mean.
        func pgbenchLatency(_ concurrency: Int, _ percentile: String) -> Double? {
            value("pgbench_ingest_now_c\(concurrency)", percentile)
                ?? value("pgbench_ingest_now_c\(concurrency)", "latency_avg_ms")
        }

        for concurrency in [1, 8, 32] {
            let pgbench = value("pgbench_ingest_c\(concurrency)", "rate")
            add(
                "ingest_c\(concurrency)", value("ingest_c\(concurrency)", "rate"), "events/s",
                limit: pgbench, limitName: "pgbench, the same transaction, c=\(concurrency)",
                minimumRatio: concurrency == 32 ? 1.0 : nil)
            add(
                "ingest_c\(concurrency)_vs_insert", value("ingest_c\(concurrency)", "rate"), "events/s",
                limit: value("pgbench_insert_c\(concurrency)", "rate"),
                limitName: "pgbench, one-row INSERT, c=\(concurrency) (stretch)")
            add(
                "ingest_c\(concurrency)_vs_now", value("ingest_c\(concurrency)", "rate"), "events/s",
                limit: value("pgbench_ingest_now_c\(concurrency)", "rate"),
                limitName: "pgbench, the statements serve now runs (ingest-now.pgbench), c=\(concurrency)")
            add(
                "ingest_c\(concurrency)_p50", value("ingest_c\(concurrency)", "p50_ms"), "ms",
                limit: concurrency == 1 ? pgbenchLatency(1, "p50_ms") : nil,
                limitName: concurrency == 1 ? "pgbench's p50 for the same work (ingest-now.pgbench), c=1" : nil,
                maximumRatio: concurrency == 1 ? 1.5 : nil)
            add(
                "ingest_c\(concurrency)_p99", value("ingest_c\(concurrency)", "p99_ms"), "ms",
                limit: concurrency == 32 ? pgbenchLatency(32, "p99_ms") : nil,
                limitName: concurrency == 32 ? "pgbench's p99 for the same work, c=32" : nil,
                maximum: concurrency == 32 ? 25 : nil)
            add(
                "healthz_c\(concurrency)", value("healthz_c\(concurrency)", "rate"), "requests/s",
                limitName: "the listener's own ceiling (no database work)")
        }

        // What serve adds to a lone webhook beyond the HTTP floor (the same client's /healthz at c=1), beside what the
        // database takes for the same work: the part of the c=1 latency that is serve's to take.
        if let ingest = value("ingest_c1", "p50_ms"), let floor = value("healthz_c1", "p50_ms") {
            add(
                "ingest_c1_p50_above_http_floor", ingest - floor, "ms",
                limit: pgbenchLatency(1, "p50_ms"),
                limitName: "pgbench's p50 for the same work; the floor, /healthz at c=1: \(floor) ms")
        }
        add(
            "ingest_delivering_c32", value("ingest_delivering_c32", "rate"), "events/s",
            limit: value("ingest_c32", "rate"), limitName: "ingest_c32, no delivery running, same run")
        add(
            "ingest_delivering_c32_p99", value("ingest_delivering_c32", "p99_ms"), "ms",
            limit: pgbenchLatency(32, "p99_ms"), limitName: "pgbench's p99 for the same work, c=32, no delivery",
            maximum: 25)

        let singleLimit = Double(self.deliveryConcurrency) / (self.latencyMs / 1000)
        let register = value("delivery_register", "rate")
        add(
            "delivery_register", register, "devices/s", limit: singleLimit,
            limitName: "concurrency \(self.deliveryConcurrency) / latency \(Int(self.latencyMs)) ms", minimumRatio: 0.9)
        let deregister = value("delivery_deregister_list", "rate")
        add(
            "delivery_deregister_list", deregister, "devices/s", limit: singleLimit * Double(self.listSize),
            limitName: "concurrency / latency × list size \(self.listSize)")
        add(
            "delivery_deregister_list_vs_single", deregister, "devices/s", limit: register,
            limitName: "the single-call rate (delivery_register), same run", minimumRatio: 10)

        // An onboarded fleet drained (queued by `device import` while serve was stopped): to one shared URL in lists,
        // and one call each when the URL carries `<mac>`.
        for (name, limit) in [
            ("delivery_onboarded_shared_url", singleLimit * Double(self.listSize)),
            ("delivery_onboarded_per_mac", singleLimit),
        ] {
            guard let devices = value(name, "devices") else { continue }
            add(
                name, value(name, "rate"), "devices/s", limit: limit,
                limitName:
                    "\(Int(devices)) devices; concurrency \(self.deliveryConcurrency) / latency \(Int(self.latencyMs)) ms"
                    + (limit > singleLimit ? " × list size \(self.listSize)" : ""),
                minimumRatio: 0.9)
        }
        if let devices = value("delivery_onboarded_shared_url", "devices") {
            add(
                "delivery_onboarded_shared_url_calls", value("delivery_onboarded_shared_url", "calls"), "calls",
                limit: (devices / Double(self.listSize)).rounded(.up), limitName: "full lists of \(self.listSize)",
                maximumRatio: 1.5)
        }
        add(
            "wake_p50", value("wake", "p50_ms"), "ms",
            limitName: "a lone webhook's answer to its call starting at the stand-in, at idle", maximum: 5)
        add("wake_p99", value("wake", "p99_ms"), "ms", limitName: "\(Int(value("wake", "events") ?? 0)) webhooks")

        // Peak RSS of serve, by phase: the raw entries whose names start with the phase's prefix.
        for (phase, prefix) in [
            ("idle", "rss_idle"), ("ingest", "ingest_c"), ("delivery", "delivery_"), ("fleet", "fleet_drain"),
            ("repoint", "repoint_"),
        ] {
            let peaks = raw.filter { $0.key.hasPrefix(prefix) }.compactMap { entry -> Double? in
                if case .number(let peak)? = entry.value["peak_rss_mib"] { return peak }
                return nil
            }
            add("peak_rss_\(phase)", peaks.max(), "MiB", maximum: 100)
        }

        // Onboarding: a PBX sync and a CSV import, their rates against the target, their memory, the sync's against
        // a tenth of the devices (it must not grow with them), and a second sync with nothing changed.
        for (name, key) in [("sync", "sync_large"), ("sync_wazo", "sync_wazo"), ("import", "import")] {
            if let count = value(key, "devices"), let seconds = value(key, "seconds"), seconds > 0 {
                add(
                    "\(name)_rate", count / seconds, "devices/s", limit: 3_000,
                    limitName: "the onboarding target, \(Int(count)) devices from a stand-in", minimumRatio: 1)
            }
            add("\(name)_peak_rss", value(key, "peak_rss_mib"), "MiB", maximum: 150)
        }
        add(
            "sync_peak_rss_growth", value("sync_large", "peak_rss_mib"), "MiB",
            limit: value("sync_small", "peak_rss_mib"), limitName: "the same sync of a tenth of the devices",
            maximumRatio: 1.5)
        add("sync_again_journal_rows", value("sync_again_large", "journal_rows"), "rows", maximum: 2)
        add("sync_again_changed_devices", value("sync_again_large", "changed_devices"), "devices", maximum: 1)
        add("sync_wazo_again_journal_rows", value("sync_again_wazo", "journal_rows"), "rows", maximum: 2)

        // The fleet.
        let fleetTenant = value("repoint_shared_url", "tenant_devices")
        add("claim_1k", value("claim_1k", "median_ms"), "ms", limitName: "the claim query, 1,000 waiting")
        add(
            "claim_100k", value("claim_100k", "median_ms"), "ms", limit: value("claim_1k", "median_ms"),
            limitName:
                "the same at \(Int(value("claim_1k", "applied") ?? 0)) applied devices; now \(Int(value("claim_100k", "applied") ?? 0))",
            maximumRatio: 2)
        add(
            "claim_waiting", value("claim_waiting", "median_ms"), "ms", limit: value("claim_1k", "median_ms"),
            limitName: "the same with 1,000 waiting; now \(Int(value("claim_waiting", "waiting") ?? 0)) waiting",
            maximumRatio: 2)
        if let devices = fleetTenant, let seconds = value("repoint_shared_url", "wall_seconds"), seconds > 0 {
            add(
                "repoint_shared_url", devices / seconds, "devices/s", limit: singleLimit * Double(self.listSize),
                limitName: "concurrency / latency × list size \(self.listSize); \(Int(devices)) devices")
            add(
                "repoint_shared_url_calls", value("repoint_shared_url", "calls"), "calls",
                limit: (devices / Double(self.listSize)).rounded(.up), limitName: "full lists of \(self.listSize)",
                maximumRatio: 1.5)
        }
        if let devices = fleetTenant, let seconds = value("repoint_per_mac", "wall_seconds"), seconds > 0 {
            add(
                "repoint_per_mac", devices / seconds, "devices/s", limit: singleLimit,
                limitName:
                    "concurrency \(self.deliveryConcurrency) / latency \(Int(self.latencyMs)) ms; \(Int(devices)) devices",
                minimumRatio: 0.8)
        }
        if let devices = value("reconcile_fleet", "devices"), let calls = value("reconcile_fleet", "calls"), devices > 0
        {
            add(
                "reconcile_calls_per_device", rounded(calls / devices, 5), "calls/device",
                limitName: "\(Int(calls)) calls for \(Int(devices)) devices", maximum: 0.02)
        }
        add("reconcile_seconds", value("reconcile_fleet_memory", "seconds"), "s")
        add("reconcile_peak_rss", value("reconcile_fleet_memory", "peak_rss_mib"), "MiB", maximum: 100)
        add(
            "journal_seal_seconds", value("journal_seal", "seconds"), "s",
            limitName: "rows: \(Int(value("journal_seal", "rows") ?? 0))")
        add(
            "journal_verify_seconds", value("journal_verify", "seconds"), "s",
            limitName: "rows: \(Int(value("journal_verify", "rows") ?? 0))", maximum: 10)
        add("journal_verify_peak_rss", value("journal_verify", "peak_rss_mib"), "MiB", maximum: 100)
        for pages in ["page_admin", "page_cli"] {
            add(
                "\(pages)_last", value(pages, "last_ms"), "ms", limit: value(pages, "first_ms"),
                limitName: "the first page of 1,000, at \(Int(value(pages, "devices") ?? 0)) devices", maximumRatio: 2)
        }
        add(
            "growth_ingest", value("growth_large_ingest", "seconds"), "s",
            limit: value("growth_small_ingest", "seconds"),
            limitName: "a tenth of the events", maximumRatio: 10)
        add(
            "growth_drain", value("growth_large_drain", "seconds"), "s", limit: value("growth_small_drain", "seconds"),
            limitName: "a tenth of the events", maximumRatio: 10)

        self.printTable(rows)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        struct Report: Encodable {
            var context: String
            var raw: [String: [String: JSONValue]]
            var measurements: [Measurement]
        }
        try encoder.encode(Report(context: self.context, raw: raw, measurements: rows)).write(
            to: URL(fileURLWithPath: self.output))
        print("\nwritten: \(self.output)")
    }

    private func load() throws -> [String: [String: JSONValue]] {
        var raw: [String: [String: JSONValue]] = [:]
        for line in try String(contentsOfFile: self.raw, encoding: .utf8).split(separator: "\n") where !line.isEmpty {
            struct Line: Decodable {
                var name: String
                var data: [String: JSONValue]
            }
            let entry = try JSONDecoder().decode(Line.self, from: Data(line.utf8))
            raw[entry.name] = entry.data
        }
        return raw
    }

    private func printTable(_ rows: [Measurement]) {
        func cell(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
        func number(_ value: Double?) -> String {
            guard let value else { return "" }
            return value >= 100 ? String(format: "%.0f", value) : String(format: "%.2f", value)
        }
        print(
            cell("measurement", 36) + cell("figure", 18) + cell("limit", 12) + cell("ratio", 8) + cell("target", 22)
                + "compared with")
        for row in rows {
            let verdict = row.met.map { $0 ? " ok" : " MISSED" } ?? ""
            print(
                cell(row.name, 36) + cell("\(number(row.figure)) \(row.unit)", 18) + cell(number(row.limit), 12)
                    + cell(row.ratio.map { String(format: "%.2f", $0) } ?? "", 8)
                    + cell((row.target ?? "") + verdict, 22) + (row.limitName ?? ""))
        }
    }
}
