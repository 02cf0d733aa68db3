import FakePBXService
import Foundation
import NIOHTTP1
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import Testing

/// `provhook source sync` with the real binary against the PBX stand-ins: onboarding a PBX's devices, and the
/// differences a lost webhook leaves.
@Suite("PBX sync")
struct SourceSyncTests {
    static let apiKey = SourceRig.kazooAPIKey
    static let account = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

    static func mac(_ index: Int) -> String { String(format: "000413%06X", index) }

    static func kazoo(devices count: Int) -> FakePBXState {
        var devices: [String: FakePBXState.KazooDevice] = [:]
        for index in 1...count {
            devices[String(format: "dev%05d", index)] = .init(
                macAddress: Self.mac(index).lowercased(), brand: "snom", model: "D785")
        }
        devices["softphone"] = .init(macAddress: "")
        return FakePBXState(kazooAccounts: [Self.account: .init(apiKey: Self.apiKey, devices: devices)])
    }

    func sync(
        _ rig: SourceRig, _ extra: [String] = []
    ) async throws -> (status: Int32, json: [String: Any], error: String) {
        let result = try await rig.cli.run(["source", "sync", "kazoo-acme", "--page-size", "50", "--json"] + extra)
        let json = (try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]) ?? [:]
        return (result.status, json, result.error)
    }

    @Test("onboarding 500 devices in one sync; a device removed on the PBX is deregistered by the next")
    func onboarding() async throws {
        try await SourceRig.with(pbx: Self.kazoo(devices: 500)) { rig in
            try await rig.addKazooSource()
            let serve = try await rig.serve()
            defer { serve.stop() }

            var run = try await self.sync(rig, ["--dry-run"])
            #expect(run.status == 0 && run.json["registered"] as? Int == 500, "\(run.json) \(run.error)")
            #expect(try await rig.database.store.devices(DeviceFilter(tenantID: "acme", limit: 1000)).isEmpty)

            run = try await self.sync(rig)
            #expect(run.status == 0, "\(run.error)")
            #expect(run.json["listed"] as? Int == 501 && run.json["registered"] as? Int == 500)
            #expect(run.json["without_mac"] as? Int == 1)
            #expect(run.error.contains("page 11"), "progress on standard error, a page at a time")
            try await eventually("all 500 registered at the service", within: .seconds(120)) {
                await rig.state.registrationCount() == 500
            }
            #expect(await rig.state.registration(Self.mac(1))?.url == "https://p.example/\(Self.mac(1)).xml")
            // The service answers before the worker journals the outcome: wait for the outcomes too, so that the
            // journal has stopped growing before it is counted.
            try await eventually("all 500 outcomes recorded", within: .seconds(60)) {
                try await rig.database.store.devices(DeviceFilter(status: .registered)).count == 500
            }

            // Nothing changed: no call to the service, and only the run's row in the journal.
            let calls = await rig.state.calls.count
            let rows = try await rig.database.store.journal(JournalFilter(limit: 10_000)).count
            run = try await self.sync(rig)
            #expect(run.status == 0 && run.json["unchanged"] as? Int == 500 && run.json["registered"] as? Int == 0)
            let journal = try await rig.database.store.journal(JournalFilter(limit: 10_000))
            #expect(journal.count == rows + 1 && journal.last?.action == "source.sync", "\(journal.suffix(3))")
            try await Task.sleep(for: .milliseconds(500))
            #expect(await rig.state.calls.count == calls)

            // Removed, disabled, and a new MAC for a device id on the PBX side.
            await rig.pbx.state.setKazooDevice(nil, id: "dev00001", account: Self.account)
            await rig.pbx.state.setKazooDevice(
                .init(macAddress: Self.mac(2).lowercased(), enabled: false), id: "dev00002", account: Self.account)
            await rig.pbx.state.setKazooDevice(
                .init(macAddress: Self.mac(9999).lowercased()), id: "dev00003", account: Self.account)
            run = try await self.sync(rig)
            #expect(run.status == 0, "\(run.error)")
            #expect(run.json["deregistered"] as? Int == 2 && run.json["registered"] as? Int == 1, "\(run.json)")
            try await eventually("the removed, the disabled and the old MAC deregistered; the new one registered") {
                let (removed, disabled, old, new) = (
                    await rig.state.registration(Self.mac(1)), await rig.state.registration(Self.mac(2)),
                    await rig.state.registration(Self.mac(3)), await rig.state.registration(Self.mac(9999))
                )
                return removed == nil && disabled == nil && old == nil && new != nil
            }
            let synced = try await rig.database.store.journal(JournalFilter(mac: Self.mac(9999)))
            #expect(synced.contains { $0.actor == "sync:kazoo-acme" && $0.action == "event.device.updated" })
        }
    }

    @Test("a page that fails midway deregisters nothing; the mass-removal guard holds a fleet's removal back")
    func safety() async throws {
        try await SourceRig.with(pbx: Self.kazoo(devices: 120)) { rig in
            try await rig.addKazooSource()
            // One MAC is another tenant's: a conflict, counted and named in the run's row, never registered here.
            try await rig.database.store.addTenant("beta", template: "https://beta.example/<mac>")
            _ = try await rig.database.store.ingest(
                .added(mac: MACAddress(Self.mac(120))!, deviceID: nil, extensionNumber: nil, model: nil),
                tenantID: "beta", eventID: "beta-1", payload: Array("{}".utf8), actor: "cli:test",
                planner: EventPlanner())
            var run = try await self.sync(rig)
            #expect(run.status == 0 && run.json["registered"] as? Int == 119, "\(run.error)")
            #expect(run.json["conflicts"] as? Int == 1 && run.json["conflict_macs"] as? [String] == [Self.mac(120)])
            let rows = try await rig.database.store.journal(JournalFilter(limit: 10_000)).count
            run = try await self.sync(rig)
            #expect(run.json["conflicts"] as? Int == 1)
            #expect(try await rig.database.store.journal(JournalFilter(limit: 10_000)).count == rows + 1)
            _ = try await rig.database.store.ingest(
                .removed(mac: MACAddress(Self.mac(120))!, deviceID: nil), tenantID: "beta", eventID: "beta-2",
                payload: Array("{}".utf8), actor: "cli:test", planner: EventPlanner())
            run = try await self.sync(rig)
            #expect(run.json["registered"] as? Int == 1, "released by beta, the MAC is registered here: \(run.json)")

            // The third page fails: the devices after it were not seen, and must not be taken for removed.
            await rig.pbx.state.failListing(3)
            run = try await self.sync(rig)
            #expect(run.status == 1 && run.json["deregistered"] as? Int == 0, "\(run.json)")
            #expect((run.json["errors"] as? [String])?.first?.contains("page 3") == true, "\(run.json)")
            var registered = try await rig.database.store.devices(DeviceFilter(tenantID: "acme", limit: 1000))
            #expect(registered.filter { $0.desired == .registered }.count == 120)

            // The PBX answers an empty account (a wrong account, a broken API): the guard holds.
            for index in 1...120 {
                await rig.pbx.state.setKazooDevice(nil, id: String(format: "dev%05d", index), account: Self.account)
            }
            run = try await self.sync(rig)
            #expect(run.status == 1 && run.json["removals_held_back"] as? Int == 120, "\(run.json)")
            registered = try await rig.database.store.devices(DeviceFilter(tenantID: "acme", limit: 1000))
            #expect(registered.filter { $0.desired == .registered }.count == 120)
            let sources = try await rig.cli.run(["source", "list", "--json"])
            #expect(sources.output.contains("--allow-mass-removal"), "the last run's error is kept with the source")

            run = try await self.sync(rig, ["--allow-mass-removal"])
            #expect(run.status == 0 && run.json["deregistered"] as? Int == 120, "\(run.json)")
        }
    }

    @Test("a periodic sync runs in serve, once across two processes, and shows in source list, /metrics and /readyz")
    func periodic() async throws {
        try await SourceRig.with(pbx: Self.kazoo(devices: 20)) { rig in
            try await rig.addKazooSource(options: ["--sync-interval", "3600"])
            let refused = try await rig.cli.run(["source", "update", "kazoo-acme", "--sync-interval", "5"])
            #expect(refused.status == 2 && refused.error.contains("60 to 604800"), "\(refused.error)")
            let first = try await rig.serve()
            defer { first.stop() }
            let second = try await rig.serve()
            defer { second.stop() }
            try await eventually("all 20 registered by the periodic sync", within: .seconds(60)) {
                await rig.state.registrationCount() == 20
            }
            // Both processes checked for due syncs at start; the lease let one run it.
            try await Task.sleep(for: .seconds(1))
            let runs = try await rig.database.store.journal(JournalFilter(action: "source.sync"))
            #expect(runs.count == 1 && runs.first?.actor == "sync:kazoo-acme", "\(runs)")
            let listed = try await rig.cli.run(["source", "list"])
            #expect(listed.output.contains("every 3600 s") && listed.output.contains(" ok"), "\(listed.output)")
            var exposition = ""
            for serve in [first, second] {
                let metrics = try await SourceRig.send(
                    "http://127.0.0.1:\(serve.ports.admin)/metrics", method: .GET, body: nil, contentType: nil)
                exposition += metrics.body
                let ready = try await SourceRig.send(
                    "http://127.0.0.1:\(serve.ports.admin)/readyz", method: .GET, body: nil, contentType: nil)
                #expect(ready.body.contains(#""kazoo-acme":"ok at"#), "\(ready.body)")
            }
            #expect(exposition.contains(#"provhook_source_syncs_total{source="kazoo-acme",outcome="ok"} 1"#))
            #expect(exposition.contains(#"provhook_source_sync_changes_total{source="kazoo-acme"} 20"#))
        }
    }

    @Test("a Wazo source syncs from confd's listing, in pages")
    func wazo() async throws {
        var devices: [String: FakePBXState.WazoDevice] = [:]
        for index in 1...30 {
            devices[String(format: "w%03d", index)] = .init(
                mac: Self.mac(index).lowercased().enumerated().map {
                    $0.offset > 0 && $0.offset % 2 == 0 ? ":\($0.element)" : "\($0.element)"
                }.joined(),
                vendor: "Snom", model: "D785", tenantUUID: "t1")
        }
        let state = FakePBXState(wazoUsers: ["provhook": ("pw-0123456789", "t1")], wazoDevices: devices)
        try await SourceRig.with(pbx: state) { rig in
            let passwordFile = try SourceRig.secretFile("pw-0123456789")
            defer { try? FileManager.default.removeItem(atPath: passwordFile) }
            _ = try await rig.addSource([
                "wazo-acme", "--kind", "wazo", "--tenant", "acme", "--api-url", rig.pbx.baseURL, "--api-user",
                "provhook", "--api-password-file", passwordFile,
            ])
            let result = try await rig.cli.run(["source", "sync", "wazo-acme", "--page-size", "7", "--json"])
            #expect(result.status == 0, "\(result.error)")
            let json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] ?? [:]
            #expect(json["listed"] as? Int == 30 && json["registered"] as? Int == 30, "\(json)")
            let stored = try await rig.database.store.devices(DeviceFilter(tenantID: "acme", limit: 100))
            #expect(stored.count == 30 && stored.allSatisfy { $0.model == "Snom D785" })
        }
    }
}
