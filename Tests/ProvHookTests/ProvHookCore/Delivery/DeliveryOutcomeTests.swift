import Foundation
import ProvHookCore
import ProvHookTestSupport
import SnomXMLRPCStandIn
import Testing

/// What the worker makes of each kind of answer, as docs/vendors.md documents it, through the real wire: permanent
/// `Error:` answers, `no_such_mac` for a removal, refused credentials and their recovery, a service that stays down
/// (give-up, and the metrics that show it), and a 429's `Retry-After`.
///
/// A test that injects one answer reads it with a 30 s read timeout: with the tests' usual 5 s, a loaded machine can
/// time the call out, the retry then gets another answer, and the test would judge the wrong call.
@Suite("Delivery: what each answer leads to")
struct DeliveryOutcomeTests {
    static let patient: Duration = .seconds(30)

    /// A `registerPhone`/`deregisterPhone` answer as the service sends it: `[return code, return text]`.
    static func answer(_ text: String) -> FakeRedirectState.Failure {
        let flag = text == "Ok" ? 1 : 0
        return .answer(
            Array(
                """
                <?xml version="1.0"?>
                <methodResponse><params><param><value><array><data>\
                <value><boolean>\(flag)</boolean></value><value><string>\(text)</string></value>\
                </data></array></value></param></params></methodResponse>
                """.utf8))
    }

    /// The `registerPhone`/`deregisterPhone` rows of `mac`, oldest first.
    static func calls(_ run: EndToEnd, _ mac: String, _ action: String) async throws -> [JournalEntry] {
        try await run.store.journal(JournalFilter(mac: mac, action: action))
    }

    /// The value of one sample line of `/metrics`, for example `provhook_devices_waiting`.
    /// The value of a sample: `name` alone, or `name{labels}` whose labels the sample has (it may have more, such as
    /// the redirection account's).
    static func sample(_ run: EndToEnd, _ name: String) async throws -> Double? {
        let body = try await run.provhook.get("/metrics").body
        return Self.sample(in: body, name)
    }

    static func sample(in body: String, _ query: String) -> Double? {
        let (name, wanted) = Self.parse(query)
        for line in body.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let (lineName, labels) = Self.parse(String(line[..<space]))
            if lineName == name, wanted.isSubset(of: labels) { return Double(line[line.index(after: space)...]) }
        }
        return nil
    }

    private static func parse(_ series: String) -> (String, Set<String>) {
        guard let brace = series.firstIndex(of: "{") else { return (series, []) }
        let inner = series[series.index(after: brace)...].dropLast()
        return (String(series[..<brace]), Set(inner.split(separator: ",").map(String.init)))
    }

    @Test("an Error:malformed_* answer fails the device after one call: it is not retried")
    func malformedAnswerFails() async throws {
        try await EndToEnd.run(readTimeout: Self.patient) { run in
            await run.state.failNext(1, with: Self.answer("Error:malformed_url"))
            #expect(try await run.send(#"{"type":"device.added","mac":"000413610FF5"}"#).status == 202)
            try await eventually("failed") { try await run.device("000413610FF5")?.status == .failed }
            #expect(try await run.device("000413610FF5")?.lastError == "Error:malformed_url")
            try await Task.sleep(for: .milliseconds(500))
            let rows = try await Self.calls(run, "000413610FF5", "redirect.registerPhone")
            #expect(rows.count == 1, "one call, no retry: \(rows.map(\.outcome))")
            #expect(rows.last?.outcome == "error" && rows.last?.detail["answer"] == .string("Error:malformed_url"))
            #expect(await run.state.calls.count == 1)
            #expect(await run.state.registration("000413610FF5") == nil)
        }
    }

    @Test("Error:no_such_mac answering a removal means it is done: deregistered, journaled ok")
    func noSuchMACOnRemoval() async throws {
        try await EndToEnd.run(readTimeout: Self.patient) { run in
            #expect(try await run.send(#"{"type":"device.added","mac":"000413610FF5"}"#).status == 202)
            try await eventually("registered") { try await run.device("000413610FF5")?.status == .registered }
            // Someone removed it at the service already: the service no longer knows the MAC.
            await run.state.failNext(1, with: Self.answer("Error:no_such_mac"))
            #expect(try await run.send(#"{"type":"device.removed","mac":"000413610FF5"}"#).status == 202)
            try await eventually("deregistered") { try await run.device("000413610FF5")?.status == .deregistered }
            let rows = try await Self.calls(run, "000413610FF5", "redirect.deregisterPhone")
            #expect(rows.last?.outcome == "ok" && rows.last?.detail["answer"] == .string("Error:no_such_mac"))
            #expect(try await run.device("000413610FF5")?.lastError == nil)
        }
    }

    @Test("HTTP 403 keeps the work queued, shows in /readyz and the metrics, and fixed credentials recover it")
    func forbiddenThenRecovered() async throws {
        try await EndToEnd.run(readTimeout: Self.patient) { run in
            await run.state.failAll(with: .status(403))
            #expect(try await run.send(#"{"type":"device.added","mac":"000413610FF5"}"#).status == 202)
            try await eventually("readyz shows it") { try await run.provhook.get("/readyz").status == 503 }
            #expect(try await run.provhook.get("/readyz").body.contains("redirect_credentials"))
            #expect(try await Self.sample(run, "provhook_redirect_credentials_rejected") == 1)
            #expect(try await run.device("000413610FF5")?.status == .pending, "never failed for refused credentials")
            let refused = try await Self.calls(run, "000413610FF5", "redirect.registerPhone")
            #expect(!refused.isEmpty && refused.allSatisfy { $0.outcome == "auth_failed" }, "\(refused.map(\.outcome))")

            // The operator fixes the credentials (here: the service accepts them again).
            await run.state.clearFailures()
            try await eventually("registered") { try await run.device("000413610FF5")?.status == .registered }
            try await eventually("ready again") { try await run.provhook.get("/readyz").status == 200 }
            #expect(try await Self.sample(run, "provhook_redirect_credentials_rejected") == 0)
            #expect(await run.state.registration("000413610FF5") != nil)
        }
    }

    @Test("a service that stays down: upstream_down, devices_waiting and oldest_waiting show it; recovery clears them")
    func upstreamDownMetrics() async throws {
        try await EndToEnd.run { run in
            await run.state.failAll(with: .status(503))
            #expect(try await run.send(#"{"type":"device.added","mac":"000413610FF5"}"#).status == 202)
            try await eventually("upstream_down") {
                try await Self.sample(run, "provhook_redirect_upstream_down") == 1
            }
            #expect(try await Self.sample(run, "provhook_devices_waiting") == 1)
            try await eventually("the oldest waiting device ages") {
                try await Self.sample(run, "provhook_oldest_waiting_seconds") ?? 0 > 0
            }
            let ready = try await run.provhook.get("/readyz")
            #expect(ready.status == 200, "a failing service does not make provhook unready: work waits in the queue")
            #expect(ready.body.contains(#""redirect_service":"failing since"#), "\(ready.body)")

            await run.state.clearFailures()
            try await eventually("registered") { try await run.device("000413610FF5")?.status == .registered }
            try await eventually("upstream up") { try await Self.sample(run, "provhook_redirect_upstream_down") == 0 }
            #expect(try await Self.sample(run, "provhook_devices_waiting") == 0)
            #expect(try await Self.sample(run, "provhook_oldest_waiting_seconds") == 0)
            let calls = await run.state.calls.count
            let timed = try await Self.sample(
                run, #"provhook_redirect_call_duration_seconds_count{method="registerPhone"}"#)
            #expect(
                timed == Double(calls), "every call's duration is recorded: \(String(describing: timed)) of \(calls)")
        }
    }

    @Test("a device still failing at the give-up age is failed, journaled gave_up, and no longer called")
    func givesUp() async throws {
        try await EndToEnd.run(giveUpAfter: .seconds(2)) { run in
            await run.state.failAll(with: .status(503))
            #expect(try await run.send(#"{"type":"device.added","mac":"000413610FF5"}"#).status == 202)
            try await eventually("failed") { try await run.device("000413610FF5")?.status == .failed }
            let device = try #require(try await run.device("000413610FF5"))
            #expect(device.lastError?.hasPrefix("gave up after") == true, "\(device.lastError ?? "")")
            let rows = try await Self.calls(run, "000413610FF5", "redirect.registerPhone")
            #expect(rows.last?.outcome == "gave_up" && rows.dropLast().allSatisfy { $0.outcome == "retry" })
            let calls = await run.state.calls.count
            try await Task.sleep(for: .milliseconds(800))
            #expect(await run.state.calls.count == calls, "a failed device is not called again")
        }
    }

    @Test("a 429's Retry-After is honoured: the next try waits at least that long")
    func retryAfter() async throws {
        // Retry-After is honoured up to the longest backoff, which the tests otherwise keep at 400 ms.
        try await EndToEnd.run(readTimeout: Self.patient, retryMaximum: .seconds(10)) { run in
            await run.state.failNext(1, with: .status(429, retryAfter: "2"))
            #expect(try await run.send(#"{"type":"device.added","mac":"000413610FF5"}"#).status == 202)
            try await eventually("registered") { try await run.device("000413610FF5")?.status == .registered }
            let rows = try await Self.calls(run, "000413610FF5", "redirect.registerPhone")
            let first = try #require(rows.first)
            #expect(first.outcome == "retry" && first.detail["error"] == .string("rate_limited"))
            if case .number(let delay) = first.detail["retry_in_ms"] {
                #expect(delay >= 2000, "the backoff alone would be 20 ms")
            } else {
                Issue.record("no retry_in_ms: \(first.detail)")
            }
            // A lower bound only: a loaded machine can make the gap longer, never shorter.
            let calls = await run.state.calls
            #expect(calls.count >= 2)
            if calls.count >= 2 {
                let gap = calls[1].startedAt.timeIntervalSince(calls[0].finishedAt)
                #expect(gap >= 1.9, "the second call came \(gap) s after the 429")
            }
        }
    }
}
