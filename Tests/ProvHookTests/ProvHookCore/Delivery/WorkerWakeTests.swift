import Foundation
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import Testing
import WebhookSignature

/// When the worker wakes: a freed slot, another process's commit (by NOTIFY), never only its idle poll.
@Suite("Worker wake-ups")
struct WorkerWakeTests {
    @Test("a slow call holds its own slot only: a new device goes out on a free one")
    func slowCallDoesNotBlock() async throws {
        try await EndToEnd.run(concurrency: 2, idleWake: .seconds(120), readTimeout: .seconds(60)) { run in
            await run.state.failNext(1, with: .hang(.seconds(60)))
            func add(_ mac: String) async throws -> Int {
                try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status
            }
            #expect(try await add("000413000B01") == 202)
            try await eventually("the first device claimed") { try await run.device("000413000B01")?.attempts == 1 }
            #expect(try await add("000413000B02") == 202)
            // The first call is held for a minute; the second device must not wait for it.
            try await eventually("the second device applied while the first call is held", within: .seconds(20)) {
                await run.state.registration("000413000B02") != nil
            }
            #expect(await run.state.registration("000413000B01") == nil, "the first call is still held")
            await run.state.releaseHangs()
        }
    }

    @Test("changes committed by another process wake the worker through the database (NOTIFY), not a poll")
    func wakeByNotify() async throws {
        // The worker's idle wake is two minutes: only the database's notification can wake it within the bound.
        try await EndToEnd.run(idleWake: .seconds(120)) { run in
            try await Task.sleep(for: .milliseconds(300))  // Let the worker fall asleep on an empty queue.
            let mac = MACAddress("000413000A01")!
            _ = try await run.store.setDesired(
                DeviceChange(mac: mac, desired: .registered), tenantID: EndToEnd.tenant, actor: "cli:test")
            try await eventually("registered", within: .seconds(20)) {
                await run.state.registration(mac.canonical) != nil
            }
            _ = try await run.store.updateTenant(
                id: EndToEnd.tenant, urlTemplate: try URLTemplate("https://new.example/<mac>"), actor: "cli:test")
            try await eventually("re-pointed", within: .seconds(20)) {
                await run.state.registration(mac.canonical)?.url == "https://new.example/000413000A01"
            }
            _ = try await run.store.removeTenant(id: EndToEnd.tenant, actor: "cli:test")
            try await eventually("deregistered", within: .seconds(20)) {
                await run.state.registration(mac.canonical) == nil
            }
            let rows = try await run.store.journal(JournalFilter(mac: mac.canonical)).map(\.action)
            #expect(rows.contains("device.repoint") && rows.contains("device.deregister"), "\(rows)")
        }
    }
}
