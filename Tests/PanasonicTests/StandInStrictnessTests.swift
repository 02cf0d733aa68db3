import Foundation
import NIOHTTP1
import PanasonicStandIn
import Testing
import VendorTestSupport
import XMLRPC

/// The stand-in refuses what the clients that work against Panasonic's service say it refuses, and answers as it does.
@Suite("Panasonic stand-in strictness")
struct PanasonicStandInStrictnessTests {
    @Test("HTTP: only POST of text/xml at /redirect/xmlrpc, with basic auth and the service's realm")
    func http() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let body = try XMLRPCEncoder.encodeCall("ipredirect.checkPhones", [.array([.string("080023000001")])])
            try await standIn.expectFrontDoor(
                body, elsewhere: ["/redirect/xmlrpc/", "/xmlrpc"], realm: "Please Enter Your Password")
        }
    }

    @Test(
        "MACs: 12 hex digits in either case; anything else is fault 200",
        arguments: [
            ("080023000001", true), ("08f0c0123456", true), ("BCC34206F766", true), ("08:00:23:00:00:01", false),
            ("08-00-23-00-00-01", false), ("0800230000", false), ("08002300000G", false), ("", false),
        ])
    func macs(mac: String, taken: Bool) async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let answer = try await standIn.call(
                "ipredirect.registerPhone", [.string(mac), .string("https://p.example/a.cfg")])
            #expect(
                answer == (taken ? .value(.bool(true)) : .fault(XMLRPCFault(code: 200, message: "Invalid MAC address")))
            )
        }
    }

    @Test("URLs other than http:// or https:// are fault 100; nothing refused is registered")
    func urls() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            for url in ["ftp://p.example/a", "sip:p.example", "https://", ""] {
                let answer = try await standIn.call(
                    "ipredirect.registerPhone", [.string("080023000001"), .string(url)])
                guard case .fault(let fault) = answer else {
                    Issue.record("\(url) taken")
                    continue
                }
                #expect(fault.code == 100, "\(url)")
            }
            #expect(await standIn.state.registration("080023000001") == nil)
            let plain = try await standIn.call(
                "ipredirect.registerPhone", [.string("080023000001"), .string("http://10.0.0.1/{MAC}")])
            #expect(plain == .value(.bool(true)))
        }
    }

    @Test("parameters of another type or count are a fault; an unknown method too; checkPhones answers per MAC")
    func faults() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            for (method, params) in [
                ("ipredirect.registerPhone", [XMLRPCValue.string("080023000001")]),
                ("ipredirect.unregisterPhone", [.int(1)]), ("ipredirect.checkPhones", [.string("080023000001")]),
                ("ipredirect.checkPhones", [.array([])]), ("redirect.registerPhone", [.string("x")]),
            ] {
                guard case .fault = try await standIn.call(method, params) else {
                    Issue.record("\(method)(\(params)) answered")
                    continue
                }
            }
            #expect(try await standIn.post("<methodCall>").text.contains("<fault>"))
            let check = try await standIn.call(
                "ipredirect.checkPhones", [.array([.string("080023000001"), .string("bad")])])
            #expect(
                check
                    == .value(
                        .array([
                            .struct(["faultCode": .int(201), "faultString": .string("MAC address not found")]),
                            .struct(["faultCode": .int(200), "faultString": .string("Invalid MAC address")]),
                        ])))
        }
    }
}
