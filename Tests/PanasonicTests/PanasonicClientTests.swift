import Foundation
import PanasonicStandIn
import ProvisioningModel
import StandInSupport
import Testing
import VendorTestSupport
import XMLRPC

@testable import Panasonic

@Suite("Panasonic client against the strict stand-in")
struct PanasonicClientTests {
    let mac = MACAddress("08:00:23:AB:CD:EF")!
    let url = "https://prov.example.com/panasonic/<mac>.cfg?tenant=a&b=c"
    let other = "https://prov2.example.com/panasonic/080023ABCDEF.cfg"

    /// The MAC's life through our account, against the stand-in's record.
    func lifecycle(_ standIn: StandIn) -> HeldOnlyLifecycle<PanasonicClient> {
        let state = standIn.state
        return HeldOnlyLifecycle(client: standIn.client, mac: self.mac, owner: StandIn.user) {
            await state.registration("080023ABCDEF").map { ($0.owner, $0.url) }
        }
    }

    @Test("register, check, re-point, deregister, over HTTP and over TLS with a private CA", arguments: [false, true])
    func roundTrips(tls: Bool) async throws {
        try await StandIn.with(tls: tls) { (standIn: StandIn) async throws in
            try await standIn.client.checkCredentials()
            try await self.lifecycle(standIn).run(
                url: self.url, other: self.other, removalOfNothing: .error(.noSuchMAC))

            let calls = await standIn.state.calls
            #expect(calls.allSatisfy { $0.user == StandIn.user && $0.status == 200 })
            let register = try #require(calls.first { $0.method == "ipredirect.registerPhone" })
            #expect(
                register.params == [.string("080023ABCDEF"), .string(self.url)], "12 uppercase hex, the URL intact")
            let check = try #require(calls.last { $0.method == "ipredirect.checkPhones" })
            #expect(check.params == [.array([.string("080023ABCDEF")])])
        }
    }

    @Test("a MAC another account holds is a conflict, left as it was; lists go one call per MAC")
    func heldElsewhere() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            try await self.lifecycle(standIn).heldElsewhere(
                by: standIn.client(user: StandIn.otherUser, password: StandIn.otherPassword), as: StandIn.otherUser,
                url: self.url, other: self.other)

            let mine = MACAddress("080023000001")!
            let outcome = try await standIn.client.register([mine, self.mac], at: self.url)
            #expect(outcome == .partial([MACFailure(mac: self.mac.canonical, code: .ownedByOtherUser)]))
            #expect(await standIn.state.registration("080023000001")?.owner == StandIn.user)
        }
    }

    @Test("a wrong password is an authentication failure that never shows the password; a refused URL is malformed")
    func refusals() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let wrong = standIn.client(user: StandIn.user, password: "not-it-\(StandIn.password)")
            await expectRefusedSecret([StandIn.password, "not-it-\(StandIn.password)"], settings: wrong.login) {
                _ = try await wrong.register(self.mac, at: self.url)
            }
            #expect(try await standIn.client.register(self.mac, at: "ftp://prov.example/x") == .error(.malformedURL))
            await standIn.state.failNext(1, status: 503)
            await #expect(throws: RedirectError.serverError(status: 503)) {
                try await standIn.client.register(self.mac, at: self.url)
            }
            #expect(await standIn.state.registration("080023ABCDEF") == nil)
        }
    }

    @Test(
        "every answer the reference gives maps to an outcome; any other is kept verbatim",
        arguments: [
            (XMLRPCResponse.value(.bool(true)), RedirectOutcome.ok),
            (.fault(XMLRPCFault(code: 100, message: "x")), .error(.malformedURL)),
            (.fault(XMLRPCFault(code: 200, message: "x")), .error(.malformedMAC)),
            (.fault(XMLRPCFault(code: 201, message: "x")), .error(.noSuchMAC)),
            (.fault(XMLRPCFault(code: 202, message: "x")), .error(.ownedByOtherUser)),
            (.fault(XMLRPCFault(code: 300, message: "Quota exceeded")), .error(.unknown("fault 300: Quota exceeded"))),
            (.value(.struct(["faultCode": .int(202), "faultString": .string("x")])), .error(.ownedByOtherUser)),
        ])
    func answers(response: XMLRPCResponse, outcome: RedirectOutcome) throws {
        #expect(try PanasonicAnswer.read(response).outcome == outcome)
    }

    @Test(
        "checkPhones' codes: 0 ours, 201 nobody's, 202 another account's, 200 not a MAC",
        arguments: [
            (0, RedirectOutcome.ok), (201, .error(.noSuchMAC)), (202, .error(.ownedByOtherUser)),
            (200, .error(.malformedMAC)),
        ])
    func checks(code: Int, outcome: RedirectOutcome) throws {
        let answer = XMLRPCResponse.value(.array([.struct(["faultCode": .int(code), "faultString": .string("")])]))
        #expect(try PanasonicAnswer.readCheck(answer).outcome == outcome)
    }

    @Test("an answer of another shape is an invalid response, not a success")
    func shapes() {
        for response in [
            XMLRPCResponse.value(.bool(false)), .value(.string("OK")), .value(.array([.bool(true), .string("OK")])),
        ] {
            #expect(throws: RedirectError.self) { try PanasonicAnswer.read(response) }
        }
        #expect(throws: RedirectError.self) { try PanasonicAnswer.readCheck(.value(.array([]))) }
        #expect(throws: RedirectError.self) { try PanasonicAnswer.readCheck(.value(.bool(true))) }
    }
}
