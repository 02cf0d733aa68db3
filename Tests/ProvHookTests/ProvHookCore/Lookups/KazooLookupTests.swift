import FakePBXService
import Foundation
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import Testing

/// Kazoo hooks whose events carry no MAC, resolved through the stand-in of crossbar; and one hook on a reseller
/// account serving several tenants.
@Suite("Kazoo lookups and reseller hooks")
struct KazooLookupTests {
    static let apiKey = String(repeating: "5f3a9c1e", count: 8)
    static let reseller = "a0000000000000000000000000000001"
    static let account = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    static let other = "b1b2c3d4e5f60718293a4b5c6d7e8f90"

    static func pbx() -> FakePBXState {
        FakePBXState(kazooAccounts: [
            Self.reseller: .init(apiKey: Self.apiKey),
            Self.account: .init(
                apiKey: String(repeating: "0", count: 64), parent: Self.reseller,
                devices: [KazooSourceTests.deviceID: .init(macAddress: "000413610ff5", brand: "snom", model: "D785")]),
            Self.other: .init(
                apiKey: String(repeating: "1", count: 64), parent: Self.reseller,
                devices: ["c0ffee00c0ffee00c0ffee00c0ffee00": .init(macAddress: "000413610ff7")]),
        ])
    }

    @Test("doc_created without mac_address is looked up in crossbar; one reseller hook serves two tenants")
    func resellerHook() async throws {
        try await SourceRig.with(pbx: Self.pbx()) { rig in
            try await rig.database.store.addTenant("beta", template: "https://beta.example/<mac>")
            let keyFile = try SourceRig.secretFile(Self.apiKey)
            defer { try? FileManager.default.removeItem(atPath: keyFile) }
            let token = try await rig.addSource([
                "kazoo-reseller", "--kind", "kazoo", "--account", "\(Self.account)=acme", "--account",
                "\(Self.other)=beta", "--api-url", rig.pbx.kazooURL, "--api-key-file", keyFile,
            ])
            let listed = try await rig.cli.run(["source", "list"])
            #expect(listed.output.contains("\(Self.account)=acme") && !listed.output.contains(Self.apiKey))
            let serve = try await rig.serve()
            defer { serve.stop() }
            let base = "http://127.0.0.1:\(serve.ports.webhook)/v1/sources/kazoo-reseller/events?token=\(token)"
            let form = "application/x-www-form-urlencoded"

            var answer = try await SourceRig.send(
                base, body: KazooSourceTests.v1FormCreatedWithoutMAC, contentType: form)
            #expect(answer.status == 200 && answer.body.contains("accepted"), "\(answer.body)")
            try await eventually("acme's phone registered") { await rig.state.registration("000413610FF5") != nil }
            #expect(await rig.state.registration("000413610FF5")?.url == "https://p.example/000413610FF5.xml")

            answer = try await SourceRig.send(
                base,
                body:
                    "id=c0ffee00c0ffee00c0ffee00c0ffee00&account_id=\(Self.other)&action=doc_created&type=device",
                contentType: form)
            #expect(answer.status == 200 && answer.body.contains("accepted"), "\(answer.body)")
            try await eventually("beta's phone registered at beta's URL") {
                await rig.state.registration("000413610FF7")?.url == "https://beta.example/000413610FF7"
            }

            // An account the source does not map: not its business, answered 200 (Kazoo drops anything else).
            answer = try await SourceRig.send(
                base, body: "id=ffff&account_id=c9999999999999999999999999999999&action=doc_created&type=device",
                contentType: form)
            #expect(answer.status == 200 && answer.body.contains("ignored") && answer.body.contains("not mapped"))

            // A device crossbar does not have: recorded, then rejected for good, never retried.
            answer = try await SourceRig.send(
                base, body: "id=deadbeefdeadbeef&account_id=\(Self.account)&action=doc_created&type=device",
                contentType: form)
            #expect(answer.status == 200)
            try await eventually("rejected as not found") {
                try await rig.database.store.journal(JournalFilter(tenantID: "acme", limit: 100)).contains {
                    $0.action == "event.rejected" && $0.detail["code"] == "device_not_found"
                }
            }

            // The crossbar token expired: provhook logs in again and the lookup succeeds.
            await rig.pbx.state.revokeTokens()
            await rig.pbx.state.setKazooDevice(
                .init(macAddress: "000413610ff8"), id: KazooSourceTests.deviceID, account: Self.account)
            answer = try await SourceRig.send(
                base,
                body: KazooSourceTests.v1FormCreatedWithoutMAC.replacingOccurrences(
                    of: "doc_created", with: "doc_edited"), contentType: form)
            #expect(answer.status == 200)
            try await eventually("the edited MAC registered, the old one deregistered") {
                let (new, old) = (
                    await rig.state.registration("000413610FF8"), await rig.state.registration("000413610FF5")
                )
                return new != nil && old == nil
            }
            let logins = await rig.pbx.state.requests.filter { $0.path == "/v2/api_auth" }
            #expect(logins.count == 2 && logins.allSatisfy { $0.status == 201 }, "\(logins)")

            let journal = try await rig.database.store.journal(JournalFilter(limit: 1000))
            #expect(
                !"\(journal)".contains(Self.apiKey) && !serve.log.contains(Self.apiKey) && !serve.log.contains(token))
        }
    }

    @Test("source update changes accounts, tenant and API; what does not fit the kind is refused with the reason")
    func update() async throws {
        try await SourceRig.with(pbx: Self.pbx()) { rig in
            let keyFile = try SourceRig.secretFile(Self.apiKey)
            defer { try? FileManager.default.removeItem(atPath: keyFile) }
            _ = try await rig.addSource(["k", "--kind", "kazoo", "--tenant", "acme"])
            var result = try await rig.cli.run([
                "source", "update", "k", "--account", "\(Self.account)=acme", "--no-tenant", "--api-url",
                rig.pbx.kazooURL, "--api-key-file", keyFile, "--json",
            ])
            #expect(result.status == 0, "\(result.error)")
            var json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] ?? [:]
            #expect((json["accounts"] as? [String: String]) == [Self.account: "acme"])
            #expect(json["tenant"] is NSNull && (json["api"] as? [String: Any])?["url"] as? String == rig.pbx.kazooURL)
            #expect(json["token"] == nil && !result.output.contains(Self.apiKey), "update shows no token or key")

            // Without the opt-in, an http:// API is refused and its key is not stored.
            result = try await CommandLineRunner(environment: rig.database.environment()).run([
                "source", "update", "k", "--api-url", rig.pbx.kazooURL, "--api-key-file", keyFile,
            ])
            #expect(
                result.status == 2 && result.error.contains("http://")
                    && result.error.contains("PROVHOOK_PBX_ALLOW_HTTP"), "\(result.error)")

            result = try await rig.cli.run(["source", "update", "k", "--unmap-account", Self.account])
            #expect(result.status == 2 && result.error.contains("a source needs a tenant"), "\(result.error)")
            result = try await rig.cli.run(["source", "update", "k", "--api-user", "u", "--api-url", "https://x/"])
            #expect(result.status == 2 && result.error.contains("--api-key-file"), "\(result.error)")
            result = try await rig.cli.run(["source", "update", "k", "--remove-api", "--json"])
            #expect(result.status == 0, "\(result.error)")
            json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] ?? [:]
            #expect(json["api"] is NSNull)
            result = try await rig.cli.run(["source", "update", "nope", "--tenant", "acme"])
            #expect(result.status != 0 && result.error.contains("no source"))
            let journal = try await rig.database.store.journal(JournalFilter(action: "source.update"))
            #expect(journal.count == 2 && !"\(journal)".contains(Self.apiKey))
        }
    }

    @Test("a source's events keep to the tenant's MAC ranges, as the native contract's do")
    func macRanges() async throws {
        try await SourceRig.with(pbx: Self.pbx()) { rig in
            _ = try await rig.database.store.updateTenant(
                id: "acme", macRanges: try MACRanges(["00087B"]), actor: "cli:test")
            let token = try await rig.addSource(["kazoo-acme", "--kind", "kazoo", "--tenant", "acme"])
            let serve = try await rig.serve()
            defer { serve.stop() }
            let answer = try await SourceRig.send(
                "http://127.0.0.1:\(serve.ports.webhook)/v1/sources/kazoo-acme/events?token=\(token)",
                body: KazooSourceTests.v1FormCreated, contentType: "application/x-www-form-urlencoded")
            #expect(answer.status == 200 && answer.body.contains("mac_not_allowed"), "\(answer.body)")
        }
    }
}
