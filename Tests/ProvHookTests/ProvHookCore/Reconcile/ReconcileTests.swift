import AsyncHTTPClient
import Foundation
import Logging
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPC
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import VendorHTTP

@Suite("Reconcile, re-pointing and dry run")
struct ReconcileTests {
    @Test(
        "drift injected at the service is reported by a dry run, then fixed by reconcile; --prune removes unknown MACs")
    func drift() async throws {
        try await EndToEnd.run { run in
            for mac in ["000413000001", "000413000002", "000413000003"] {
                #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202)
            }
            #expect(try await run.send(#"{"type":"device.added","mac":"000413000004"}"#).status == 202)
            #expect(try await run.send(#"{"type":"device.removed","mac":"000413000004"}"#).status == 202)
            try await eventually("applied") { try await run.store.devices(DeviceFilter(status: .pending)).isEmpty }

            // Drift: a changed URL, a lost registration, a removed device registered again by hand, an unknown MAC.
            await run.state.setRegistration(
                "000413000001", .init(owner: StandInAccounts.user, url: "https://hand.example/edited"))
            await run.state.setRegistration("000413000002", nil)
            await run.state.setRegistration(
                "000413000004", .init(owner: StandInAccounts.user, url: "https://stale.example/"))
            await run.state.setRegistration(
                "000413009999", .init(owner: StandInAccounts.user, url: "https://unknown.example/"))
            let httpClient = try RedirectClient.makeHTTPClient(configuration: Self.configuration(run.standIn.endpoint))
            let client = RedirectClient(
                configuration: Self.configuration(run.standIn.endpoint), httpClient: httpClient,
                logger: Logger(label: "t"))
            let reconciler = Reconciler(
                store: run.store, service: client, concurrency: 4, models: ["snomD785", "snomM700"],
                actor: "reconcile:test", logger: Logger(label: "t"))

            let report = try await reconciler.run(tenantID: nil, dryRun: true, prune: true)
            let kinds = Dictionary(uniqueKeysWithValues: report.findings.map { ($0.mac, $0.kind) })
            #expect(
                kinds == [
                    "000413000001": "url_drift", "000413000002": "missing_registration",
                    "000413000004": "stale_registration",
                    "000413009999": "unknown_mac",
                ])
            #expect(report.findings.allSatisfy { $0.action == .reported })
            #expect(
                await run.state.registration("000413000001")?.url == "https://hand.example/edited",
                "a dry run changes nothing")
            #expect(await run.state.registration("000413009999") != nil)

            let fixed = try await reconciler.run(tenantID: nil, dryRun: false, prune: true)
            #expect(fixed.findings.count == 4)
            #expect(fixed.findings.first { $0.mac == "000413009999" }?.action == .queued)
            try await eventually("fixed by the worker") {
                let (one, two, four, unknown) = (
                    await run.state.registration("000413000001"), await run.state.registration("000413000002"),
                    await run.state.registration("000413000004"), await run.state.registration("000413009999")
                )
                return one?.url == run.template.expectedURL(for: MACAddress("000413000001")!) && two != nil
                    && four == nil && unknown == nil
            }
            try await eventually("settled") { try await run.store.devices(DeviceFilter(status: .pending)).isEmpty }
            let clean = try await reconciler.run(tenantID: nil, dryRun: true, prune: false)
            #expect(clean.findings.isEmpty, "\(clean.findings)")
            let journal = try await run.store.journal(JournalFilter(action: "reconcile.finding"))
            #expect(journal.count == 8)
            try await httpClient.shutdown()
        }
    }

    @Test("a new URL template re-points every device")
    func repoint() async throws {
        try await EndToEnd.run { run in
            let macs = (1...12).map { String(format: "0004130001%02X", $0) }
            for mac in macs { #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202) }
            try await eventually("registered") {
                try await run.store.devices(DeviceFilter(status: .registered)).count == 12
            }
            let template = try URLTemplate("https://new-pbx.example.com/p/<mac>.cfg")
            let update = try await run.store.updateTenant(id: EndToEnd.tenant, urlTemplate: template, actor: "cli:test")
            #expect(update.repointedDevices == 12)
            try await eventually("re-pointed at the service") {
                var all = true
                for mac in macs
                where await run.state.registration(mac)?.url != template.expectedURL(for: MACAddress(mac)!) {
                    all = false
                }
                return all
            }
            try await eventually("outcomes recorded") {
                try await run.store.devices(DeviceFilter(status: .registered)).count == 12
            }
        }
    }

    @Test("in a dry run nothing is sent and each call that would have been made is journaled")
    func dryRun() async throws {
        try await EndToEnd.run(isDryRun: true) { run in
            #expect(try await run.send(#"{"type":"device.added","mac":"000413610FF5"}"#).status == 202)
            try await eventually("journaled") {
                try await run.store.journal(JournalFilter(action: "redirect.registerPhone")).first?.outcome
                    == "dry_run"
            }
            #expect(await run.state.calls.isEmpty, "nothing was sent")
        }
    }

    @Test(
        "devices that share a model and a URL are compared by one list; only those the list lacks are asked one by one")
    func byLists() async throws {
        try await TestDatabase.with { database in
            // {mac} is the phone's own placeholder: every device of the tenant has the same URL.
            let template = try URLTemplate("https://pbx.example.com/prov/{mac}.xml")
            try await database.store.addTenant("acme", urlTemplate: template)
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { standIn in
                let macs = (1...40).map { String(format: "0004136200%02X", $0) }
                // 30 D785 (the stand-in's default model), given by the PBX as "D785"; 10 M700.
                for (index, mac) in macs.enumerated() {
                    let model = index < 30 ? "D785" : "snomM700"
                    if index >= 30 { await standIn.state.setModel("snomM700", for: mac) }
                    _ = try await database.store.setDesired(
                        DeviceChange(mac: MACAddress(mac)!, desired: .registered, model: model), tenantID: "acme",
                        actor: "cli:test")
                }
                try await RunningProvHook.start(
                    database: database.url, secrets: database.secrets, redirectEndpoint: standIn.endpoint
                ).whileRunning { _ in
                    try await eventually("all registered") {
                        try await database.store.devices(DeviceFilter(status: .registered)).count == 40
                    }
                }
                // Drift on two devices: one URL edited by hand, one registration lost.
                await standIn.state.setRegistration(
                    macs[3], .init(owner: StandInAccounts.user, url: "https://hand.example/edited"))
                await standIn.state.setRegistration(macs[35], nil)
                let before = await standIn.state.calls.count

                let httpClient = try RedirectClient.makeHTTPClient(configuration: Self.configuration(standIn.endpoint))
                do {
                    let client = RedirectClient(
                        configuration: Self.configuration(standIn.endpoint), httpClient: httpClient,
                        logger: Logger(label: "t"))
                    let reconciler = Reconciler(
                        store: database.store, service: client, concurrency: 4, models: ["snomD785", "snomM700"],
                        actor: "reconcile:test", logger: Logger(label: "t"))
                    let report = try await reconciler.run(tenantID: nil, dryRun: true, prune: false)
                    let kinds = Dictionary(uniqueKeysWithValues: report.findings.map { ($0.mac, $0.kind) })
                    #expect(kinds == [macs[3]: "url_drift", macs[35]: "missing_registration"])
                    #expect(report.devicesChecked == 40 && report.settledByLists == 38)
                    // Two model scans, two lists (one per model at the tenant's URL), two devices asked on their own.
                    let calls = await standIn.state.calls.dropFirst(before).compactMap(\.method)
                    #expect(report.calls == 6 && calls.count == 6, "\(calls)")
                    #expect(calls.filter { $0 == "redirect.listPhones" }.count == 4)
                    #expect(calls.filter { $0 == "redirect.getPhoneRedirection" }.count == 2)
                    let run = try await database.store.journal(JournalFilter(action: "reconcile.run")).last
                    #expect(run?.detail["calls"] == .number(6))
                } catch {
                    try? await httpClient.shutdown()
                    throw error
                }
                try await httpClient.shutdown()
            }
        }
    }

    @Test("a service that fails every call gives check_failed findings, journaled as errors, and queues nothing")
    func checkFailed() async throws {
        try await EndToEnd.run { run in
            for mac in ["000413000901", "000413000902", "000413000903"] {
                #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202)
            }
            #expect(try await run.send(#"{"type":"device.removed","mac":"000413000903"}"#).status == 202)
            try await eventually("applied") {
                let devices = try await run.store.devices()
                return devices.count == 3 && devices.allSatisfy { $0.status != .pending }
            }
            let before = try await run.store.devices()
            // Drift the service would report if it answered: a lost registration, a registration left behind.
            await run.state.setRegistration("000413000901", nil)
            await run.state.setRegistration(
                "000413000903", .init(owner: StandInAccounts.user, url: "https://stale.example/"))
            await run.state.failAll(with: .status(500))

            let httpClient = try RedirectClient.makeHTTPClient(configuration: Self.configuration(run.standIn.endpoint))
            let report: Reconciler.Summary
            do {
                let client = RedirectClient(
                    configuration: Self.configuration(run.standIn.endpoint), httpClient: httpClient,
                    logger: Logger(label: "t"))
                let reconciler = Reconciler(
                    store: run.store, service: client, concurrency: 4, models: ["snomD785"], actor: "reconcile:test",
                    logger: Logger(label: "t"))
                report = try await reconciler.run(tenantID: nil, dryRun: false, prune: true)
            } catch {
                try? await httpClient.shutdown()
                throw error
            }
            try await httpClient.shutdown()

            // The model scan's failure (no MAC), then one per device: none read as missing or stale.
            #expect(
                report.findings.allSatisfy { $0.kind == "check_failed" && $0.action == .error }, "\(report.findings)")
            #expect(
                report.findings.map(\.mac).sorted() == ["", "000413000901", "000413000902", "000413000903"],
                "\(report.findings)")
            #expect(report.devicesChecked == 3 && report.inSync == 0)
            // Nothing queued: every device as it was, no fix journaled.
            #expect(try await run.store.devices() == before)
            #expect(try await run.store.journal(JournalFilter(action: "reconcile.fix")).isEmpty)
            let rows = try await run.store.journal(JournalFilter(action: "reconcile.finding"))
            #expect(rows.count == 4 && rows.allSatisfy { $0.outcome == "error" && $0.detail["kind"] == "check_failed" })
            let runRow = try await run.store.journal(JournalFilter(action: "reconcile.run")).first
            #expect(runRow?.detail["findings"] == .number(4) && runRow?.detail["devices_checked"] == .number(3))
        }
    }

    static func configuration(_ endpoint: String) -> RedirectConfiguration {
        RedirectConfiguration(
            endpoint: endpoint, user: StandInAccounts.user, password: StandInAccounts.password,
            connection: VendorConnection(maxConnections: 4))
    }
}
