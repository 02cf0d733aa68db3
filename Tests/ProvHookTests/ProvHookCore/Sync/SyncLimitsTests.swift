import FakePBXService
import Foundation
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import Testing

/// A sync always ends: against a crossbar whose paging repeats, a PBX that stops answering mid-listing, and in
/// `serve`, where one source's stalled sync must not hold back another's. The real binary against the stand-ins.
@Suite("PBX sync limits")
struct SyncLimitsTests {
    /// The journal's last `source.sync` row of `source`.
    static func lastRun(_ rig: SourceRig, _ source: String) async throws -> JournalEntry? {
        try await rig.database.store.journal(JournalFilter(action: "source.sync", limit: 1000))
            .last { $0.actor == "sync:\(source)" }
    }

    static func json(_ output: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? [:]
    }

    static func registered(_ rig: SourceRig, tenant: String = "acme") async throws -> Int {
        try await rig.database.store.devices(DeviceFilter(tenantID: tenant, limit: 1000))
            .filter { $0.desired == .registered }.count
    }

    /// Adds the Kazoo source `kazoo-acme` for tenant `acme`, and syncs it once: 120 devices registered.
    static func onboard(
        _ rig: SourceRig, cli: CommandLineRunner, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await rig.addKazooSource()
        let run = try await cli.run(["source", "sync", "kazoo-acme", "--page-size", "50", "--json"])
        #expect(
            run.status == 0 && Self.json(run.output)["registered"] as? Int == 120, "\(run.error)",
            sourceLocation: sourceLocation)
    }

    @Test("a crossbar that answers the same next_start_key for ever: the sync fails at once and deregisters nothing")
    func repeatedCursor() async throws {
        try await SourceRig.with(pbx: SourceSyncTests.kazoo(devices: 120)) { rig in
            var cli = rig.cli
            // Without the check, the listing never ends: the command is ended here instead, and the test fails.
            cli.timeout = .seconds(60)
            try await Self.onboard(rig, cli: cli)

            await rig.pbx.state.repeatNextStartKey(true)
            var run = try await cli.run(["source", "sync", "kazoo-acme", "--page-size", "50", "--json"])
            var json = Self.json(run.output)
            #expect(run.status == 1, "\(run.error)")
            #expect(json["stopped"] as? String == "repeated_cursor" && json["deregistered"] as? Int == 0, "\(json)")
            #expect(json["listed"] as? Int == 100, "two pages read, the second's cursor the same: \(json)")
            let reason = run.error.split(separator: "\n").last.map(String.init) ?? ""
            #expect(
                reason.hasPrefix("provhook: the sync is incomplete (repeated_cursor)")
                    && reason.contains("cursor") && reason.contains("again"), "\(run.error)")
            var row = try await Self.lastRun(rig, "kazoo-acme")
            #expect(
                row?.outcome == "error" && row?.detail["stopped"] == .string("repeated_cursor"),
                "\(String(describing: row))")
            #expect(try await Self.registered(rig) == 120, "a listing that did not finish removes nothing")
            let source = try await rig.database.store.sources().first { $0.name == "kazoo-acme" }
            #expect(source?.lastSync?.error?.contains("again") == true, "\(String(describing: source?.lastSync))")

            // The device cap: more devices than allowed ends the sync too, and removes nothing.
            await rig.pbx.state.repeatNextStartKey(false)
            run = try await cli.run([
                "source", "sync", "kazoo-acme", "--page-size", "50", "--max-devices", "60", "--json",
            ])
            json = Self.json(run.output)
            #expect(run.status == 1 && json["stopped"] as? String == "too_large", "\(json) \(run.error)")
            row = try await Self.lastRun(rig, "kazoo-acme")
            #expect(row?.outcome == "error" && row?.detail["stopped"] == .string("too_large"))
            #expect(try await Self.registered(rig) == 120)
        }
    }

    @Test("a PBX that stops answering mid-listing: the sync ends by its stall timeout, journaled as failed")
    func stalled() async throws {
        try await SourceRig.with(pbx: SourceSyncTests.kazoo(devices: 120)) { rig in
            var cli = rig.cli
            cli.timeout = .seconds(120)
            try await Self.onboard(rig, cli: cli)

            // The first page is answered, the second never (within the test).
            await rig.pbx.state.holdListings(from: 2, for: .seconds(600))
            let started = ContinuousClock.now
            // One request may take 300 s here: only the stall timeout can end the sync soon.
            let run = try await cli.run([
                "source", "sync", "kazoo-acme", "--page-size", "50", "--json", "--stall-seconds", "2",
                "--read-timeout-seconds", "300",
            ])
            let elapsed = ContinuousClock.now - started
            let json = Self.json(run.output)
            #expect(run.status == 1, "\(run.error)")
            #expect(elapsed < .seconds(60), "\(elapsed)")
            #expect(json["stopped"] as? String == "stalled" && json["listed"] as? Int == 50, "\(json)")
            #expect(
                run.error.contains("the sync is incomplete (stalled)") && run.error.contains("page 2"), "\(run.error)")
            #expect(run.error.contains("no page within 2"), "\(run.error)")
            let row = try await Self.lastRun(rig, "kazoo-acme")
            #expect(
                row?.outcome == "error" && row?.detail["stopped"] == .string("stalled"), "\(String(describing: row))")
            #expect(try await Self.registered(rig) == 120, "a listing that did not finish removes nothing")
        }
    }

    @Test("in serve, a source whose PBX stops answering does not hold back another source's periodic sync")
    func independentSources() async throws {
        let heldAccount = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
        let heldKey = String(repeating: "d4", count: 32)
        var prompt: [String: FakePBXState.KazooDevice] = [:]
        var held: [String: FakePBXState.KazooDevice] = [:]
        for index in 1...20 {
            prompt[String(format: "dev%05d", index)] = .init(macAddress: SourceSyncTests.mac(index).lowercased())
            held[String(format: "dev%05d", index)] = .init(macAddress: SourceSyncTests.mac(1000 + index).lowercased())
        }
        let state = FakePBXState(kazooAccounts: [
            SourceSyncTests.account: .init(apiKey: SourceSyncTests.apiKey, devices: prompt),
            heldAccount: .init(apiKey: heldKey, devices: held),
        ])
        try await SourceRig.with(pbx: state) { rig in
            try await rig.database.store.addTenant("beta", template: "https://beta.example/<mac>")
            // Every listing of the held account waits 10 minutes: its PBX has stopped answering.
            await rig.pbx.state.holdListings(from: 1, for: .seconds(600), account: heldAccount)
            // "a-…" sorts first: claimed first, it would hold a scheduler that runs one sync at a time.
            try await rig.addKazooSource(
                "a-stalled", tenant: "beta", apiKey: heldKey, options: ["--sync-interval", "3600"])
            try await rig.addKazooSource("b-prompt", options: ["--sync-interval", "3600"])
            // The stalled sync may wait 5 minutes, far longer than the test waits for the other.
            let serve = try await rig.serve([
                "PROVHOOK_SYNC_STALL_SECONDS": "300", "PROVHOOK_SYNC_READ_TIMEOUT_SECONDS": "300",
            ])
            defer { serve.stop() }
            try await eventually("b-prompt's periodic sync ran while a-stalled's waits", within: .seconds(60)) {
                try await Self.lastRun(rig, "b-prompt") != nil
            }
            #expect(try await Self.lastRun(rig, "b-prompt")?.outcome == "ok")
            #expect(try await Self.registered(rig) == 20)
            #expect(try await Self.lastRun(rig, "a-stalled") == nil, "a-stalled's sync still waits for its PBX")
            #expect(await rig.pbx.state.listings >= 2, "and it did start: one listing each")
        }
    }
}
