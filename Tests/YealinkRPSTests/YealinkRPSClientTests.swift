import Foundation
import ProvisioningModel
import StandInSupport
import Testing
import VendorHTTP
import VendorTestSupport
import XMLRPC
import YealinkRPSStandIn

@testable import YealinkRPS

@Suite("Yealink RPS client against the strict stand-in")
struct YealinkRPSClientTests {
    let mac = MACAddress("00:15:65:AB:CD:EF")!
    let url = "https://prov.example.com/yealink/<mac>.cfg?tenant=a&b=c"
    let other = "https://prov2.example.com/yealink/001565abcdef.cfg"

    /// The MAC's life through our account, against the stand-in's record.
    func lifecycle(_ standIn: StandIn) -> HeldOnlyLifecycle<YealinkRPSClient> {
        let state = standIn.state
        return HeldOnlyLifecycle(client: standIn.client, mac: self.mac, owner: StandIn.user) {
            await state.registration("001565ABCDEF").map { ($0.owner, $0.url) }
        }
    }

    @Test("register, check, re-point, deregister, over HTTP and over TLS with a private CA", arguments: [false, true])
    func roundTrips(tls: Bool) async throws {
        try await StandIn.with(tls: tls) { (standIn: StandIn) async throws in
            // The stand-in takes the stricter reading: our own MAC again needs override, so it is freed first.
            try await self.lifecycle(standIn).run(
                url: self.url, other: self.other, removalOfNothing: .error(.noSuchMAC))

            let calls = await standIn.state.calls
            #expect(
                calls.compactMap(\.method) == [
                    "redirect.checkDevice", "redirect.registerDeviceWithUniqueUrl", "redirect.checkDevice",
                    "redirect.checkDevice", "redirect.registerDeviceWithUniqueUrl", "redirect.deRegisterDevice",
                    "redirect.registerDeviceWithUniqueUrl", "redirect.deRegisterDevice", "redirect.deRegisterDevice",
                    "redirect.checkDevice",
                ])
            #expect(calls.allSatisfy { $0.user == StandIn.user && $0.status == 200 })
            let first = try #require(calls.first { $0.method == "redirect.registerDeviceWithUniqueUrl" })
            #expect(
                first.params == [.string("00-15-65-AB-CD-EF"), .string("provhook"), .string(self.url), .string("0")],
                "the MAC as RPS writes it, provhook's server name, the URL intact, override off")
        }
    }

    @Test("a MAC another account holds is a conflict without override, and taken with it")
    func heldElsewhere() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            try await self.lifecycle(standIn).heldElsewhere(
                by: standIn.client(user: StandIn.otherUser, password: StandIn.otherPassword), as: StandIn.otherUser,
                url: self.url, other: self.other)

            let overriding = standIn.client(override: true)
            #expect(try await overriding.register(self.mac, at: self.url) == .ok)
            #expect(await standIn.state.registration("001565ABCDEF")?.owner == StandIn.user)
            #expect(try await overriding.register(self.mac, at: self.other) == .ok, "override re-points in one call")
            let registrations = await standIn.state.calls.filter {
                $0.method == "redirect.registerDeviceWithUniqueUrl" && $0.user == StandIn.user
            }
            #expect(registrations.map { $0.params.last } == [.string("0"), .string("1"), .string("1")])
        }
    }

    @Test("refused credentials are an authentication failure that never shows the password")
    func wrongPassword() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let wrong = standIn.client(password: "not-" + StandIn.password)
            let secrets = [StandIn.password, "not-" + StandIn.password]
            await expectRefusedSecret(secrets, settings: wrong.configuration) {
                _ = try await wrong.register(self.mac, at: self.url)
            }
            await expectRefusedSecret(secrets) { _ = try await wrong.ownership(of: self.mac) }
        }
    }

    @Test("a batch is one call per MAC; a refused MAC fails only itself")
    func batches() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let macs = ["001565000001", "001565000002", "001565000003"].compactMap(MACAddress.init)
            let theirs = standIn.client(user: StandIn.otherUser, password: StandIn.otherPassword)
            #expect(try await theirs.register(macs[1], at: self.other) == .ok)
            let outcome = try await standIn.client.register(macs, at: self.url)
            #expect(outcome == .partial([MACFailure(mac: "001565000002", code: .ownedByOtherUser)]))
            #expect(await standIn.state.registration("001565000001")?.owner == StandIn.user)
            #expect(await standIn.state.registration("001565000003")?.owner == StandIn.user)
            #expect(
                try await standIn.client.deregister(macs)
                    == .partial([MACFailure(mac: "001565000002", code: .ownedByOtherUser)]))
        }
    }

    @Test(
        "every answer text the reference records maps to an outcome; an unknown one is kept verbatim",
        arguments: [
            ("error:invalid mac(s):001565abcdeg", false, RedirectOutcome.error(.malformedMAC)),
            ("Error:Invalid MAC(s):00s1122334400", false, .error(.malformedMAC)),
            ("error:invalid mac", false, .error(.malformedMAC)),
            ("error:invalid server", false, .error(.malformedURL)),
            ("Error: Invalid server", false, .error(.malformedURL)),
            (
                "Error:The url can only begin with 'http://' or 'https://' or 'ftp://' or 'tftp://'", false,
                .error(.malformedURL)
            ),
            ("Error:a1b2c3d4e5", false, .error(.ownedByOtherUser)),
            ("Are you sure you want to override MAC addresses", false, .error(.ownedByOtherUser)),
            ("registered elsewhere", true, .error(.ownedByOtherUser)),
            ("registered", true, .ok),
            ("unregistered", true, .error(.noSuchMAC)),
            ("unknown", true, .error(.noSuchMAC)),
            ("OK", true, .ok),
            ("ok", true, .ok),
            (
                "error:the server name can only contain 'A-z 0-9 - _ . '(include space)", false,
                .error(.unknown("error:the server name can only contain 'A-z 0-9 - _ . '(include space)"))
            ),
            ("Error:quota exceeded", false, .error(.unknown("Error:quota exceeded"))),
        ])
    func answers(text: String, flag: Bool, outcome: RedirectOutcome) throws {
        #expect(try YealinkRPSAnswer.read(.array([.bool(flag), .string(text)])).outcome == outcome)
    }

    @Test("an answer of another shape is an invalid response, not a guess")
    func shapes() {
        for value: XMLRPCValue in [.string("OK"), .array([.bool(true)]), .array([.string("1"), .string("OK")])] {
            #expect(throws: RedirectError.self) { try YealinkRPSAnswer.read(value) }
        }
    }

    @Test("a MAC RPS already holds for us is freed and registered again only when RPS says so")
    func existingOnlyWhenSaid() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            #expect(try await standIn.client.register(self.mac, at: self.url) == .ok)
            let calls = await standIn.state.calls.compactMap(\.method)
            #expect(calls == ["redirect.registerDeviceWithUniqueUrl"], "a first registration is one call")
        }
    }

    @Test("the configuration refuses http:// unless allowed, credentials in the URL, and a user with ':'")
    func configuration() {
        #expect(throws: XMLRPCLoginError.self) {
            try YealinkRPSConfiguration(endpoint: "http://rps.example/xmlrpc", user: "u", password: "p").validate()
        }
        #expect(throws: XMLRPCLoginError.self) {
            try YealinkRPSConfiguration(endpoint: "https://u:p@rps.example/xmlrpc", user: "u", password: "p")
                .validate()
        }
        #expect(throws: XMLRPCLoginError.invalidUser("Yealink RPS")) {
            try YealinkRPSConfiguration(user: "a:b", password: "p").validate()
        }
        #expect(throws: Never.self) { try YealinkRPSConfiguration(user: "u", password: "p").validate() }
    }
}
