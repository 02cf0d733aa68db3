import AsyncHTTPClient
import BenchSupport
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Synchronization
import Testing
import XMLRPC

/// Operators' commands on devices and tenants: `device list`, `tenant remove` and `serve` in a dry run.
extension OperatorCommandTests {
    // MARK: - device list

    @Test("device list: every device by MAC, --tenant, --status, --limit with the next page's --after, --json")
    func deviceList() async throws {
        try await TestDatabase.with { database in
            let template = try URLTemplate("https://p.example/<mac>.xml")
            for tenant in ["acme", "beta"] {
                _ = try await database.store.addTenant(tenant, urlTemplate: template)
            }
            // Inserted out of MAC order, to see the list sorted by MAC.
            for (mac, tenant) in [
                ("000413000004", "beta"), ("000413000002", "acme"), ("000413000001", "acme"), ("000413000003", "acme"),
            ] {
                _ = try await database.store.setDesired(
                    DeviceChange(mac: MACAddress(mac)!, desired: .registered, deviceID: "pbx-\(mac.suffix(1))"),
                    tenantID: tenant, actor: "cli:test")
            }
            try await database.withConnection { connection in
                try await connection.query(
                    "UPDATE devices SET status = 'registered' WHERE mac = '000413000001'", logger: self.logger)
                try await connection.query(
                    """
                    UPDATE devices SET status = 'failed', last_error = 'Error:malformed_url'
                    WHERE mac = '000413000002'
                    """,
                    logger: self.logger)
            }
            let cli = CommandLineRunner(environment: database.environment())

            let all = try await cli.run(["device", "list"])
            #expect(all.status == 0, "\(all.error)")
            var lines = all.output.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("MAC") == true && lines.first?.contains("STATUS") == true)
            #expect(lines.dropFirst().prefix(4).map { String($0.prefix(12)) } == (1...4).map { "00041300000\($0)" })
            #expect(lines.last == "4 device(s), 2 waiting", "pending ones wait: \(all.output)")
            #expect(!all.output.contains("more:"))

            let acme = try await cli.run(["device", "list", "--tenant", "acme"])
            #expect(acme.status == 0)
            #expect(!acme.output.contains("000413000004") && acme.output.contains("000413000003"))
            #expect(acme.output.hasSuffix("3 device(s), 1 waiting\n"), "\(acme.output)")

            let failed = try await cli.run(["device", "list", "--status", "failed"])
            #expect(failed.status == 0)
            lines = failed.output.split(separator: "\n").map(String.init)
            #expect(lines.count == 3, "header, one device, summary: \(failed.output)")
            #expect(lines[1].hasPrefix("000413000002") && lines[1].contains("Error:malformed_url"))
            #expect(lines[1].contains("failed") && lines[1].contains("acme"))

            // A full page says how to get the next one; the next page starts after it (any MAC spelling).
            let first = try await cli.run(["device", "list", "--limit", "2"])
            #expect(first.status == 0)
            #expect(first.output.contains("000413000001") && first.output.contains("000413000002"))
            #expect(!first.output.contains("000413000003"))
            #expect(first.output.hasSuffix("more: provhook device list --after 000413000002\n"), "\(first.output)")
            let next = try await cli.run(["device", "list", "--limit", "3", "--after", "00:04:13:00:00:02"])
            #expect(next.status == 0, "\(next.error)")
            #expect(!next.output.contains("000413000001") && !next.output.contains("000413000002"))
            #expect(next.output.contains("000413000003") && next.output.contains("000413000004"))
            #expect(next.output.hasSuffix("2 device(s), 2 waiting\n"), "a short page is the last: \(next.output)")
            let exact = try await cli.run(["device", "list", "--limit", "2", "--after", "000413000002"])
            #expect(exact.output.hasSuffix("2 device(s), 2 waiting\n"), "a full last page: no next: \(exact.output)")
            let badLimit = try await cli.run(["device", "list", "--limit", "0"])
            #expect(badLimit.status == 2 && badLimit.error.contains("--limit must be in 1...100000"))

            let json = try await cli.run(["device", "list", "--json", "--tenant", "acme", "--status", "pending"])
            #expect(json.status == 0, "\(json.error)")
            let devices = try #require(
                try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]])
            #expect(devices.count == 1)
            let device = try #require(devices.first)
            #expect(device["mac"] as? String == "000413000003")
            #expect(device["tenant_id"] as? String == "acme" && device["device_id"] as? String == "pbx-3")
            #expect(device["desired"] as? String == "registered" && device["status"] as? String == "pending")
            #expect(device["url"] as? String == "https://p.example/000413000003.xml")
            #expect(device["generation"] as? Int == 1 && device["attempts"] as? Int == 0)
            #expect(device["updated_at"] is String && device["next_attempt_at"] is String)
            let emptyPage = try await cli.run(["device", "list", "--json", "--after", "000413000004"])
            #expect(emptyPage.status == 0, "\(emptyPage.error)")
            let none = try JSONSerialization.jsonObject(with: Data(emptyPage.output.utf8)) as? [Any]
            #expect(none?.isEmpty == true, "past the last MAC, an empty page: \(emptyPage.output)")

            let badStatus = try await cli.run(["device", "list", "--status", "bogus"])
            #expect(badStatus.status == 2 && badStatus.error.contains("unknown status \"bogus\""))
            let badAfter = try await cli.run(["device", "list", "--after", "nonsense"])
            #expect(badAfter.status == 2 && badAfter.error.contains("--after is not a MAC address"))
        }
    }

    // MARK: - tenant remove

    @Test("tenant remove: exit 0, its registered devices queued for deregistration and journaled, its webhooks 404")
    func tenantRemove() async throws {
        try await TestDatabase.with { database in
            let template = try URLTemplate("https://p.example/<mac>.xml")
            let (_, acmeSecret) = try await database.store.addTenant("acme", urlTemplate: template)
            let (_, betaSecret) = try await database.store.addTenant("beta", urlTemplate: template)
            let (registered, waiting, removed, skipped, other) = (
                "000413000011", "000413000012", "000413000013", "AABBCC000014", "000413000021"
            )
            for mac in [registered, waiting, removed] {
                _ = try await database.store.setDesired(
                    DeviceChange(mac: MACAddress(mac)!, desired: .registered), tenantID: "acme", actor: "cli:test")
            }
            _ = try await database.store.setDesired(
                DeviceChange(mac: MACAddress(removed)!, desired: .deregistered), tenantID: "acme", actor: "cli:test")
            _ = try await database.store.setDesired(
                DeviceChange(mac: MACAddress(skipped)!, desired: .registered, isSkipped: true), tenantID: "acme",
                actor: "cli:test")
            _ = try await database.store.setDesired(
                DeviceChange(mac: MACAddress(other)!, desired: .registered), tenantID: "beta", actor: "cli:test")
            try await database.withConnection { connection in
                try await connection.query(
                    "UPDATE devices SET status = 'registered' WHERE mac IN ('000413000011', '000413000021')",
                    logger: self.logger)
                try await connection.query(
                    "UPDATE devices SET status = 'deregistered' WHERE mac = '000413000013'", logger: self.logger)
            }
            let before = Dictionary(
                uniqueKeysWithValues: try await database.store.devices().map { ($0.mac, $0) })
            #expect(before[skipped]?.status == .skipped)
            let cli = CommandLineRunner(
                environment: database.environment().merging(["USER": "alice", "SUDO_USER": "alice"]) { $1 })

            let lastBefore = try await database.store.journal(JournalFilter(limit: 1)).last?.id ?? 0
            let result = try await cli.run(["tenant", "remove", "acme"])
            let secrets = [acmeSecret, betaSecret]
            #expect(result.status == 0, "\(Self.redacted(result.error, secrets))")
            #expect(result.output == "removed tenant acme; 2 device(s) queued for deregistration\n")

            let after = Dictionary(uniqueKeysWithValues: try await database.store.devices().map { ($0.mac, $0) })
            for mac in [registered, waiting] {
                #expect(after[mac]?.desired == .deregistered, "\(mac)")
                #expect(after[mac]?.status == .pending, "\(mac) waits for its deregistration")
                #expect(after[mac]?.generation == (before[mac]?.generation ?? 0) + 1, "\(mac)")
            }
            for mac in [removed, skipped, other] {
                #expect(after[mac] == before[mac], "\(mac) is left as it was")
            }
            let queued = try await database.store.journal(
                JournalFilter(action: "device.deregister", afterID: lastBefore))
            #expect(Set(queued.compactMap(\.mac)) == [registered, waiting])
            #expect(queued.allSatisfy { $0.actor == "cli:alice" && $0.outcome == "queued" && $0.tenantID == "acme" })
            #expect(queued.allSatisfy { $0.detail["reason"] == .string("tenant removed") })
            let removal = try await database.store.journal(JournalFilter(action: "tenant.remove", afterID: lastBefore))
            #expect(removal.count == 1 && removal.first?.actor == "cli:alice" && removal.first?.outcome == "ok")
            #expect(removal.first?.detail["devices_deregistering"] == .int(2))

            let listed = try await cli.run(["tenant", "list"])
            #expect(listed.status == 0 && !listed.output.contains("acme") && listed.output.contains("beta"))
            let listedAll = try await cli.run(["tenant", "list", "--all"])
            #expect(listedAll.output.contains("acme"), "a removed tenant is listed with --all")
            let again = try await cli.run(["tenant", "remove", "acme"])
            #expect(
                again.status == 2 && again.error.contains("no tenant \"acme\""),
                "\(Self.redacted(again.error, secrets))")
            for text in secrets {
                #expect(!(result.output + listed.output + listedAll.output + again.error).contains(text), "no secret")
            }

            // serve: the removed tenant's webhooks are 404, the other tenant's still accepted, and the queued
            // deregistrations reach the service.
            let state = StandInAccounts.makeState()
            await state.setRegistration(registered, .init(owner: StandInAccounts.user, url: "https://p.example/x"))
            await state.setRegistration(other, .init(owner: StandInAccounts.user, url: "https://p.example/y"))
            try await RunningFakeRedirect.with(state: state) { standIn in
                try await RunningProvHook.start(
                    database: database.url, secrets: database.secrets, redirectEndpoint: standIn.endpoint
                ).whileRunning { provhook in
                    let refused = try await provhook.send(
                        tenant: "acme", body: #"{"type":"device.added","mac":"000413000031"}"#, secret: acmeSecret)
                    #expect(
                        refused.status == 404 && refused.errorCode == "unknown_tenant",
                        "\(Self.redacted(refused.body, secrets))")
                    let accepted = try await provhook.send(
                        tenant: "beta", body: #"{"type":"device.added","mac":"000413000032"}"#, secret: betaSecret)
                    #expect(accepted.status == 202, "\(Self.redacted(accepted.body, secrets))")
                    try await eventually("acme's devices deregistered") {
                        let devices = try await database.store.devices(DeviceFilter(tenantID: "acme"))
                        return devices.filter { [registered, waiting].contains($0.mac) }
                            .allSatisfy { $0.status == .deregistered }
                    }
                    #expect(await state.registration(registered) == nil, "deregistered at the service")
                    #expect(await state.registration(other) != nil, "beta's device untouched")
                    #expect(try await database.store.device(MACAddress("000413000031")!) == nil)
                }
            }
        }
    }

    // MARK: - dry run without credentials

    enum DryRunWay: String, CaseIterable, Sendable {
        /// `PROVHOOK_DRY_RUN=1`.
        case variable
        /// `serve --dry-run`.
        case flag
    }

    @Test(
        "a dry run by variable or flag, with no redirect settings: calls journaled dry_run, devices applied",
        arguments: DryRunWay.allCases)
    func dryRunServe(way: DryRunWay) async throws {
        try await TestDatabase.with { database in
            let template = try URLTemplate("https://p.example/<mac>.xml")
            let (_, secret) = try await database.store.addTenant("acme", urlTemplate: template)
            var environment = database.environment()
            environment["PROVHOOK_INSTANCE"] = "dry-\(way.rawValue)"
            if way == .variable { environment["PROVHOOK_DRY_RUN"] = "1" }
            let arguments = way == .flag ? ["serve", "--dry-run"] : ["serve"]
            let (kept, gone) = ("000413610FF5", "000413610FF6")

            let serve = try await ServeProcess.start(arguments, environment: environment)
            do {
                #expect(serve.log.contains("dry_run=true"), "\(Self.redacted(serve.log, [secret]))")
                let base = "http://127.0.0.1:\(serve.ports.webhook)"
                for body in [
                    #"{"type":"device.added","mac":"00:04:13:61:0f:f5"}"#,
                    #"{"type":"device.added","mac":"00:04:13:61:0f:f6"}"#,
                ] {
                    #expect(try await Self.send(body, base: base, secret: secret) == 202)
                }
                try await eventually("both journaled as dry runs and recorded as applied") {
                    let devices = try await database.store.devices()
                    return devices.count == 2 && devices.allSatisfy { $0.status == .registered }
                }
                #expect(
                    try await Self.send(#"{"type":"device.removed","mac":"000413610FF6"}"#, base: base, secret: secret)
                        == 202)
                try await eventually("the removal recorded as applied") {
                    try await database.store.device(MACAddress(gone)!)?.status == .deregistered
                }
            } catch {
                _ = await serve.terminate()
                throw error
            }
            let status = await serve.terminate()
            #expect(status == 0, "\(Self.redacted(serve.log, [secret]))")
            #expect(!serve.log.contains(secret) && !serve.log.contains(String(secret.dropFirst("whsec_".count))))

            let calls = try await database.store.journal(JournalFilter(limit: 1000)).filter {
                $0.action.hasPrefix("redirect.")
            }
            #expect(calls.count == 3, "two registrations and one removal: \(calls.map(\.action))")
            #expect(calls.allSatisfy { $0.outcome == "dry_run" && $0.actor == "worker:dry-\(way.rawValue)" })
            #expect(calls.allSatisfy { $0.detail["dry_run"] == .bool(true) })
            #expect(calls.contains { $0.mac == kept && $0.action == "redirect.registerPhone" })
            #expect(calls.contains { $0.mac == gone && $0.action == "redirect.deregisterPhone" })
            #expect(try await database.store.device(MACAddress(kept)!)?.url == "https://p.example/\(kept).xml")

            // Out of the dry run, reconcile applies for real what the dry run only recorded.
            let state = StandInAccounts.makeState()
            try await RunningFakeRedirect.with(state: state) { standIn in
                let cli = CommandLineRunner(
                    environment: database.environment().merging([
                        "PROVHOOK_REDIRECT_URL": standIn.endpoint, "PROVHOOK_REDIRECT_ALLOW_HTTP": "1",
                        "PROVHOOK_REDIRECT_USER": StandInAccounts.user,
                        "PROVHOOK_REDIRECT_PASSWORD": StandInAccounts.password,
                        "PROVHOOK_RECONCILE_MODELS": "snomD785",
                    ]) { $1 })
                let reconcile = try await cli.run(["reconcile"])
                let shown = Self.redacted(reconcile.output + reconcile.error, [secret, StandInAccounts.password])
                #expect(reconcile.status == 0, "\(shown)")
                #expect(reconcile.output.contains("missing_registration"), "\(shown)")
                #expect(await state.registration(kept)?.url == "https://p.example/\(kept).xml")
                #expect(await state.registration(gone) == nil)
            }
        }
    }

    // MARK: - Helpers

    /// `text` with each of `secrets` (and a webhook secret's part after `whsec_`) replaced, so that a failing
    /// expectation never prints one.
    static func redacted(_ text: String, _ secrets: [String]) -> String {
        var text = text
        for secret in secrets where !secret.isEmpty {
            text = text.replacingOccurrences(of: secret, with: "<secret>")
            if secret.hasPrefix("whsec_") {
                text = text.replacingOccurrences(of: String(secret.dropFirst("whsec_".count)), with: "<secret>")
            }
        }
        return text
    }

    /// Sends a signed webhook for `acme`, as a PBX does; answers the HTTP status.
    static func send(_ body: String, base: String, secret: String) async throws -> Int {
        let request = SignedWebhook.request(
            baseURL: base, tenant: "acme", id: "msg_\(UUID().uuidString)", body: Array(body.utf8), secret: secret)
        return Int(try await HTTPClient.shared.execute(request, timeout: .seconds(30)).status.code)
    }
}
