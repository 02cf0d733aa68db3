import FanvilStandIn
import Foundation
import ProvisioningModel
import StandInSupport
import Testing
import VendorTestSupport
import XMLRPC

@testable import Fanvil

@Suite("Fanvil FDPS client against the strict stand-in")
struct FanvilClientTests {
    let mac = MACAddress("0c:38:3e:ab:cd:ef")!
    let url = "https://prov.example.com/fanvil/0C383EABCDEF.cfg"
    let other = "http://10.0.0.1:8080/prov/0C383EABCDEF.cfg"

    @Test("register, re-point, deregister, over HTTP and over TLS with a private CA", arguments: [false, true])
    func roundTrips(tls: Bool) async throws {
        try await StandIn.with(tls: tls) { (standIn: StandIn) async throws in
            let client = standIn.client
            try await client.checkCredentials()
            #expect(try await client.register(self.mac, at: self.url) == .ok)
            #expect(
                await standIn.state.registration("0C383EABCDEF")
                    == .init(owner: StandIn.user, server: "0C383EABCDEF", url: self.url))
            let methods = await standIn.state.calls.map(\.method)
            #expect(
                methods == [
                    "redirect.deleteServer", "redirect.deleteServer", "redirect.addMaterialServer",
                    "redirect.deRegisterDevice", "redirect.registerDevice",
                ], "the credentials check, then falconieri's order")
            #expect(try await client.register(self.mac, at: self.other) == .ok, "our own MAC is pointed elsewhere")
            #expect(await standIn.state.registration("0C383EABCDEF")?.url == self.other)
            #expect(await standIn.state.servers[StandIn.user]?.count == 1, "one server object per MAC, replaced")
            #expect(try await client.deregister(self.mac) == .ok)
            #expect(await standIn.state.registration("0C383EABCDEF") == nil)
            #expect(await standIn.state.servers[StandIn.user]?.isEmpty == true, "its server object deleted")
            #expect(try await client.deregister(self.mac) == .ok, "a removal of nothing is done")

            let calls = await standIn.state.calls
            #expect(calls.allSatisfy { $0.user == StandIn.user && $0.status == 200 })
            let added = calls.filter { $0.method == "redirect.addMaterialServer" }.map(\.params)
            #expect(
                added == [
                    [
                        .array(
                            [
                                "cfgName=0C383EABCDEF", "cfgPfMode=1", "cfgDhcpOpt=false", "cfgPnpEnable=false",
                                "cfgPfSrv=prov.example.com", "cfgPfName=fanvil/0C383EABCDEF.cfg", "cfgPfProt=5",
                            ].map(XMLRPCValue.string))
                    ],
                    [
                        .array(
                            [
                                "cfgName=0C383EABCDEF", "cfgPfMode=1", "cfgDhcpOpt=false", "cfgPnpEnable=false",
                                "cfgPfSrv=10.0.0.1:8080", "cfgPfName=prov/0C383EABCDEF.cfg", "cfgPfProt=4",
                            ].map(XMLRPCValue.string))
                    ],
                ], "the URL split into host, path and protocol")
            let register = try #require(calls.first { $0.method == "redirect.registerDevice" })
            #expect(register.params == [.string("0C383EABCDEF"), .string("0C383EABCDEF")], "12 uppercase hex, twice")
        }
    }

    @Test("the service says nothing of what an account holds: lookups are refused, reconcile is told")
    func noLookups() async throws {
        #expect(!FanvilClient.descriptor.canCheckDevices && FanvilClient.descriptor.listing == .unavailable)
        try await StandIn.with { (standIn: StandIn) async throws in
            await #expect(throws: RedirectError.self) { try await standIn.client.ownership(of: self.mac) }
            await #expect(throws: RedirectError.self) { try await standIn.client.redirection(of: self.mac) }
            #expect(await standIn.state.calls.isEmpty, "nothing sent")
        }
    }

    @Test("a MAC another account holds is a conflict, left as it was; lists go one MAC at a time")
    func heldElsewhere() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let theirs = standIn.client(user: StandIn.otherUser, password: StandIn.otherPassword)
            #expect(try await theirs.register(self.mac, at: self.other) == .ok)
            #expect(try await standIn.client.register(self.mac, at: self.url) == .error(.ownedByOtherUser))
            #expect(try await standIn.client.deregister(self.mac) == .error(.ownedByOtherUser))
            #expect(
                await standIn.state.registration("0C383EABCDEF")
                    == .init(owner: StandIn.otherUser, server: "0C383EABCDEF", url: self.other))

            let mine = MACAddress("0C383E000001")!
            let outcome = try await standIn.client.register([mine, self.mac], at: self.url)
            #expect(outcome == .partial([MACFailure(mac: self.mac.canonical, code: .ownedByOtherUser)]))
            #expect(await standIn.state.registration("0C383E000001")?.owner == StandIn.user)
        }
    }

    @Test("the password goes as its double md5, never as it is, and shows nowhere; a wrong one fails authentication")
    func passwords() async throws {
        #expect(FanvilClient.sentPassword(for: "abc") == "ec0405c5aef93e771cd80e0db180b88b", "lowercase hex")
        #expect(FanvilClient.sentPassword(for: "") == "74be16979710d4c4e7c6647856088456")
        try await StandIn.with { (standIn: StandIn) async throws in
            for wrong in [
                standIn.client(user: StandIn.user, password: StandIn.password, digested: false),
                standIn.client(user: StandIn.user, password: "not-it-\(StandIn.password)"),
            ] {
                let secrets = [StandIn.password, FanvilClient.sentPassword(for: StandIn.password)]
                await expectRefusedSecret(secrets, settings: wrong.login) {
                    _ = try await wrong.register(self.mac, at: self.url)
                }
            }
            #expect("\(standIn.client.login)".contains("<redacted>"))
        }
    }

    @Test(
        "a URL a server object cannot hold is refused before anything is sent; a broken front end is a server error",
        arguments: [
            "ftp://prov.example/a.cfg", "https://prov.example/a.cfg?tenant=a", "https://u:p@prov.example/a.cfg",
            "https://prov.example/a.cfg#x", "sip:prov.example", "https:///a.cfg",
        ])
    func refusedURLs(url: String) async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            #expect(try await standIn.client.register(self.mac, at: url) == .error(.malformedURL))
            #expect(await standIn.state.calls.isEmpty)
            await standIn.state.failNext(1, status: 503)
            await #expect(throws: RedirectError.serverError(status: 503)) {
                try await standIn.client.register(self.mac, at: self.url)
            }
            #expect(await standIn.state.registration("0C383EABCDEF") == nil)
        }
    }

    @Test(
        "every answer the reference gives maps to an outcome; any other refusal is kept verbatim",
        arguments: [
            (StandIn.answer(true, "success"), RedirectOutcome.ok),
            (StandIn.answer(true, ""), .ok),
            (StandIn.answer(false, "Error: url_format_error"), .error(.malformedURL)),
            (StandIn.answer(false, "Error: mac_format_error"), .error(.malformedMAC)),
            (StandIn.answer(false, "Error: device_had_existed"), .error(.ownedByOtherUser)),
            (StandIn.answer(false, "Error:server_not_exist"), .error(.unknown("Error:server_not_exist"))),
            (StandIn.answer(false, "Error:url_format_error"), .error(.unknown("Error:url_format_error"))),
            (StandIn.answer(false, "Quota exceeded"), .error(.unknown("Quota exceeded"))),
        ])
    func answers(response: XMLRPCResponse, outcome: RedirectOutcome) throws {
        guard case .value(let value) = response else {
            Issue.record("not a value")
            return
        }
        #expect(try FanvilAnswer.read(value).outcome == outcome)
    }

    @Test("deleteServer's Error:server_not_exist is nothing to delete; the other refusals are read as such")
    func deleteAnswers() throws {
        #expect(try FanvilAnswer.read(.array([.bool(false), .string("Error:server_not_exist")])) == .serverNotFound)
        #expect(try FanvilAnswer.read(.array([.bool(false), .string("Error: device_had_existed")])) == .deviceExists)
    }

    @Test("an answer of another shape is an invalid response, not a success")
    func shapes() {
        for value in [
            XMLRPCValue.bool(true), .string("success"), .array([.bool(true)]),
            .array([.bool(true), .string("a"), .string("b")]), .array([.string("true"), .string("success")]),
            .array([.bool(true), .int(1)]), .struct(["faultCode": .int(1)]),
        ] {
            #expect(throws: RedirectError.self) { try FanvilAnswer.read(value) }
        }
    }
}
