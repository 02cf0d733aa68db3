import Foundation
import ProvisioningModel
import StandInSupport
import Testing
import VendorHTTP
import VendorTestSupport
import XMLRPC
import YealinkRPS
import YealinkRPSStandIn
import YealinkStyleRPSStandIn

@testable import YealinkStyleRPS

@Suite("Htek and Akuvox RPS client against the strict stand-in")
struct YealinkStyleRPSClientTests {
    let mac = MACAddress("00:1F:C1:AB:CD:EF")!
    let url = "https://prov.example.com/htek/"
    let other = "https://prov2.example.com/htek/"

    /// The MAC's life through our account, against the stand-in's record.
    func lifecycle(_ standIn: StandIn) -> HeldOnlyLifecycle<YealinkStyleRPSClient> {
        let state = standIn.state
        return HeldOnlyLifecycle(client: standIn.client, mac: self.mac, owner: StandIn.user) {
            await state.registration("001FC1ABCDEF").map { ($0.owner, $0.url) }
        }
    }

    @Test(
        "register, check, re-point, deregister, over HTTP and over TLS with a private CA",
        arguments: [FakeYealinkStyleRPSState.Service.htek, .akuvox], [false, true])
    func roundTrips(service: FakeYealinkStyleRPSState.Service, tls: Bool) async throws {
        try await StandIn.with(service, tls: tls) { (standIn: StandIn) async throws in
            let name = YealinkStyleRPSClient.serverName(for: self.url)
            // Our own MAC again: `Existing MAC(s)`, then registered with isOverride, which re-points it.
            try await self.lifecycle(standIn).run(
                url: self.url, other: self.other, removalOfNothing: .error(.noSuchMAC))

            let calls = await standIn.state.calls
            #expect(
                calls.compactMap(\.method) == [
                    "redirect.checkDevice", "redirect.addServer", "redirect.registerDevice", "redirect.checkDevice",
                    "redirect.checkDevice", "redirect.addServer", "redirect.registerDevice", "redirect.registerDevice",
                    "redirect.deRegisterDevice", "redirect.deRegisterDevice", "redirect.checkDevice",
                ])
            #expect(calls.allSatisfy { $0.user == StandIn.user && $0.status == 200 })
            #expect(calls[1].params == [.string(name), .string(self.url)], "the server named from its URL")
            #expect(
                calls[2].params == [.string("001FC1ABCDEF"), .string(name), .string("0")],
                "the MAC as 12 hex digits, the server's name, isOverride off")
            #expect(calls[7].params.last == .string("1"), "re-pointed with isOverride")
        }
    }

    @Test("a server per distinct URL, named from it, added once and reused; a server the service lost is added again")
    func servers() async throws {
        try await StandIn.with(.htek) { (standIn: StandIn) async throws in
            let macs = ["001FC1000001", "001FC1000002"].compactMap(MACAddress.init)
            for mac in macs { #expect(try await standIn.client.register(mac, at: self.url) == .ok) }
            var adds = await standIn.state.calls.filter { $0.method == "redirect.addServer" }
            #expect(adds.count == 1, "one server for one URL")
            #expect(YealinkStyleRPSClient.serverName(for: self.url) == YealinkStyleRPSClient.serverName(for: self.url))
            #expect(
                YealinkStyleRPSClient.serverName(for: self.url) != YealinkStyleRPSClient.serverName(for: self.other))
            #expect(YealinkStyleRPSClient.serverName(for: self.url).count == 20)

            // Another process (a new client) adds it again: the service says it is there, and it is used.
            let fresh = standIn.client()
            #expect(try await fresh.register(macs[0], at: self.url) == .ok)
            adds = await standIn.state.calls.filter { $0.method == "redirect.addServer" }
            #expect(adds.count == 2)
            #expect(await standIn.state.servers[StandIn.user]?.count == 1)

            // Removed in the portal: `Invalid server`, added again, registered.
            let name = YealinkStyleRPSClient.serverName(for: self.url)
            await standIn.state.removeServer(name, owner: StandIn.user)
            #expect(try await standIn.client.register(macs[1], at: self.url) == .ok)
            #expect(await standIn.state.servers[StandIn.user]?[name] == self.url)
        }
    }

    @Test("a URL the service does not take is malformed_url, from addServer's own answer")
    func badURL() async throws {
        try await StandIn.with(.akuvox) { (standIn: StandIn) async throws in
            #expect(try await standIn.client.register(self.mac, at: "sip:prov.example") == .error(.malformedURL))
            #expect(await standIn.state.registration("001FC1ABCDEF") == nil)
        }
    }

    @Test(
        "a MAC another account holds is a conflict without override, and taken with it",
        arguments: [FakeYealinkStyleRPSState.Service.htek, .akuvox])
    func heldElsewhere(service: FakeYealinkStyleRPSState.Service) async throws {
        try await StandIn.with(service) { (standIn: StandIn) async throws in
            try await self.lifecycle(standIn).heldElsewhere(
                by: standIn.client(user: StandIn.otherUser, password: StandIn.otherPassword), as: StandIn.otherUser,
                url: self.url, other: self.other)

            let overriding = standIn.client(override: true)
            #expect(try await overriding.register(self.mac, at: self.url) == .ok)
            #expect(await standIn.state.registration("001FC1ABCDEF")?.owner == StandIn.user)
            let registrations = await standIn.state.calls.filter {
                $0.method == "redirect.registerDevice" && $0.user == StandIn.user
            }
            #expect(registrations.map { $0.params.last } == [.string("0"), .string("1")])
        }
    }

    @Test("Htek: a batch is one registerDevices call; a refused batch is settled MAC by MAC")
    func htekBatches() async throws {
        try await StandIn.with(.htek) { (standIn: StandIn) async throws in
            let macs = ["001FC1000001", "001FC1000002", "001FC1000003"].compactMap(MACAddress.init)
            #expect(try await standIn.client.register(macs, at: self.url) == .ok)
            var methods = await standIn.state.calls.compactMap(\.method)
            #expect(methods == ["redirect.addServer", "redirect.registerDevices"])
            for mac in macs { #expect(await standIn.state.registration(mac.canonical)?.url == self.url) }

            // Re-pointed: the batch answers `Existing MAC(s)`, so each MAC goes again with isOverride.
            let theirs = standIn.client(user: StandIn.otherUser, password: StandIn.otherPassword)
            let extra = MACAddress("001FC1000004")!
            #expect(try await theirs.register(extra, at: self.other) == .ok)
            let outcome = try await standIn.client.register(macs + [extra], at: self.other)
            #expect(outcome == .partial([MACFailure(mac: "001FC1000004", code: .ownedByOtherUser)]))
            for mac in macs { #expect(await standIn.state.registration(mac.canonical)?.url == self.other) }
            #expect(await standIn.state.registration(extra.canonical)?.owner == StandIn.otherUser)

            let before = await standIn.state.calls.count
            #expect(try await standIn.client.deregister(macs) == .ok)
            methods = await standIn.state.calls.dropFirst(before).compactMap(\.method)
            #expect(methods == ["redirect.deRegisterDevices"])
            #expect(
                try await standIn.client.deregister(macs)
                    == .partial(macs.map { MACFailure(mac: $0.canonical, code: .noSuchMAC) }))
        }
    }

    @Test("Akuvox has no batch call: each MAC is its own call")
    func akuvoxBatches() async throws {
        try await StandIn.with(.akuvox) { (standIn: StandIn) async throws in
            #expect(YealinkStyleRPSClient.akuvoxDescriptor.maxBatchSize == 1)
            #expect(YealinkStyleRPSClient.htekDescriptor.maxBatchSize == nil)
            let macs = ["0C1105000001", "0C1105000002"].compactMap(MACAddress.init)
            #expect(try await standIn.client.register(macs, at: self.url) == .ok)
            #expect(try await standIn.client.deregister(macs) == .ok)
            let methods = await standIn.state.calls.compactMap(\.method)
            #expect(
                methods == [
                    "redirect.addServer", "redirect.registerDevice", "redirect.registerDevice",
                    "redirect.deRegisterDevice", "redirect.deRegisterDevice",
                ])
        }
    }

    @Test("refused credentials are an authentication failure that never shows the password")
    func wrongPassword() async throws {
        try await StandIn.with(.htek) { (standIn: StandIn) async throws in
            let wrong = standIn.client(password: "not-" + StandIn.password)
            let secrets = [StandIn.password, "not-" + StandIn.password]
            await expectRefusedSecret(secrets, settings: wrong.configuration) {
                _ = try await wrong.register(self.mac, at: self.url)
            }
            await expectRefusedSecret(secrets) { _ = try await wrong.ownership(of: self.mac) }
        }
    }

    @Test(
        "every answer text Htek's and Akuvox's pages record maps to an outcome; an unknown one is kept verbatim",
        arguments: [
            ("OK", true, RedirectOutcome.ok),
            ("Invalid MAC(s): 001fc100000g", false, .error(.malformedMAC)),
            ("Invalid MAC(s): 0C11050021", false, .error(.malformedMAC)),
            ("Existing MAC(s): 001fc1000001", false, .error(.unknown("Existing MAC(s)"))),
            ("Error: Invalid server", false, .error(.malformedURL)),
            ("Are you sure you want to override MAC addresses", false, .error(.ownedByOtherUser)),
            (
                "Error:The url can only begin with 'http://' or 'https://' or 'ftp://' or 'tftp://'", false,
                .error(.malformedURL)
            ),
            ("registered", true, .ok),
            ("registered elsewhere", true, .error(.ownedByOtherUser)),
            ("unregistered", false, .error(.noSuchMAC)),
            ("unknown", true, .error(.noSuchMAC)),
            ("Error: Server name already exists", false, .error(.unknown("Error: Server name already exists"))),
            ("Error: quota exceeded", false, .error(.unknown("Error: quota exceeded"))),
        ])
    func answers(text: String, flag: Bool, outcome: RedirectOutcome) throws {
        #expect(try YealinkRPSAnswer.read(.array([.bool(flag), .string(text)])).outcome == outcome)
    }

    @Test("the configuration: Akuvox's published http:// endpoint only with the opt-in; credentials in the URL refused")
    func configuration() {
        let akuvox = YealinkStyleRPSConfiguration(dialect: .akuvox, user: "u", password: "p")
        #expect(akuvox.login.endpoint == "http://58.96.188.87/fcgi/do?id=1")
        do {
            try akuvox.validate()
            Issue.record("http:// taken without the opt-in")
        } catch {
            #expect("\(error)".contains("PROVHOOK_REDIRECT_ALLOW_HTTP=1") && "\(error)".contains("Akuvox"))
        }
        #expect(throws: Never.self) {
            try YealinkStyleRPSConfiguration(
                dialect: .akuvox, user: "u", password: "p", connection: VendorConnection(allowsPlainHTTP: true)
            ).validate()
        }
        #expect(throws: Never.self) {
            try YealinkStyleRPSConfiguration(dialect: .htek, user: "u", password: "p").validate()
        }
        #expect(throws: XMLRPCLoginError.self) {
            try YealinkStyleRPSConfiguration(
                dialect: .htek, endpoint: "https://u:p@rps.example/xmlrpc", user: "u", password: "p"
            ).validate()
        }
        #expect(throws: XMLRPCLoginError.invalidUser("Htek RPS (XML-RPC)")) {
            try YealinkStyleRPSConfiguration(dialect: .htek, user: "a:b", password: "p").validate()
        }
    }
}
