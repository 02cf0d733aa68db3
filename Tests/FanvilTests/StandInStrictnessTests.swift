import FanvilStandIn
import Foundation
import NIOHTTP1
import Testing
import VendorTestSupport
import XMLRPC

/// The stand-in takes what falconieri sends to Fanvil's FDPS, refuses the rest, and answers with the service's texts.
@Suite("Fanvil FDPS stand-in strictness")
struct FanvilStandInStrictnessTests {
    static let settings = [
        "cfgName=0C383E000001", "cfgPfMode=1", "cfgDhcpOpt=false", "cfgPnpEnable=false", "cfgPfSrv=prov.example.com",
        "cfgPfName=fanvil/0C383E000001.cfg", "cfgPfProt=5",
    ]

    static func server(_ changes: [String: String?] = [:]) -> [XMLRPCValue] {
        var settings = Self.settings
        for (name, value) in changes {
            settings.removeAll { $0.hasPrefix(name + "=") }
            if let value { settings.append("\(name)=\(value)") }
        }
        return [.array(settings.map(XMLRPCValue.string))]
    }

    @Test("HTTP: only POST of text/xml at /xmlrpc.php, with basic auth whose password is the lowercase double md5")
    func http() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let body = try XMLRPCEncoder.encodeCall("redirect.deRegisterDevice", [.string("0C383E000001")])
            try await standIn.expectFrontDoor(body, elsewhere: ["/xmlrpc.php/", "/xmlrpc"], realm: "FDPS")
            let hash = FakeFanvilState.sentPassword(for: StandIn.password)
            for authorization in [
                VendorTestHarness.basic(StandIn.user, StandIn.password),
                VendorTestHarness.basic(StandIn.user, hash.uppercased()),
                VendorTestHarness.basic(StandIn.user, FakeFanvilState.sentPassword(for: hash)), "Bearer \(hash)",
            ] {
                let refused = try await standIn.post(body, authorization: authorization)
                #expect(refused.status == 401 && refused.challenge == "Basic realm=\"FDPS\"", "\(authorization)")
            }
        }
    }

    @Test(
        "MACs: 12 uppercase hex digits, as falconieri sends them; anything else is Error: mac_format_error",
        arguments: [
            ("0C383E000001", true), ("00A859ABCDEF", true), ("0c383e000001", false), ("0C:38:3E:00:00:01", false),
            ("0C-38-3E-00-00-01", false), ("0C383E0000", false), ("0C383E00000G", false), ("", false),
        ])
    func macs(mac: String, taken: Bool) async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            #expect(
                try await standIn.call("redirect.addMaterialServer", Self.server()) == StandIn.answer(true, "success"))
            let refused = StandIn.answer(false, "Error: mac_format_error")
            let registered = try await standIn.call("redirect.registerDevice", [.string(mac), .string("0C383E000001")])
            #expect(registered == (taken ? StandIn.answer(true, "success") : refused))
            let released = try await standIn.call("redirect.deRegisterDevice", [.string(mac)])
            #expect(released == (taken ? StandIn.answer(true, "success") : refused))
        }
    }

    @Test(
        "server settings that make no address are Error: url_format_error, and add nothing",
        arguments: [
            ["cfgPfProt": "3"], ["cfgPfProt": "https"], ["cfgPfName": "/fanvil/a.cfg"], ["cfgPfSrv": ""],
            ["cfgPfSrv": "prov.example.com/fanvil"], ["cfgPfSrv": "u:p@prov.example.com"], ["cfgPfName": "a.cfg?x=1"],
            ["cfgPfSrv": "prov example"],
        ] as [[String: String?]])
    func addresses(changes: [String: String?]) async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let answer = try await standIn.call("redirect.addMaterialServer", Self.server(changes))
            #expect(answer == StandIn.answer(false, "Error: url_format_error"))
            #expect(await standIn.state.servers[StandIn.user] == nil)
        }
    }

    @Test("server objects: added once, deleted once (then Error:server_not_exist); a MAC registers to one it has")
    func servers() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let ok = StandIn.answer(true, "success")
            let mac = XMLRPCValue.string("0C383E000001")
            #expect(
                try await standIn.call("redirect.registerDevice", [mac, .string("0C383E000001")])
                    == StandIn.answer(false, "Error:server_not_exist"))
            #expect(try await standIn.call("redirect.addMaterialServer", Self.server()) == ok)
            guard case .fault = try await standIn.call("redirect.addMaterialServer", Self.server()) else {
                Issue.record("a server object added twice")
                return
            }
            #expect(
                try await standIn.call("redirect.addMaterialServer", Self.server(["cfgPfProt": "4"]))
                    != ok, "the name is taken whatever the settings")
            #expect(try await standIn.call("redirect.registerDevice", [mac, .string("0C383E000001")]) == ok)
            #expect(
                try await standIn.call("redirect.registerDevice", [mac, .string("0C383E000001")])
                    == StandIn.answer(false, "Error: device_had_existed"), "registered already, even to us")
            #expect(
                await standIn.state.registration("0C383E000001")?.url
                    == "https://prov.example.com/fanvil/0C383E000001.cfg")
            #expect(try await standIn.call("redirect.deleteServer", [.string("0C383E000001")]) == ok)
            #expect(
                try await standIn.call("redirect.deleteServer", [.string("0C383E000001")])
                    == StandIn.answer(false, "Error:server_not_exist"))
            #expect(await standIn.state.registration("0C383E000001")?.url == nil, "its object gone")
        }
    }

    @Test("parameters of another type, count or shape are a fault; an unknown method and a malformed body too")
    func faults() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            for (method, params) in [
                ("redirect.deleteServer", [XMLRPCValue]()), ("redirect.deleteServer", [.int(1)]),
                ("redirect.deRegisterDevice", [.array([.string("0C383E000001")])]),
                ("redirect.registerDevice", [.string("0C383E000001")]),
                ("redirect.registerDevice", [.string("0C383E000001"), .string("x"), .string("1")]),
                ("redirect.addMaterialServer", [.string("cfgName=x")]),
                ("redirect.addMaterialServer", [.array([.int(1)])]),
                ("redirect.addMaterialServer", Self.server(["cfgDhcpOpt": nil])),
                ("redirect.addMaterialServer", Self.server(["cfgExtra": "1"])),
                ("redirect.addMaterialServer", Self.server(["cfgPfMode": "2"])),
                ("redirect.addMaterialServer", Self.server(["cfgName": ""])),
                ("redirect.addMaterialServer", [.array((Self.settings + ["cfgPfProt=4"]).map(XMLRPCValue.string))]),
                ("redirect.checkDevice", [.string("0C383E000001")]), ("ipredirect.registerPhone", [.string("x")]),
            ] {
                guard case .fault = try await standIn.call(method, params) else {
                    Issue.record("\(method)(\(params)) answered")
                    continue
                }
            }
            #expect(try await standIn.post("<methodCall>").text.contains("<fault>"))
            #expect(await standIn.state.servers[StandIn.user] == nil)
        }
    }

    @Test("answers are [boolean, string] with typed strings, the shape falconieri's pattern reads")
    func shape() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let body = try XMLRPCEncoder.encodeCall("redirect.deleteServer", [.string("none")])
            let text = try await standIn.post(body).text
            #expect(text.contains("<boolean>0</boolean>") && text.contains("<string>Error:server_not_exist</string>"))
        }
    }
}
