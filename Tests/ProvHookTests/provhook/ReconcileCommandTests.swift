import Foundation
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing

@Suite("provhook reconcile")
struct ReconcileCommandTests {
    @Test("the command reports drift with --dry-run and fixes it without a running serve")
    func command() async throws {
        try await TestDatabase.with { database in
            let template = try URLTemplate("https://p.example/<mac>.xml")
            let (_, secret) = try await database.store.addTenant("acme", urlTemplate: template)
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { standIn in
                try await RunningProvHook.start(
                    database: database.url, secrets: database.secrets, redirectEndpoint: standIn.endpoint
                ).whileRunning { provhook in
                    for mac in ["000413000001", "000413000002"] {
                        #expect(
                            try await provhook.send(
                                tenant: "acme", body: #"{"type":"device.added","mac":"\#(mac)"}"#, secret: secret
                            ).status == 202)
                    }
                    try await eventually("registered") {
                        try await database.store.devices(DeviceFilter(status: .registered)).count == 2
                    }
                }

                await standIn.state.setRegistration(
                    "000413000001", .init(owner: StandInAccounts.user, url: "https://drifted.example/"))
                await standIn.state.setRegistration("000413000002", nil)
                await standIn.state.setRegistration(
                    "000413000077", .init(owner: StandInAccounts.user, url: "https://extra.example/"))
                let cli = CommandLineRunner(environment: [
                    "PROVHOOK_DATABASE_URL": database.urlString, "PROVHOOK_SECRET_KEY_FILE": database.secretKeyFile,
                    "PROVHOOK_REDIRECT_URL": standIn.endpoint,
                    "PROVHOOK_REDIRECT_ALLOW_HTTP": "1",
                    "PROVHOOK_REDIRECT_USER": StandInAccounts.user,
                    "PROVHOOK_REDIRECT_PASSWORD": StandInAccounts.password,
                    "PROVHOOK_RECONCILE_MODELS": "snomD785",
                ])
                let report = try await cli.run(["reconcile", "--dry-run"])
                #expect(report.status == 0, "\(report.error)")
                #expect(
                    report.output.contains("url_drift") && report.output.contains("missing_registration")
                        && report.output.contains("unknown_mac"))
                #expect(report.output.contains("dry run, nothing changed"))
                #expect(await standIn.state.registration("000413000001")?.url == "https://drifted.example/")

                let fix = try await cli.run(["reconcile", "--prune"])
                #expect(fix.status == 0, "\(fix.error)")
                #expect(
                    await standIn.state.registration("000413000001")?.url
                        == template.expectedURL(for: MACAddress("000413000001")!))
                #expect(
                    await standIn.state.registration("000413000002")?.url
                        == template.expectedURL(for: MACAddress("000413000002")!))
                #expect(await standIn.state.registration("000413000077") == nil)
                let again = try await cli.run(["reconcile", "--dry-run"])
                #expect(again.output.contains("0 finding(s)"), "\(again.output)")
            }
        }
    }

    @Test(
        "--tenant T checks T only: another tenant's drift is neither reported nor queued, no unknown MAC is looked for")
    func tenantScope() async throws {
        try await TestDatabase.with { database in
            let acmeTemplate = try URLTemplate("https://a.example/<mac>.xml")
            let (_, acmeSecret) = try await database.store.addTenant("acme", urlTemplate: acmeTemplate)
            let (_, betaSecret) = try await database.store.addTenant("beta", template: "https://b.example/<mac>.xml")
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { standIn in
                try await RunningProvHook.start(
                    database: database.url, secrets: database.secrets, redirectEndpoint: standIn.endpoint
                ).whileRunning { provhook in
                    for (tenant, secret, mac) in [
                        ("acme", acmeSecret, "000413000701"), ("acme", acmeSecret, "000413000702"),
                        ("beta", betaSecret, "000413000711"), ("beta", betaSecret, "000413000712"),
                    ] {
                        let answer = try await provhook.send(
                            tenant: tenant, body: #"{"type":"device.added","mac":"\#(mac)"}"#, secret: secret)
                        #expect(answer.status == 202)
                    }
                    try await eventually("registered") {
                        try await database.store.devices(DeviceFilter(status: .registered)).count == 4
                    }
                }
                // The same drift at both tenants, and a MAC registered to our account that no tenant knows.
                let drifted = FakeRedirectState.Registration(
                    owner: StandInAccounts.user, url: "https://drifted.example/")
                await standIn.state.setRegistration("000413000701", drifted)
                await standIn.state.setRegistration("000413000702", nil)
                await standIn.state.setRegistration("000413000711", drifted)
                await standIn.state.setRegistration("000413000712", nil)
                await standIn.state.setRegistration("000413000799", drifted)
                let beta = try await database.store.devices(DeviceFilter(tenantID: "beta"))

                let result = try await Self.cli(database, standIn).run(["reconcile", "--tenant", "acme"])
                #expect(result.status == 0, "\(result.error)")
                #expect(
                    result.output.contains("000413000701") && result.output.contains("000413000702"), "\(result.output)"
                )
                #expect(
                    !result.output.contains("000413000711") && !result.output.contains("000413000712")
                        && !result.output.contains("000413000799"), "\(result.output)")
                #expect(result.output.contains("checked 2 device(s): 0 in sync, 2 finding(s)"), "\(result.output)")

                // acme's drift was fixed by the command's own worker; beta's and the unknown MAC were left alone.
                #expect(
                    await standIn.state.registration("000413000701")?.url
                        == acmeTemplate.expectedURL(for: MACAddress("000413000701")!))
                #expect(
                    await standIn.state.registration("000413000702")?.url
                        == acmeTemplate.expectedURL(for: MACAddress("000413000702")!))
                #expect(await standIn.state.registration("000413000711") == drifted)
                #expect(await standIn.state.registration("000413000712") == nil)
                #expect(await standIn.state.registration("000413000799") == drifted)
                #expect(try await database.store.devices(DeviceFilter(tenantID: "beta")) == beta, "nothing queued")

                let findings = try await database.store.journal(JournalFilter(action: "reconcile.finding"))
                #expect(findings.compactMap(\.mac).sorted() == ["000413000701", "000413000702"])
                #expect(findings.allSatisfy { $0.tenantID == "acme" && $0.outcome == "queued" })
                let fixes = try await database.store.journal(JournalFilter(action: "reconcile.fix"))
                #expect(fixes.compactMap(\.mac).sorted() == ["000413000701", "000413000702"])
                let run = try await database.store.journal(JournalFilter(action: "reconcile.run"))
                #expect(run.count == 1 && run.first?.tenantID == "acme")
                #expect(
                    run.first?.detail["devices_checked"] == .number(2) && run.first?.detail["findings"] == .number(2))

                // A run whose checks fail is not a clean run: exit 1, said on standard error, for a cron job to see.
                await standIn.state.failAll(with: .status(500))
                let failing = try await Self.cli(database, standIn).run([
                    "reconcile", "--tenant", "acme", "--apply", "0",
                ])
                #expect(failing.status == 1, "\(failing.output)\(failing.error)")
                #expect(failing.output.contains("check_failed"), "\(failing.output)")
                #expect(failing.error.contains("check(s) failed"), "\(failing.error)")
            }
        }
    }

    @Test("--apply 0 queues the fix and sends nothing; serve's worker applies it afterwards")
    func applyZero() async throws {
        try await TestDatabase.with { database in
            let template = try URLTemplate("https://p.example/<mac>.xml")
            let (_, secret) = try await database.store.addTenant("acme", urlTemplate: template)
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { standIn in
                func start() async throws -> RunningProvHook {
                    try await RunningProvHook.start(
                        database: database.url, secrets: database.secrets, redirectEndpoint: standIn.endpoint)
                }
                try await start().whileRunning { provhook in
                    for mac in ["000413000801", "000413000802"] {
                        let answer = try await provhook.send(
                            tenant: "acme", body: #"{"type":"device.added","mac":"\#(mac)"}"#, secret: secret)
                        #expect(answer.status == 202)
                    }
                    try await eventually("registered") {
                        try await database.store.devices(DeviceFilter(status: .registered)).count == 2
                    }
                }
                // serve is stopped: from here only the command can send anything.
                let drifted = FakeRedirectState.Registration(
                    owner: StandInAccounts.user, url: "https://drifted.example/")
                await standIn.state.setRegistration("000413000801", drifted)
                await standIn.state.setRegistration("000413000802", nil)
                let before = await standIn.state.calls.count

                let result = try await Self.cli(database, standIn).run(["reconcile", "--apply", "0"])
                #expect(result.status == 0, "\(result.error)")
                let lines = result.output.split(separator: "\n")
                for mac in ["000413000801", "000413000802"] {
                    #expect(lines.contains { $0.contains(mac) && $0.contains("queued") }, "\(result.output)")
                }
                #expect(!result.output.contains("applied the queued fixes"), "\(result.output)")
                // Only questions were asked; the drift is still there.
                let methods = await standIn.state.calls.dropFirst(before).compactMap(\.method)
                let asked: Set = ["redirect.listPhones", "redirect.getPhoneRedirection", "redirect.checkPhone"]
                #expect(!methods.isEmpty && methods.allSatisfy(asked.contains), "\(methods)")
                #expect(await standIn.state.registration("000413000801") == drifted)
                #expect(await standIn.state.registration("000413000802") == nil)
                // Queued: both devices wait for a worker.
                let pending = try await database.store.devices(DeviceFilter(status: .pending))
                #expect(pending.map(\.mac) == ["000413000801", "000413000802"])

                try await start().whileRunning { _ in
                    try await eventually("applied by serve's worker") {
                        let (one, two) = (
                            await standIn.state.registration("000413000801"),
                            await standIn.state.registration("000413000802")
                        )
                        return one?.url == template.expectedURL(for: MACAddress("000413000801")!)
                            && two?.url == template.expectedURL(for: MACAddress("000413000802")!)
                    }
                    try await eventually("registered again") {
                        try await database.store.devices(DeviceFilter(status: .registered)).count == 2
                    }
                }
            }
        }
    }

    /// `provhook` against `database` and the stand-in, over plain HTTP, with one model to list.
    static func cli(_ database: TestDatabase, _ standIn: RunningFakeRedirect) -> CommandLineRunner {
        CommandLineRunner(environment: [
            "PROVHOOK_DATABASE_URL": database.urlString, "PROVHOOK_SECRET_KEY_FILE": database.secretKeyFile,
            "PROVHOOK_REDIRECT_URL": standIn.endpoint, "PROVHOOK_REDIRECT_ALLOW_HTTP": "1",
            "PROVHOOK_REDIRECT_USER": StandInAccounts.user, "PROVHOOK_REDIRECT_PASSWORD": StandInAccounts.password,
            "PROVHOOK_RECONCILE_MODELS": "snomD785",
        ])
    }
}
