import FakeRedirectService
import Foundation
import ProvHookCore
import ProvHookTestSupport
import SnomRedirect
import Testing

@Suite("provhook reconcile")
struct ReconcileCommandTests {
    @Test("the command reports drift with --dry-run and fixes it without a running serve")
    func command() async throws {
        try await TestDatabase.with { database in
            let template = try URLTemplate("https://p.example/<mac>.xml")
            let (_, secret) = try await database.store.addTenant(
                id: "acme", name: nil, urlTemplate: template, allowBearer: false, actor: "cli:test")
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
}
