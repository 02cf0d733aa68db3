import Foundation
import ProvHookCore
import ProvHookTestSupport
import Testing

/// `contrib/grafana/provhook.json`: every query of the dashboard parses as PromQL (promtool says so) and names only
/// metrics that provhook exports, so that renaming a metric or mistyping a query breaks this test, not a dashboard.
@Suite("Grafana dashboard: contrib/grafana/provhook.json")
struct GrafanaDashboardTests {
    static let dashboardPath = ScratchCluster.repositoryRoot + "/contrib/grafana/provhook.json"
    static let metricsSourcePath =
        ScratchCluster.repositoryRoot + "/Sources/ProvHookCore/Observability/ProvHookMetrics.swift"

    /// A query of the dashboard: where it is (a panel's title, or a variable's name), its text, and whether it is
    /// PromQL (a panel's `targets[].expr`) or a Grafana variable query such as `label_values(metric, instance)`.
    struct Query: Sendable {
        var place: String
        var text: String
        var isPromQL: Bool
    }

    @Test("every panel query parses: promtool check rules on a rules file with one recording rule per query")
    func queriesParse() throws {
        let queries = try Self.queries().filter(\.isPromQL)
        try #require(!queries.isEmpty, "no panel of contrib/grafana/provhook.json has a query (targets[].expr)")
        let promtool = try #require(
            Self.executable("promtool"),
            """
            promtool is not on the PATH: install it (Debian: apt-get install prometheus), as \
            contrib/prometheus/test-rules.sh does before the tests in CI
            """)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("grafana-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var rules = "groups:\n  - name: provhook-dashboard\n    rules:\n"
        for (index, query) in queries.enumerated() {
            rules += "      # \(query.place)\n"
            rules += "      - record: provhook_dashboard_check_\(index)\n"
            rules += "        expr: \(try Self.yamlQuoted(Self.withVariablesReplaced(query.text)))\n"
        }
        let rulesFile = folder.appendingPathComponent("dashboard-rules.yml")
        try rules.write(to: rulesFile, atomically: true, encoding: .utf8)
        // Output through a file, not a pipe: a process that another test starts meanwhile could inherit a pipe's
        // write end and keep it open.
        let outputFile = folder.appendingPathComponent("promtool.out")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "rules", rulesFile.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        try output.close()
        let said = try String(contentsOf: outputFile, encoding: .utf8)
        #expect(
            process.terminationStatus == 0,
            """
            promtool check rules refuses a query of contrib/grafana/provhook.json (rule N is the dashboard's query N, \
            its panel in the comment above it):
            \(said)
            \(rules)
            """)
    }

    @Test("every metric the dashboard names is one that a running provhook exports")
    func metricsExported() async throws {
        let queries = try Self.queries()
        let panelQueries = queries.filter(\.isPromQL).count
        try #require(
            panelQueries > 0,
            "no panel of contrib/grafana/provhook.json has a query (targets[].expr)")
        let used = Self.metricUses(queries)
        try #require(!used.isEmpty, "the dashboard's queries name no provhook_ metric")
        let declared = try Self.declaredNames()
        try #require(!declared.isEmpty, "found no metric in \(Self.metricsSourcePath): has it moved?")

        try await EndToEnd.run { run in
            // One event, delivered, so that the events' counter and the calls' counter and histogram have their
            // labelled series; one refusal for the rejections' counter; one seal for the journal's seal gauge.
            let accepted = try await run.send(#"{"type":"device.added","mac":"000413610FF5"}"#)
            #expect(accepted.status == 202, "\(accepted.body)")
            let refused = try await run.provhook.send(
                tenant: "nobody", body: #"{"type":"device.added","mac":"000413610FF6"}"#, secret: run.secret)
            #expect(refused.status == 404 && refused.errorCode == "unknown_tenant", "\(refused.body)")
            try await eventually("the device registered") {
                try await run.device("000413610FF5")?.status == .registered
            }
            try await JournalChain(store: run.store).seal()

            try await eventually("every metric of the dashboard in /metrics") {
                let scrape = try await run.provhook.get("/metrics")
                return Self.unexported(used, scrape: scrape.body, declared: declared).isEmpty
            }
            let scrape = try await run.provhook.get("/metrics")
            #expect(scrape.status == 200)
            let missing = Self.unexported(used, scrape: scrape.body, declared: declared).map { name, places in
                "\(name) (in: \(places.sorted().joined(separator: "; ")))"
            }
            #expect(
                missing.isEmpty,
                """
                contrib/grafana/provhook.json names metrics that provhook does not export (renamed in \
                ProvHookMetrics.swift, or mistyped; a histogram is queried as NAME_bucket, NAME_sum or NAME_count): \
                \(missing.sorted().joined(separator: ", "))
                """)
        }
    }

    // MARK: - The dashboard

    /// Every panel's `targets[].expr`, rows' nested panels included, then the variables' queries.
    static func queries() throws -> [Query] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.dashboardPath))
        let dashboard = try #require(
            try JSONSerialization.jsonObject(with: data) as? [String: Any], "the dashboard is no JSON object")
        var queries: [Query] = []
        Self.collect(dashboard["panels"] as? [Any] ?? [], into: &queries)
        let templating = dashboard["templating"] as? [String: Any] ?? [:]
        for case let variable as [String: Any] in templating["list"] as? [Any] ?? []
        where variable["type"] as? String == "query" {
            let name = "variable \(variable["name"] as? String ?? "?")"
            for text in [
                variable["definition"] as? String, variable["query"] as? String,
                (variable["query"] as? [String: Any])?["query"] as? String,
            ] {
                if let text, !text.isEmpty { queries.append(Query(place: name, text: text, isPromQL: false)) }
            }
        }
        return queries
    }

    static func collect(_ panels: [Any], into queries: inout [Query]) {
        for case let panel as [String: Any] in panels {
            let title = panel["title"] as? String ?? "an untitled panel"
            for case let target as [String: Any] in panel["targets"] as? [Any] ?? [] {
                let expr = target["expr"] as? String ?? ""
                #expect(!expr.isEmpty, "a query of the panel \(title) has no expr")
                if !expr.isEmpty { queries.append(Query(place: title, text: expr, isPromQL: true)) }
            }
            Self.collect(panel["panels"] as? [Any] ?? [], into: &queries)
        }
    }

    /// The query with Grafana's variables replaced as promtool can read it: intervals by 5m, the instance by `.*`.
    static func withVariablesReplaced(_ expr: String) -> String {
        var text = expr
        for (variable, value) in [
            ("${__rate_interval}", "5m"), ("$__rate_interval", "5m"), ("${__interval}", "5m"), ("$__interval", "5m"),
            ("${__range}", "5m"), ("$__range", "5m"), ("${instance}", ".*"), ("$instance", ".*"),
        ] {
            text = text.replacingOccurrences(of: variable, with: value)
        }
        return text
    }

    /// A YAML double-quoted scalar: a JSON string is one.
    static func yamlQuoted(_ text: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(text), as: UTF8.self)
    }

    /// Each metric name the queries use, and where.
    static func metricUses(_ queries: [Query]) -> [String: Set<String>] {
        var uses: [String: Set<String>] = [:]
        for query in queries {
            for name in Self.metricNames(in: query.text) { uses[name, default: []].insert(query.place) }
        }
        return uses
    }

    /// The metric names in a query: its `provhook_…` tokens.
    static func metricNames(in text: String) -> Set<String> {
        let pattern = try! Regex("provhook_[a-z0-9_]+")
        return Set(text.matches(of: pattern).map { String(text[$0.range]) })
    }

    // MARK: - What provhook exports

    /// The samples' names in a Prometheus exposition (a histogram's as `_bucket`, `_sum`, `_count`).
    static func sampleNames(in exposition: String) -> Set<String> {
        var names: Set<String> = []
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            if !name.isEmpty { names.insert(String(name)) }
        }
        return names
    }

    /// The exposition names of the metrics that ProvHookMetrics.swift declares: a `label:`'s as it is, a timer's
    /// (`self.duration("…")`, a histogram) with `_bucket`, `_sum` and `_count`.
    static func declaredNames() throws -> Set<String> {
        let source = try String(contentsOfFile: Self.metricsSourcePath, encoding: .utf8)
        let pattern = try Regex(#""provhook_[a-z0-9_]+""#)
        var names: Set<String> = []
        for match in source.matches(of: pattern) {
            let name = String(source[match.range].dropFirst().dropLast())
            if source[..<match.range.lowerBound].hasSuffix("self.duration(") {
                names.formUnion(["_bucket", "_sum", "_count"].map { name + $0 })
            } else if source[..<match.range.lowerBound].hasSuffix("label: ") {
                names.insert(name)
            }
        }
        return names
    }

    /// Whether a running provhook exports `name` only once a PBX source has been looked up in or synced. This test
    /// configures no source, so these (and only these) are checked against the names ProvHookMetrics.swift declares
    /// instead of the scrape; everything else must be in the scrape.
    static func appearsOnlyWithSources(_ name: String) -> Bool {
        name.hasPrefix("provhook_source_sync") || name == "provhook_source_lookups_total"
            || name.hasPrefix("provhook_source_lookup_duration_seconds_")
    }

    /// The metrics of `used` that neither the scrape has nor, for those that need a source, ProvHookMetrics.swift
    /// declares.
    static func unexported(
        _ used: [String: Set<String>], scrape: String, declared: Set<String>
    ) -> [String: Set<String>] {
        let exported = Self.sampleNames(in: scrape)
        return used.filter { name, _ in
            !exported.contains(name) && !(Self.appearsOnlyWithSources(name) && declared.contains(name))
        }
    }

    /// The path of `command` on the PATH, if it is there.
    static func executable(_ command: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
