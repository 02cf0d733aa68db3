import Foundation
import Logging
import PostgresNIO
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPC
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import VendorRegistry

/// A phone's vendor decides which account registers it: the tenant's account for that vendor, else the vendor's
/// default, else none (the device waits, `skipped` with `no_account_for_vendor`, until one is added).
///
/// Only Snom's services exist so far, so a second vendor's service is played by a second XML-RPC stand-in under a
/// test kind, `gigaset-test`, whose vendor is Gigaset: what delivery and the database do depends on the account's
/// vendor, not on the protocol its client speaks.
@Suite("a phone's vendor and the account that serves it")
struct VendorAccountsTests {
    static let gigasetKind = ServiceKind(rawValue: "gigaset-test")
    static let snomMAC = "000413000A01"
    /// A Gigaset prefix (IEEE 7C2F80).
    static let gigasetMAC = "7C2F80000A02"
    /// A Snom prefix whose PBX says the phone is a Gigaset: the brand wins.
    static let brandedMAC = "000413000A03"
    static let token = "admin-token-for-vendor-tests"

    /// The standard kinds and the test kind, whose accounts call an XML-RPC stand-in at their own URL.
    static func registry(base: RedirectConfiguration) -> ServiceRegistry {
        let logger = Logger(label: "vendor-accounts-test")
        return ServiceRegistry.standard(snomXMLRPC: base, allowsPlainHTTP: true, logger: logger)
            .adding(Self.gigasetKind) { account in
                let (client, close) = try RedirectClient.withOwnPool(
                    configuration: account.redirectConfiguration(base: base), logger: logger)
                return AccountService(service: client, close: close)
            }
    }

    @Test(
        "a phone whose vendor has no account is skipped with its reason and journaled, then delivered once a default account for its vendor is added, without another webhook"
    )
    func deliveredOnceAnAccountExists() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            let (_, secret) = try await store.addTenant(
                id: "acme", name: nil, urlTemplate: try URLTemplate("https://prov.example/snom/<mac>.xml"),
                allowBearer: false,
                vendorURLTemplates: [.gigaset: try URLTemplate("https://prov.example/gigaset/<mac>.xml")],
                actor: "cli:test")
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { snom in
                try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { gigaset in
                    let base = RedirectConfiguration(
                        endpoint: snom.endpoint, user: StandInAccounts.user, password: StandInAccounts.password)
                    try await RunningProvHook.start(
                        database: database.url, secrets: database.secrets, redirectEndpoint: snom.endpoint,
                        adminToken: Self.token, registry: Self.registry(base: base)
                    ).whileRunning { provhook in
                        for (mac, vendor) in [
                            (Self.snomMAC, nil), (Self.gigasetMAC, nil), (Self.brandedMAC, "Gigaset"),
                        ] {
                            let field = vendor.map { #","vendor":"\#($0)""# } ?? ""
                            let answer = try await provhook.send(
                                tenant: "acme", body: #"{"type":"device.added","mac":"\#(mac)"\#(field)}"#,
                                secret: secret)
                            #expect(answer.status == 202, "\(mac): \(answer.body)")
                        }
                        try await eventually("the Snom phone registered with Snom's default account") {
                            await snom.state.registration(Self.snomMAC)?.url
                                == "https://prov.example/snom/\(Self.snomMAC).xml"
                        }
                        for mac in [Self.gigasetMAC, Self.brandedMAC] {
                            let device = try #require(try await store.device(MACAddress(mac)!))
                            #expect(device.vendor == .gigaset, "\(mac)")
                            #expect(device.status == .skipped && device.skippedBecause == .noAccountForVendor, "\(mac)")
                            #expect(device.account == nil, "\(mac)")
                            let rows = try await store.journal(JournalFilter(mac: mac, action: "event.device.added"))
                            #expect(rows.count == 1 && rows.first?.outcome == "skipped", "\(mac)")
                            #expect(rows.first?.detail["reason"] == "no_account_for_vendor", "\(mac)")
                            #expect(rows.first?.detail["vendor"] == "gigaset", "\(mac)")
                        }
                        #expect(try await store.device(MACAddress(Self.snomMAC)!)?.vendor == .snom)
                        let metrics = try await provhook.get("/metrics").body
                        #expect(metrics.contains(#"provhook_vendor_devices{vendor="gigaset",status="skipped"} 2"#))
                        #expect(metrics.contains(#"provhook_vendor_devices{vendor="snom",status="registered"} 1"#))
                        let gigasetListed = try await store.devices(DeviceFilter(vendor: .gigaset)).map(\.mac)
                        #expect(gigasetListed == [Self.brandedMAC, Self.gigasetMAC])

                        // An account of the vendor, made its default: the waiting phones are sent, with the vendor's
                        // own URL template, and nothing more is asked of the PBX.
                        let added = try await store.addAccount(
                            name: "gigaset-main",
                            changes: AccountChanges(
                                kind: Self.gigasetKind, user: StandInAccounts.user,
                                password: .sealed(StandInAccounts.password), url: .some(gigaset.endpoint),
                                makeDefault: true),
                            actor: "cli:test")
                        #expect(added.vendor == .gigaset && added.isVendorDefault)
                        for mac in [Self.gigasetMAC, Self.brandedMAC] {
                            try await eventually("\(mac) registered with the Gigaset account", within: .seconds(40)) {
                                await gigaset.state.registration(mac)?.url
                                    == "https://prov.example/gigaset/\(mac).xml"
                            }
                            let assigned = try await store.journal(JournalFilter(mac: mac, action: "device.assign"))
                            #expect(assigned.first?.detail["to_account"] == "gigaset-main", "\(mac)")
                            #expect(await snom.state.registration(mac) == nil, "\(mac) never went to Snom's service")
                        }
                        #expect(await gigaset.state.registration(Self.snomMAC) == nil)
                        try await eventually("both shown registered") {
                            try await store.devices(DeviceFilter(vendor: .gigaset)).allSatisfy {
                                $0.status == .registered && $0.account == "gigaset-main"
                            }
                        }
                    }
                }
            }
        }
    }

    @Test(
        "a tenant names one account per vendor: a second for the same vendor is refused naming both; dropping one falls back to the vendor's default"
    )
    func oneAccountPerVendor() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            for (name, kind) in [("snom-a", ServiceKind.snomXMLRPC), ("snom-b", .snomSRAPS), ("gs", Self.gigasetKind)] {
                _ = try await store.addAccount(
                    name: name,
                    changes: AccountChanges(
                        kind: kind, user: "user-\(name)", password: .sealed("secret-\(name)"),
                        url: .some("https://\(name).example/api/")),
                    actor: "cli:test")
            }
            let template = try URLTemplate("https://p.example/<mac>.xml")
            await #expect {
                _ = try await store.addTenant(
                    id: "t", name: nil, urlTemplate: template, allowBearer: false, accounts: ["snom-a", "snom-b"],
                    actor: "cli:test")
            } throws: { error in
                let text = String(describing: error)
                return text.contains("\"snom-a\"") && text.contains("\"snom-b\"")
                    && text.contains("one account per vendor")
            }
            #expect(try await store.tenant("t") == nil, "nothing was written")
            await #expect {
                _ = try await store.addTenant(
                    id: "t", name: nil, urlTemplate: template, allowBearer: false, accounts: ["nobody"],
                    actor: "cli:test")
            } throws: { error in String(describing: error).contains("no account \"nobody\"") }

            let (tenant, _) = try await store.addTenant(
                id: "t", name: nil, urlTemplate: template, allowBearer: false, accounts: ["snom-a", "gs"],
                actor: "cli:test")
            #expect(tenant.accounts == ["snom": "snom-a", "gigaset": "gs"])

            // A registered Snom phone of the tenant moves when the tenant's Snom account changes (XML-RPC to SRAPS),
            // and back to the installation's default when the tenant drops its own.
            let mac = MACAddress("000413000B01")!
            _ = try await store.setDesired(
                DeviceChange(mac: mac, desired: .registered), tenantID: "t", actor: "cli:test")
            #expect(try await store.device(mac)?.account == "snom-a")
            let moved = try await store.updateTenant(id: "t", accounts: ["snom-b"], actor: "cli:test")
            #expect(moved.movingDevices == 1 && moved.tenant.accounts == ["snom": "snom-b", "gigaset": "gs"])
            #expect(try await store.device(mac)?.moveTo == "snom-b", "deregistered with snom-a first")
            let dropped = try await store.updateTenant(id: "t", dropAccounts: [.snom], actor: "cli:test")
            #expect(dropped.tenant.accounts == ["gigaset": "gs"])
            #expect(try await store.device(mac)?.moveTo == RedirectAccount.defaultName)
            let moves = try await store.journal(JournalFilter(mac: mac.canonical, action: "device.move"))
            #expect(moves.map { $0.detail["to_account"] } == ["snom-b", "default"])
            let update = try await store.journal(JournalFilter(tenantID: "t", action: "tenant.update"))
            #expect(update.last?.detail["previous_accounts"] == .object(["snom": "snom-b"]))

            // A vendor's template of its own: its phones are re-pointed, the others keep theirs.
            let yealinkTemplate = try URLTemplate("https://p.example/yealink/<mac>.cfg")
            let gigasetMAC = MACAddress("7C2F80000B02")!
            _ = try await store.setDesired(
                DeviceChange(mac: gigasetMAC, desired: .registered), tenantID: "t", actor: "cli:test")
            let templated = try await store.updateTenant(
                id: "t", vendorURLTemplates: [.gigaset: try URLTemplate("https://p.example/gs/<mac>")],
                actor: "cli:test")
            #expect(templated.repointedDevices == 1)
            #expect(try await store.device(gigasetMAC)?.url == "https://p.example/gs/7C2F80000B02")
            #expect(try await store.device(mac)?.url == "https://p.example/000413000B01.xml")
            _ = try await store.updateTenant(
                id: "t", vendorURLTemplates: [.yealink: yealinkTemplate], actor: "cli:test")
            let cleared = try await store.updateTenant(id: "t", vendorURLTemplates: [.gigaset: nil], actor: "cli:test")
            #expect(cleared.tenant.vendorURLTemplates == ["yealink": yealinkTemplate.text])
            #expect(try await store.device(gigasetMAC)?.url == "https://p.example/7C2F80000B02.xml")
        }
    }

    @Test("an event recorded by a serve older than the vendors (its record_events call names none) is Snom's, as then")
    func eventFromAnOlderServe() async throws {
        try await TestDatabase.with { database in
            try await database.store.addTenant("acme")
            // The arguments a serve from before sql/0022 sends: no brand_vendor, no prefix_vendor.
            let event = #"""
                {"tenant":"acme","event":"old-1","type":"device.added","payload":"{}","mac":"589EC6000C01",
                 "desired":"registered","device_id":null,"extension":null,"model":null,"skipped":false,"source":null,
                 "actor":"webhook:127.0.0.1","action":"event.device.added","outcome":"accepted","detail":{}}
                """#
            let outcomes = try await database.withConnection { connection in
                try await connection.query(
                    "CALL record_events(\([event]), NULL)", logger: Logger(label: "test")
                ).collect().first?.decode([String].self)
            }
            #expect(outcomes == ["accepted"])
            let device = try #require(try await database.store.device(MACAddress("589EC6000C01")!))
            #expect(
                device.vendor == .snom && device.account == RedirectAccount.defaultName && device.status == .pending)
        }
    }
}
