import Foundation
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import WebhookSignature
import XMLRPC

/// End to end, the worker's side: retries, conflicts, the vendor filter, list calls, wrong credentials and two
/// instances on one database.
extension EndToEndTests {
    @Test("the stand-in answering 503 five times → retried with backoff, then registered")
    func retries() async throws {
        // The idle wake is far away, so each retry must come from the backoff (20, 40 … 320 ms), not from the
        // loop's periodic look for work: an outcome written after the loop went to sleep has to wake it.
        try await EndToEnd.run(idleWake: .seconds(120)) { run in
            await run.state.failNext(5, with: .status(503))
            #expect(try await run.send(#"{"type":"device.added","mac":"000413610FF5"}"#).status == 202)
            try await eventually("registered after retries", within: .seconds(60)) {
                try await run.device("000413610FF5")?.status == .registered
            }
            // The five 503s are retried, and then the call succeeds. A call that times out on a loaded machine is one
            // more retry: what is guaranteed is that every call is journaled, the 503s are retried, and the last is Ok.
            let rows = try await run.store.journal(JournalFilter(mac: "000413610FF5", action: "redirect.registerPhone"))
            #expect(rows.dropLast().allSatisfy { $0.outcome == "retry" } && rows.count >= 6, "\(rows.map(\.outcome))")
            #expect(rows.last?.outcome == "ok" && rows.last?.detail["attempt"] == .number(Double(rows.count)))
            #expect(rows.filter { $0.detail["answer"] == nil && $0.detail["error"] == .string("http_5xx") }.count == 5)
            #expect(await run.state.calls.count == rows.count, "every call journaled")
            let metrics = try await run.provhook.get("/metrics").body
            #expect(
                DeliveryOutcomeTests.sample(
                    in: metrics, #"provhook_redirect_calls_total{method="registerPhone",outcome="transient"}"#)
                    == Double(rows.count - 1))
        }
    }

    @Test("owned_by_other_user → conflict, not retried")
    func conflict() async throws {
        try await EndToEnd.run { run in
            await run.state.setRegistration("000413610FF5", .init(owner: "someone-else", url: "https://other.example/"))
            #expect(try await run.send(#"{"type":"device.added","mac":"000413610FF5"}"#).status == 202)
            try await eventually("conflict") { try await run.device("000413610FF5")?.status == .conflict }
            #expect(try await run.device("000413610FF5")?.lastError == "Error:owned_by_other_user")
            try await Task.sleep(for: .milliseconds(500))
            // Exactly one call got the permanent answer, and it was the last: only a transport failure before it
            // (a timeout on a loaded machine) may have been retried.
            let calls = try await run.store.journal(
                JournalFilter(mac: "000413610FF5", action: "redirect.registerPhone"))
            #expect(calls.last?.detail["answer"] == .string("Error:owned_by_other_user"), "\(calls)")
            #expect(calls.dropLast().allSatisfy { $0.outcome == "retry" && $0.detail["answer"] == nil })
            #expect(await run.state.calls.count == calls.count, "a permanent answer is not retried")
        }
    }

    @Test("a MAC outside the vendor prefixes is journaled skipped and never sent")
    func skipped() async throws {
        try await EndToEnd.run { run in
            #expect(try await run.send(#"{"type":"device.added","mac":"AA:BB:CC:00:00:01"}"#).status == 202)
            #expect(try await run.device("AABBCC000001")?.status == .skipped)
            #expect(try await run.store.journal(JournalFilter(mac: "AABBCC000001")).map(\.outcome) == ["skipped"])
            try await Task.sleep(for: .milliseconds(300))
            #expect(await run.state.calls.isEmpty)
        }
    }

    @Test("removals go out as deregisterPhoneList, equal URLs as registerPhoneList, partial failures mapped back")
    func batching() async throws {
        try await TestDatabase.with { database in
            let template = try URLTemplate("https://pbx.example.com/prov/{mac}.xml")
            let (_, secret) = try await database.store.addTenant("acme", urlTemplate: template)
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { standIn in
                // Hex letters in every MAC, the refused one included: a case slip in matching a list call's per-MAC
                // failures to devices would show.
                let macs = (1...30).map { String(format: "000413AF00%02X", $0 + 0xC0) }
                await standIn.state.setRegistration(macs[7], .init(owner: "someone-else", url: "https://x.example/"))
                // Everything is queued before a worker starts, so that it finds one batch; the worker stops once
                // `body` has checked the outcome.
                func queueAllThenDeliver(_ desired: DesiredState, then body: () async throws -> Void) async throws {
                    for mac in macs {
                        _ = try await database.store.setDesired(
                            DeviceChange(mac: MACAddress(mac)!, desired: desired), tenantID: "acme", actor: "cli:test")
                    }
                    try await RunningProvHook.start(
                        database: database.url, secrets: database.secrets, redirectEndpoint: standIn.endpoint
                    ).whileRunning { _ in
                        try await eventually("all decided") {
                            try await database.store.devices(DeviceFilter(status: .pending)).isEmpty
                        }
                        try await body()
                    }
                }
                try await queueAllThenDeliver(.registered) { () async throws in
                    #expect(try await database.store.device(MACAddress(macs[7])!)?.status == .conflict)
                    #expect(try await database.store.devices(DeviceFilter(status: .registered)).count == 29)
                    let methods = await standIn.state.calls.compactMap(\.method)
                    #expect(methods.allSatisfy { $0 == "redirect.registerPhoneList" }, "\(methods)")
                    #expect(methods.count < 10)
                    // Each call's rows share its call_id, a UUID: an auditor groups a list call's rows by it, and a
                    // shorter id repeats among a large fleet's calls.
                    let rows = try await database.store.journal(JournalFilter(action: "redirect.registerPhoneList"))
                    let calls = Dictionary(grouping: rows) { $0.detail["call_id"] }
                    #expect(rows.count == 30 && calls.count == methods.count, "\(calls.keys)")
                    for (id, rows) in calls {
                        guard case .string(let text)? = id else {
                            Issue.record("a call row without a call_id")
                            continue
                        }
                        #expect(UUID(uuidString: text) != nil, "\(text)")
                        #expect(rows.allSatisfy { $0.detail["batch_size"] == .number(Double(rows.count)) })
                    }
                }

                // Removals arriving while no worker runs form a backlog, which goes out as list calls.
                await standIn.state.clearCalls()
                try await queueAllThenDeliver(.deregistered) { () async throws in
                    let removals = await standIn.state.calls.compactMap(\.method)
                    #expect(
                        removals.allSatisfy { $0 == "redirect.deregisterPhoneList" } && removals.count < 10,
                        "\(removals)")
                    #expect(await standIn.state.registrations.count == 1, "only the other account's MAC is left")
                    #expect(
                        try await database.store.device(MACAddress(macs[7])!)?.status == .conflict,
                        "its removal was refused too")
                }
                _ = secret
            }
        }
    }

    @Test("a backlog of removals goes out in full lists of 100")
    func fullLists() async throws {
        try await TestDatabase.with { database in
            try await database.store.addTenant("acme")
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { standIn in
                let macs = (1...250).map { String(format: "000413630%03X", $0) }
                for mac in macs {
                    _ = try await database.store.setDesired(
                        DeviceChange(mac: MACAddress(mac)!, desired: .deregistered), tenantID: "acme",
                        actor: "cli:test")
                }
                try await RunningProvHook.start(
                    database: database.url, secrets: database.secrets, redirectEndpoint: standIn.endpoint,
                    concurrency: 2
                ).whileRunning { _ in
                    try await eventually("all removed") {
                        try await database.store.devices(DeviceFilter(status: .deregistered)).count == 250
                    }
                    // Each device the fair claim takes starts a list, which the claim fills: 100, 100, then 50.
                    let sizes = await standIn.state.calls.compactMap { $0.params.first?.arrayValue?.count }
                    #expect(sizes.reduce(0, +) == 250 && sizes.count <= 4, "\(sizes)")
                }
            }
        }
    }

    @Test("wrong credentials keep the work queued and show in /readyz")
    func wrongCredentials() async throws {
        try await EndToEnd.run(password: "wrong-one") { run in
            #expect(try await run.send(#"{"type":"device.added","mac":"000413610FF5"}"#).status == 202)
            try await eventually("readyz shows it") { try await run.provhook.get("/readyz").status == 503 }
            let ready = try await run.provhook.get("/readyz")
            #expect(ready.body.contains("redirect_credentials") && ready.body.contains("rejected"))
            #expect(!ready.body.contains("wrong-one"))
            #expect(try await run.device("000413610FF5")?.status == .pending)
            #expect(
                DeliveryOutcomeTests.sample(
                    in: try await run.provhook.get("/metrics").body,
                    #"provhook_redirect_credentials_rejected{account="default"}"#) == 1)
            #expect(try await run.provhook.get("/healthz").status == 200)
        }
    }

    @Test("two instances on one database: every device applied, no MAC worked by both at once")
    func twoInstances() async throws {
        try await TestDatabase.with { database in
            let (_, secret) = try await database.store.addTenant("acme")
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { standIn in
                await standIn.state.setLatency(.milliseconds(5))
                try await RunningProvHook.start(
                    database: database.url, secrets: database.secrets, redirectEndpoint: standIn.endpoint,
                    instance: "one"
                ).whileRunning { first in
                    try await RunningProvHook.start(
                        database: database.url, secrets: database.secrets, redirectEndpoint: standIn.endpoint,
                        instance: "two"
                    ).whileRunning { second in
                        let macs = (0..<120).map { String(format: "00041362%04X", $0) }
                        // Sixteen senders at a time; like a PBX, a sender retries a 503 with the same webhook-id.
                        func deliver(_ target: RunningProvHook, _ body: String) async throws {
                            let id = "msg_" + UUID().uuidString.lowercased()
                            for attempt in 0..<20 {
                                let answer = try await target.send(tenant: "acme", body: body, secret: secret, id: id)
                                if answer.status == 503 {
                                    try await Task.sleep(for: .milliseconds(200))
                                    continue
                                }
                                // A 503 can come just as the transaction commits; the retry is then recognised as
                                // a duplicate.
                                let retriedDuplicate =
                                    attempt > 0 && answer.status == 200
                                    && answer.json["status"] as? String == "duplicate"
                                #expect(answer.status == 202 || retriedDuplicate, "\(answer.body)")
                                return
                            }
                            Issue.record("still 503 after 20 tries: \(body)")
                        }
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            for (index, mac) in macs.enumerated() {
                                if index >= 16 { try await group.next() }
                                let target = index % 2 == 0 ? first : second
                                group.addTask {
                                    try await deliver(target, #"{"type":"device.added","mac":"\#(mac)"}"#)
                                    if index % 3 == 0 {
                                        try await deliver(target, #"{"type":"device.removed","mac":"\#(mac)"}"#)
                                    }
                                }
                            }
                            try await group.waitForAll()
                        }
                        try await eventually("all applied") {
                            try await database.store.devices(DeviceFilter(status: .pending)).isEmpty
                        }
                        for (index, mac) in macs.enumerated() {
                            let registration = await standIn.state.registration(mac)
                            #expect((registration != nil) == (index % 3 != 0), "\(mac)")
                        }
                        // No MAC was in two calls at once, by the stand-in's own clock.
                        let calls = await standIn.state.calls.map(CallLogEntry.init)
                        #expect(Set(calls.flatMap(\.macs)) == Set(macs), "every MAC was called")
                        #expect(CallLogEntry.overlaps(calls) == [])
                        let workers = Set(
                            try await database.store.journal(JournalFilter(limit: 10_000)).filter {
                                $0.action.hasPrefix("redirect.")
                            }.map(\.actor))
                        #expect(workers == ["worker:one", "worker:two"], "both instances worked")
                    }
                }
            }
        }
    }
}
