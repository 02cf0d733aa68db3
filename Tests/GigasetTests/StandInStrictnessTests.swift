import Foundation
import GigasetStandIn
import NIOHTTP1
import Testing
import VendorTestSupport
import XMLRPC

/// The stand-in refuses what the clients that work against Gigaset's service say it refuses, and answers as it does.
@Suite("Gigaset stand-in strictness")
struct GigasetStandInStrictnessTests {
    static let mac = "7C2F80000001"
    static var macID: String { "\(Self.mac)-\(FakeGigasetState.code(for: Self.mac))" }

    @Test("HTTP: only POST of text/xml at /apxml/rpc.do, with basic auth")
    func http() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let body = try XMLRPCEncoder.encodeCall("autoprov.checkDevice", [.string(Self.mac)])
            try await standIn.expectFrontDoor(
                body, elsewhere: ["/apxml/rpc.do/", "/xmlrpc"], realm: "Gigaset Provisioning",
                otherType: "application/json")
        }
    }

    @Test("the code is the phone's, the same every time, 4 uppercase letters or digits")
    func codes() {
        let code = FakeGigasetState.code(for: "7c2f80abcdef")
        #expect(code == FakeGigasetState.code(for: "7C2F80ABCDEF"))
        #expect(code.count == 4 && code.allSatisfy { $0.isNumber || ($0.isLetter && $0.isUppercase) })
        #expect(FakeGigasetState.code(for: "7C2F80ABCDEF") != FakeGigasetState.code(for: "7C2F80ABCDEE"))
    }

    @Test(
        "registerDevice: a MAC-ID of 12 uppercase hex digits, '-' and the phone's code; any other is refused",
        arguments: [
            (GigasetStandInStrictnessTests.macID, "ok"),
            (GigasetStandInStrictnessTests.mac, "mac_invalid:\(GigasetStandInStrictnessTests.mac)"),
            (
                GigasetStandInStrictnessTests.macID.lowercased(),
                "mac_invalid:\(GigasetStandInStrictnessTests.macID.lowercased())"
            ),
            (
                "7C:2F:80:00:00:01-\(FakeGigasetState.code(for: GigasetStandInStrictnessTests.mac))",
                "mac_invalid:7C:2F:80:00:00:01-"
            ),
            ("\(GigasetStandInStrictnessTests.mac)-12345", "mac_invalid:\(GigasetStandInStrictnessTests.mac)-12345"),
            ("", "mac_invalid:"),
        ])
    func macIDs(macID: String, answer: String) async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let text = try await standIn.call(
                "autoprov.registerDevice", [.string(macID), .string("https://p.example/a.xml"), .string("provhook")])
            guard case .value(.array(let items)) = text, items.count == 2, case .string(let said) = items[1] else {
                Issue.record("answered \(text)")
                return
            }
            #expect(said.hasPrefix(answer), "\(macID)")
            #expect(items[0] == .bool(answer == "ok"))
        }
    }

    @Test("a code that is not the phone's, a refused URL or name, a registered MAC: each its answer, nothing kept")
    func refusals() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let code = FakeGigasetState.code(for: Self.mac)
            let wrong = code == "0000" ? "0001" : "0000"
            let cases: [([XMLRPCValue], String)] = [
                (
                    [.string("\(Self.mac)-\(wrong)"), .string("https://p.example/a"), .string("provhook")],
                    "mac_not_exist:\(Self.mac)"
                ),
                (
                    [.string(Self.macID), .string("ftp://p.example/a"), .string("provhook")],
                    "url_invalid:ftp://p.example/a"
                ),
                ([.string(Self.macID), .string("https://p.example/a"), .string("")], "name_invalid:"),
                ([.string(Self.macID), .string("https://p.example/a"), .string("a<b")], "name_invalid:a<b"),
            ]
            for (params, answer) in cases {
                let said = try await standIn.call("autoprov.registerDevice", params)
                #expect(said == .value(.array([.bool(false), .string(answer)])))
            }
            #expect(await standIn.state.registration(Self.mac) == nil)
            let ok = XMLRPCResponse.value(.array([.bool(true), .string("ok")]))
            let params: [XMLRPCValue] = [.string(Self.macID), .string("https://p.example/a"), .string("provhook")]
            #expect(try await standIn.call("autoprov.registerDevice", params) == ok)
            #expect(
                try await standIn.call("autoprov.registerDevice", params)
                    == .value(.array([.bool(false), .string("mac_already_in_use:\(Self.mac)")])),
                "registered already, even to this account")
            #expect(
                try await standIn.call("autoprov.checkDevice", [.string(Self.macID)])
                    == .value(.array([.bool(true), .string(Self.mac)])))
            #expect(
                try await standIn.call("autoprov.deregisterDevice", [.string("\(Self.mac)-\(wrong)")])
                    == .value(.array([.bool(false), .string("mac_not_exist:\(Self.mac)")])))
            #expect(try await standIn.call("autoprov.deregisterDevice", [.string(Self.mac)]) == ok)
            #expect(
                try await standIn.call("autoprov.checkDevice", [.string(Self.mac)])
                    == .value(.array([.bool(false), .string("mac_not_found:\(Self.mac)")])))
        }
    }

    @Test("parameters of another type or count are a fault; an unknown method too")
    func faults() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            for (method, params) in [
                ("autoprov.registerDevice", [XMLRPCValue.string(Self.macID), .string("https://p.example/a")]),
                ("autoprov.deregisterDevice", [.int(1)]), ("autoprov.checkDevice", [.array([.string(Self.mac)])]),
                ("redirect.registerDevice", [.string("x")]),
            ] {
                guard case .fault = try await standIn.call(method, params) else {
                    Issue.record("\(method)(\(params)) answered")
                    continue
                }
            }
        }
    }
}
