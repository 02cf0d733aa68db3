import Foundation
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import YealinkYMCSStandIn

/// `serve` killed with SIGKILL in the middle of a YMCS batch, after the service added the devices but before its
/// answer came: the restarted `serve` finds them already there (800003), completes the registration, and no phone is
/// lost, left elsewhere, or registered twice for one generation.
@Suite("a YMCS batch cut short by SIGKILL")
struct YMCSKilledTests {
    static let client = "ymcs-killed"
    static let secret = "ymcs-NEVER-SHOWN-c45e19"

    @Test("killed while YMCS holds its answer to addDevicesByMac; the restarted serve completes every registration")
    func killedMidBatch() async throws {
        let ymcs = FakeYMCSState(
            clients: [Self.client: .init(secret: Self.secret, organisation: "org-k")], macOnlyOrganisations: ["org-k"])
        let authority = try PrivateCertificateAuthority()
        let macs = (0..<150).map { String(format: "805EC0%06X", 0x100000 + $0) }
        let url = "https://prov.example.com/k/yealink/"
        try await RunningFakeYMCS.with(state: ymcs, tls: authority) { server in
            let csv =
                "model,mac,device_id,extension\n"
                + macs.enumerated().map { "T54W,\($1),k\($0)," }.joined(separator: "\n")
            try await FleetRig.with(files: [.line(Self.secret), .pem(authority.caCertificatePEM), .csv(csv)]) { rig in
                let (cli, environment, database, files) = (rig.cli, rig.environment, rig.database, rig.files)
                try await RedirectAccountTests.expectOK(
                    cli,
                    [
                        "account", "add", "ymcs-k", "--kind", "yealink-ymcs", "--client-id", Self.client,
                        "--client-secret-file", files[1], "--url", server.url, "--ca-file", files[2],
                    ])
                _ = try await cli.addTenant([
                    "k", "--url-template", "https://prov.example.com/k/<mac>.xml", "--url-template",
                    "yealink=\(url)", "--account", "ymcs-k",
                ])
                let imported = try await cli.run(["device", "import", files[3], "--tenant", "k"])
                #expect(imported.status == 0, "\(imported.output)\(imported.error)")

                // The service adds the devices and then holds its answer; serve dies meanwhile.
                await ymcs.delayAddAnswers(.seconds(60))
                let first = try await ServeProcess.start(environment: environment)
                try await eventually("a batch added at YMCS, its answer held") {
                    let (low, high) = (await ymcs.device(macs[0]), await ymcs.device(macs[149]))
                    return low != nil || high != nil
                }
                first.signal(SIGKILL)
                _ = await first.terminate()
                var addedBeforeKill = 0
                for mac in macs where await ymcs.device(mac) != nil { addedBeforeKill += 1 }
                let registered = try await database.store.devices(DeviceFilter(status: .registered, limit: 1000))
                #expect(addedBeforeKill > 0 && registered.isEmpty, "\(addedBeforeKill) added, none known as such")

                // Restarted: the claims cut short are taken again when their lease (120 s) ends.
                await ymcs.delayAddAnswers(.zero)
                try await ServeProcess.with(environment: environment) { _ in
                    try await eventually("every phone registered at YMCS and known as such", within: .seconds(200)) {
                        let known = try await database.store.devices(DeviceFilter(status: .registered, limit: 1000))
                        var held = 0
                        for mac in macs {
                            let device = await ymcs.device(mac)
                            if device?.url == url && device?.organisation == "org-k" { held += 1 }
                        }
                        return known.count == macs.count && held == macs.count
                    }
                }
                // One successful registration per phone and generation in the journal: the killed call left none.
                var successes: [String: Int] = [:]
                for entry in try await database.store.journal(JournalFilter(limit: 10_000))
                where entry.action.hasPrefix("redirect.") && entry.outcome == "ok" {
                    let generation = entry.detail["generation"].map { "\($0)" } ?? "-"
                    successes["\(entry.mac ?? "-") \(generation)", default: 0] += 1
                }
                #expect(
                    successes.count == macs.count && successes.values.allSatisfy { $0 == 1 },
                    "\(successes.count) \(successes.filter { $0.value != 1 }.prefix(3))")
                #expect(await ymcs.calls.allSatisfy { $0.status < 500 }, "no call refused by the stand-in")
            }
        }
    }
}
