import Foundation
import PolyZTPStandIn
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import YealinkRPSStandIn
import YealinkYMCSStandIn

/// Four accounts in one `serve`, through the real binary: Snom's XML-RPC service (the default account), Yealink's RPS
/// and YMCS, and Poly's Zero Touch (these three over TLS with a private CA). A tenant names one account per vendor, so
/// two mixed tenants share them: east sends its Yealink phones to RPS, west to YMCS.
@Suite("four services in one serve: Snom XML-RPC, Yealink RPS, Yealink YMCS and Poly ZTP")
struct FourServicesFleetTests {
    /// Distinctive, so that the test can look for them everywhere they must not be.
    static let secrets = [
        "the RPS password": "rps-NEVER-SHOWN-4f61c2", "the YMCS client secret": "ymcs-NEVER-SHOWN-d29b57",
        "the Poly API key": "ztp-NEVER-SHOWN-0e8a13", "the Snom password": StandInAccounts.password,
    ]
    static let rpsUser = "rps-east-user"
    static let ymcsClient = "ymcs-west-client"
    static let ymcsOrganisation = "org-west"
    static let polyOrganization = "org-east"

    /// The phones of one tenant that one service holds, and the provhook account that serves them.
    struct Phones: Sendable {
        var tenant: String
        var account: String
        var macs: [String]
    }
    static let snomEast = Phones(tenant: "east", account: "default", macs: ["000413000C01", "000413000C02"])
    static let snomWest = Phones(tenant: "west", account: "default", macs: ["000413000C03", "000413000C04"])
    static let rps = Phones(tenant: "east", account: "rps-east", macs: ["001565000C01", "001565000C02"])
    static let ymcs = Phones(tenant: "west", account: "ymcs-west", macs: ["805EC0000C01", "805EC0000C02"])
    static let poly = Phones(tenant: "east", account: "poly-east", macs: ["0004F2000C01", "64167F000C02"])
    static let fleet = [snomEast, snomWest, rps, ymcs, poly]

    /// The URL each phone must be sent to, by tenant and vendor's template as the test sets them.
    struct Templates {
        var eastRPS = "https://prov.example.com/east/y/<mac>.cfg"
        var westYMCS = "https://prov.example.com/west/y/"
        var eastPoly = "https://prov.example.com/east/p/"

        /// What each service must hold for `registered`: MAC → "owner URL" (`holdings`).
        func expected(registered: Set<String>) -> [String: [String: String]] {
            func held(_ phones: [Phones], owner: String, _ url: (Phones, String) -> String) -> [String: String] {
                let pairs = phones.flatMap { phones in
                    phones.macs.filter(registered.contains).map { ($0, "\(owner) \(url(phones, $0))") }
                }
                return Dictionary(uniqueKeysWithValues: pairs)
            }
            return [
                "snom": held([snomEast, snomWest], owner: StandInAccounts.user) {
                    "https://prov.example.com/\($0.tenant)/\($1).xml"
                },
                "rps": held([rps], owner: rpsUser) { self.eastRPS.replacingOccurrences(of: "<mac>", with: $1) },
                "ymcs": held([ymcs], owner: ymcsOrganisation) { _, _ in self.westYMCS },
                "poly": held([poly], owner: polyOrganization) { _, _ in self.eastPoly },
            ]
        }
    }

    /// The four stand-ins and the database `serve` runs on.
    struct Services {
        var snom: RunningFakeRedirect
        var rps: RunningFakeYealinkRPS
        var ymcs: RunningFakeYMCS
        var poly: RunningFakePolyZTP
        var database: TestDatabase

        /// What each service holds: MAC (uppercase) → its owner (user or organisation) and the URL the phone is sent
        /// to (for Poly, the server of the profile it is assigned to).
        func holdings() async -> [String: [String: String]] {
            let snom = await self.snom.state.registrations.mapValues { "\($0.owner) \($0.url)" }
            let rps = await self.rps.state.registrations.byMAC.mapValues { "\($0.owner) \($0.url)" }
            var ymcs: [String: String] = [:]
            for (mac, device) in await self.ymcs.state.devices {
                ymcs[mac.uppercased()] = "\(device.organisation) \(device.url ?? "-")"
            }
            var poly: [String: String] = [:]
            let profiles = await self.poly.state.profiles
            for (mac, device) in await self.poly.state.devices {
                poly[mac.uppercased()] = "\(device.organization) \(profiles[device.profile]?.address ?? "-")"
            }
            return ["snom": snom, "rps": rps, "ymcs": ymcs, "poly": poly]
        }

        /// Each phone's status, and the account its calls are made with.
        func devices() async throws -> [String: String] {
            var devices: [String: String] = [:]
            for mac in FourServicesFleetTests.fleet.flatMap(\.macs) {
                let device = try await self.database.store.device(MACAddress(mac)!)
                devices[mac] = "\(device?.status.rawValue ?? "none") \(device?.account ?? "none")"
            }
            return devices
        }

        /// Waits until the services hold exactly what `templates` gives for the phones not in `deregistered`, and the
        /// database agrees (registered or deregistered, each with its vendor's account); then checks it once more, so
        /// that a difference is shown.
        func settle(
            _ what: String, _ templates: Templates, deregistered: Set<String> = [],
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            let all = FourServicesFleetTests.fleet.flatMap(\.macs)
            let expected = templates.expected(registered: Set(all).subtracting(deregistered))
            var devices: [String: String] = [:]
            for phones in FourServicesFleetTests.fleet {
                for mac in phones.macs {
                    let status: DeviceStatus = deregistered.contains(mac) ? .deregistered : .registered
                    devices[mac] = "\(status.rawValue) \(phones.account)"
                }
            }
            try await eventually(what, sourceLocation: sourceLocation) {
                let (held, stored) = (await self.holdings(), try await self.devices())
                return held == expected && stored == devices
            }
            let (held, stored) = (await self.holdings(), try await self.devices())
            #expect(held == expected, sourceLocation: sourceLocation)
            #expect(stored == devices, sourceLocation: sourceLocation)
        }
    }

    @Test(
        "two mixed tenants: each phone registers with its own vendor's service and account; template changes re-point only their phones; removals deregister; reconcile restores what each service lost; no secret shows"
    )
    func fourServices() async throws {
        let authority = try PrivateCertificateAuthority()
        let rpsState = FakeYealinkRPSState(accounts: [Self.rpsUser: Self.secrets["the RPS password"]!])
        let ymcsState = FakeYMCSState(
            clients: [
                Self.ymcsClient: .init(
                    secret: Self.secrets["the YMCS client secret"]!, organisation: Self.ymcsOrganisation)
            ],
            macOnlyOrganisations: [Self.ymcsOrganisation])
        let polyState = FakePolyZTPState(keys: [Self.secrets["the Poly API key"]!: Self.polyOrganization])
        try await TestDatabase.with { database in
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { snom in
                try await RunningFakeYealinkRPS.with(state: rpsState, tls: authority) { rps in
                    try await RunningFakeYMCS.with(state: ymcsState, tls: authority) { ymcs in
                        try await RunningFakePolyZTP.with(state: polyState, tls: authority) { poly in
                            try await Self.exercise(
                                Services(snom: snom, rps: rps, ymcs: ymcs, poly: poly, database: database),
                                authority: authority)
                        }
                    }
                }
            }
        }
    }

    /// The accounts and tenants through the CLI, then one `serve` through the four steps and the secrets' check.
    static func exercise(_ services: Services, authority: PrivateCertificateAuthority) async throws {
        let files = try [
            TemporaryFile.write(StandInAccounts.password + "\n"),
            TemporaryFile.write(Self.secrets["the RPS password"]! + "\n"),
            TemporaryFile.write(Self.secrets["the YMCS client secret"]! + "\n"),
            TemporaryFile.write(Self.secrets["the Poly API key"]! + "\n"),
            TemporaryFile.write(authority.caCertificatePEM, suffix: ".pem"),
        ]
        defer { for path in files { try? FileManager.default.removeItem(atPath: path) } }
        let environment = StandInAccounts.environment(
            database: services.database, standIn: services.snom, passwordFile: files[0])
        let cli = CommandLineRunner(environment: environment)

        // The three accounts beside `default`, each of its kind; and the two tenants, each naming one per vendor.
        for arguments in [
            ["rps-east", "--kind", "yealink-rps", "--user", Self.rpsUser, "--password-file", files[1], "--url"]
                + [services.rps.url],
            ["ymcs-west", "--kind", "yealink-ymcs", "--client-id", Self.ymcsClient, "--client-secret-file", files[2]]
                + ["--url", services.ymcs.url],
            ["poly-east", "--kind", "poly-ztp", "--api-key-file", files[3], "--url", services.poly.url],
        ] {
            try await RedirectAccountTests.expectOK(cli, ["account", "add"] + arguments + ["--ca-file", files[4]])
        }
        let listed = try await cli.run(["account", "list", "--json"])
        let accounts = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]] ?? []
        let kinds = Dictionary(uniqueKeysWithValues: accounts.map { ($0["name"] as? String, $0["kind"] as? String) })
        #expect(
            kinds == [
                "default": "snom", "rps-east": "yealink-rps", "ymcs-west": "yealink-ymcs", "poly-east": "poly-ztp",
            ],
            "\(listed.output)")
        let listedText = try await cli.run(["account", "list"])
        var templates = Templates()
        let east = try await cli.addTenant([
            "east", "--url-template", "https://prov.example.com/east/<mac>.xml", "--url-template",
            "yealink=\(templates.eastRPS)", "--url-template", "poly=\(templates.eastPoly)", "--account", "rps-east",
            "--account", "poly-east",
        ])
        #expect(east.answer["accounts"] as? [String: String] == ["yealink": "rps-east", "poly": "poly-east"])
        let west = try await cli.addTenant([
            "west", "--url-template", "https://prov.example.com/west/<mac>.xml", "--url-template",
            "yealink=\(templates.westYMCS)", "--account", "ymcs-west",
        ])
        #expect(west.answer["accounts"] as? [String: String] == ["yealink": "ymcs-west"])
        let secrets = ["east": east.secret, "west": west.secret]

        try await ServeProcess.with(environment: environment) { serve in
            let base = "http://127.0.0.1:\(serve.ports.webhook)"
            func send(_ type: String, _ mac: String, of phones: Phones) async throws {
                let event = #"{"type":"\#(type)","mac":"\#(mac)","device_id":"\#(phones.tenant)-\#(mac)"}"#
                try await CommandLineRunner.sendEvent(phones.tenant, secrets[phones.tenant]!, event, to: base)
            }

            // 1. Each phone goes to its vendor's service, under the tenant's account for that vendor, and only there.
            for phones in Self.fleet {
                for mac in phones.macs { try await send("device.added", mac, of: phones) }
            }
            try await services.settle("each phone registered with its own vendor's service", templates)
            let snomMACs = Set(Self.snomEast.macs + Self.snomWest.macs)
            let snomCalls = await services.snom.state.calls
            #expect(
                snomCalls.allSatisfy { Set($0.macs).isSubset(of: snomMACs) }, "Snom was called only for Snom phones")

            // 2. New Yealink templates for both tenants (RPS and YMCS) and a new Poly template re-point those phones,
            // and no Snom phone is called.
            let snomCallsBefore = snomCalls.count
            templates.eastRPS = "https://prov2.example.com/east/y/<mac>.cfg"
            templates.westYMCS = "https://prov2.example.com/west/y/"
            templates.eastPoly = "https://prov2.example.com/east/p/"
            try await RedirectAccountTests.expectOK(
                cli,
                [
                    "tenant", "update", "east", "--url-template", "yealink=\(templates.eastRPS)", "--url-template",
                    "poly=\(templates.eastPoly)",
                ])
            try await RedirectAccountTests.expectOK(
                cli, ["tenant", "update", "west", "--url-template", "yealink=\(templates.westYMCS)"])
            try await services.settle("the Yealink and Poly phones re-pointed", templates)
            #expect(await services.snom.state.calls.count == snomCallsBefore, "no Snom phone was called")

            // 3. A removal of one phone of each service deregisters it there.
            let removed = [Self.snomEast, Self.rps, Self.ymcs, Self.poly].map { ($0, $0.macs[1]) }
            for (phones, mac) in removed { try await send("device.removed", mac, of: phones) }
            let deregistered = Set(removed.map(\.1))
            try await services.settle("one phone of each service deregistered", templates, deregistered: deregistered)

            // 4. Each service loses a registration: reconcile compares each account with its service and registers
            // the four again.
            let lost = [Self.snomWest.macs[0], Self.rps.macs[0], Self.ymcs.macs[0], Self.poly.macs[0]]
            await services.snom.state.setRegistration(lost[0], nil)
            await services.rps.state.setRegistration(lost[1], nil)
            await services.ymcs.state.setDevice(lost[2], organisation: nil)
            await services.poly.state.setDevice(lost[3], nil)
            let reconcile = try await cli.run(["reconcile", "--apply", "30"])
            let findings = reconcile.output.split(separator: "\n").filter { $0.contains("missing_registration") }
            #expect(
                reconcile.output.contains("4 finding(s) (missing_registration: 4)")
                    && lost.allSatisfy { mac in findings.contains { $0.contains(mac) } },
                "\(reconcile.output)\(reconcile.error)")
            try await services.settle(
                "each service's lost phone registered again", templates, deregistered: deregistered)

            // 5. No secret anywhere: the journal, the account listings, reconcile's output, serve's debug log.
            let journal = try await services.database.store.journal(JournalFilter(limit: 5000))
            let texts = [
                journal.map { "\($0.detail)" }.joined(), listed.output, listedText.output, reconcile.output,
                reconcile.error, serve.log,
            ].joined()
            #expect(
                journal.count > 40 && serve.log.contains("calling")
                    && ["rps-east", "ymcs-west", "poly-east"].allSatisfy(serve.log.contains),
                "the texts searched are the real ones")
            let leaked = Self.secrets.filter { texts.contains($0.value) }.keys.sorted()
            #expect(leaked.isEmpty, "shown: \(leaked)")

            // Every service took the credentials of the account it was called with.
            let rpsCalls = await services.rps.state.calls
            #expect(rpsCalls.allSatisfy { $0.status == 200 && $0.user == Self.rpsUser }, "\(rpsCalls.count)")
            let ymcsCalls = await services.ymcs.state.calls
            #expect(ymcsCalls.allSatisfy { $0.status < 400 }, "\(ymcsCalls.map { "\($0.path) \($0.status)" })")
            let polyCalls = await services.poly.state.calls
            #expect(
                polyCalls.allSatisfy { $0.organization == Self.polyOrganization && $0.status < 500 },
                "\(polyCalls.map { "\($0.method) \($0.path) \($0.status)" })")
        }
    }
}
