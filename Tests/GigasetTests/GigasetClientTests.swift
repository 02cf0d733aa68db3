import Foundation
import GigasetStandIn
import ProvisioningModel
import StandInSupport
import Testing
import VendorTestSupport
import XMLRPC

@testable import Gigaset

@Suite("Gigaset client against the strict stand-in")
struct GigasetClientTests {
    let mac = MACAddress("7C:2F:80:AB:CD:EF")!
    var code: String { FakeGigasetState.code(for: "7C2F80ABCDEF") }
    let url = "https://prov.example.com/gigaset/<mac>.xml?tenant=a&b=c"
    let other = "https://prov2.example.com/gigaset/7C2F80ABCDEF.xml"

    @Test("register, check, re-point, deregister, over HTTP and over TLS with a private CA", arguments: [false, true])
    func roundTrips(tls: Bool) async throws {
        try await StandIn.with(tls: tls) { (standIn: StandIn) async throws in
            let client = standIn.client
            try await client.checkCredentials()
            let (state, code, url) = (standIn.state, self.code, self.url)
            try await HeldOnlyLifecycle(client: client, mac: self.mac, owner: StandIn.user) {
                await state.registration("7C2F80ABCDEF").map { ($0.owner, $0.url) }
            }.run(url: self.url, other: self.other, removalOfNothing: .error(.noSuchMAC)) { client, mac, target in
                // Re-pointed (deregistered first) with the code lowercase, which the client sends uppercase.
                try await client.register(mac, serial: target == url ? code : code.lowercased(), at: target)
            }

            let calls = await standIn.state.calls
            #expect(calls.allSatisfy { $0.user == StandIn.user && $0.status == 200 })
            let macID = "7C2F80ABCDEF-\(self.code)"
            let registration = calls.filter { $0.method == "autoprov.registerDevice" }.map(\.params)
            #expect(registration.first == [.string(macID), .string(self.url), .string("provhook")])
            let methods = calls.map { $0.method ?? "" }
            let firstRegister = try #require(methods.firstIndex(of: "autoprov.registerDevice"))
            #expect(methods[firstRegister - 1] == "autoprov.deregisterDevice", "deregistered before registering")
            #expect(calls[firstRegister - 1].params == [.string(macID)])
            let check = try #require(calls.last { $0.method == "autoprov.checkDevice" })
            #expect(check.params == [.string("7C2F80ABCDEF")], "checked by the MAC alone")
        }
    }

    @Test("without its code a phone is codeRequired and nothing is sent; a wrong code is an invalid MAC")
    func codes() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            #expect(try await standIn.client.register(self.mac, at: self.url) == .error(.codeRequired))
            #expect(try await standIn.client.register(self.mac, serial: nil, at: self.url) == .error(.codeRequired))
            #expect(try await standIn.client.register([self.mac], at: self.url).failure(for: self.mac) == .codeRequired)
            #expect(await standIn.state.calls.isEmpty)
            #expect(try await standIn.client.register(self.mac, serial: "AB-1", at: self.url) == .error(.malformedMAC))
            let wrong = self.code == "ZZZZ" ? "YYYY" : "ZZZZ"
            #expect(try await standIn.client.register(self.mac, serial: wrong, at: self.url) == .error(.malformedMAC))
            #expect(await standIn.state.registration("7C2F80ABCDEF") == nil)
        }
    }

    @Test("a MAC another account holds is a conflict, left as it was; lists go one call per MAC with their codes")
    func heldElsewhere() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let theirs = standIn.client(user: StandIn.otherUser, password: StandIn.otherPassword)
            #expect(try await theirs.register(self.mac, serial: self.code, at: self.other) == .ok)
            #expect(
                try await standIn.client.register(self.mac, serial: self.code, at: self.url)
                    == .error(.ownedByOtherUser))
            #expect(try await standIn.client.ownership(of: self.mac) == .error(.noSuchMAC), "not ours to see")
            #expect(try await standIn.client.deregister(self.mac) == .error(.noSuchMAC))
            #expect(await standIn.state.registration("7C2F80ABCDEF")?.owner == StandIn.otherUser)

            let mine = MACAddress("7C2F80000001")!
            let bare = MACAddress("7C2F80000002")!
            let outcome = try await standIn.client.register(
                [mine, self.mac, bare],
                serials: [mine: FakeGigasetState.code(for: mine.canonical), self.mac: self.code],
                at: self.url)
            #expect(
                outcome
                    == .partial([
                        MACFailure(mac: self.mac.canonical, code: .ownedByOtherUser),
                        MACFailure(mac: bare.canonical, code: .codeRequired),
                    ]))
            #expect(await standIn.state.registration("7C2F80000001")?.owner == StandIn.user)
        }
    }

    @Test("a wrong password is an authentication failure that never shows the password; a refused URL is malformed")
    func refusals() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let wrong = standIn.client(user: StandIn.user, password: "not-it-\(StandIn.password)")
            await expectRefusedSecret([StandIn.password, "not-it-\(StandIn.password)"], settings: wrong.login) {
                _ = try await wrong.register(self.mac, serial: self.code, at: self.url)
            }
            #expect(
                try await standIn.client.register(self.mac, serial: self.code, at: "ftp://prov.example/x")
                    == .error(.malformedURL))
            await standIn.state.failNext(1, status: 503)
            await #expect(throws: RedirectError.serverError(status: 503)) {
                try await standIn.client.register(self.mac, serial: self.code, at: self.url)
            }
            #expect(await standIn.state.registration("7C2F80ABCDEF") == nil)
        }
    }

    @Test(
        "every answer the reference gives maps to an outcome; any other is kept verbatim",
        arguments: [
            (true, "ok", RedirectOutcome.ok),
            (true, "7C2F80ABCDEF", .ok),
            (false, "url_invalid:ftp://x", .error(.malformedURL)),
            (false, "mac_not_exist:7C2F80ABCDEF", .error(.malformedMAC)),
            (false, "mac_already_in_use:7C2F80ABCDEF", .error(.ownedByOtherUser)),
            (false, "mac_invalid:7C2F80ABCDEG", .error(.malformedMAC)),
            (false, "MAC_INVALID:7c2f80", .error(.malformedMAC)),
            (false, "mac_not_found:7C2F80ABCDEF", .error(.noSuchMAC)),
            (false, "name_invalid:provhook", .error(.unknown("name_invalid:provhook"))),
            (false, "quota_exceeded:7C2F80ABCDEF", .error(.unknown("quota_exceeded:7C2F80ABCDEF"))),
            (false, "", .error(.unknown(""))),
        ])
    func answers(success: Bool, text: String, outcome: RedirectOutcome) throws {
        let response = XMLRPCResponse.value(.array([.bool(success), .string(text)]))
        #expect(try GigasetAnswer.read(response).outcome == outcome)
    }

    @Test("an answer of another shape is an invalid response, not a success; a fault is kept verbatim")
    func shapes() throws {
        for response in [
            XMLRPCResponse.value(.bool(true)), .value(.string("ok")), .value(.array([.bool(true)])),
            .value(.array([.string("true"), .string("ok")])),
        ] {
            #expect(throws: RedirectError.self) { try GigasetAnswer.read(response) }
        }
        #expect(
            try GigasetAnswer.read(.fault(XMLRPCFault(code: 7, message: "busy"))).outcome
                == .error(.unknown("fault 7: busy")))
    }
}
