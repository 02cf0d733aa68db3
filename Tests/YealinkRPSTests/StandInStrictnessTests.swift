import Foundation
import NIOHTTP1
import StandInSupport
import Testing
import VendorTestSupport
import YealinkRPSStandIn

/// The stand-in refuses what RPS's reference and working clients say the service refuses, and answers as it does.
@Suite("Yealink RPS stand-in strictness")
struct YealinkRPSStandInStrictnessTests {
    func register(
        _ mac: String, server: String = "provhook", url: String = "https://p.example/a.cfg", override: String = "0"
    ) -> String {
        StandIn.call("redirect.registerDeviceWithUniqueUrl", [mac, server, url, override])
    }

    @Test("the answer is [boolean, text] with the text untyped, the shape falconieri's parser reads")
    func answerShape() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let answer = try await standIn.post(self.register("00-15-65-00-00-01"))
            #expect(answer.status == 200)
            #expect(
                answer.text.contains(
                    "<params><param><value><array><data><value><boolean>1</boolean></value><value>OK</value></data></array></value></param></params>"
                ), "\(answer.text)")
        }
    }

    @Test("HTTP: only POST of text/xml at /xmlrpc (or /xmlrpc/), with basic auth")
    func http() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let body = StandIn.call("redirect.checkDevice", ["001565000001"])
            #expect(try await standIn.post(body, path: "/xmlrpc/").status == 200, "peoplefone's path")
            try await standIn.expectFrontDoor(body, elsewhere: ["/xmlrpc/x", "/RPC2"], realm: "RPS")
        }
    }

    @Test(
        "MAC spellings: AA-BB-CC-DD-EE-FF uppercase or 12 hex digits; nothing else",
        arguments: [
            ("00-15-65-00-00-01", true), ("001565000001", true), ("001565ABCDEF", true), ("001565abcdef", true),
            ("00:15:65:00:00:01", false), ("00-15-65-ab-cd-ef", false), ("0015650000", false),
            ("00156500000G", false), ("00-15-65-00-00-0", false), ("", false),
        ])
    func macs(mac: String, taken: Bool) async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let answer = try await standIn.post(self.register(mac))
            #expect(answer.status == 200)
            if taken {
                #expect(answer.text.contains("<boolean>1</boolean>"), "\(mac): \(answer.text)")
            } else {
                #expect(answer.text.contains("Error:Invalid MAC(s):"), "\(mac): \(answer.text)")
            }
        }
    }

    @Test("server names, URL schemes and override are checked")
    func registrationRules() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let badServer = try await standIn.post(self.register("001565000001", server: "prov/hook"))
            #expect(badServer.text.contains("server name can only contain"))
            let noServer = try await standIn.post(self.register("001565000001", server: ""))
            #expect(noServer.text.contains("Error:Invalid server"))
            let sip = try await standIn.post(self.register("001565000001", url: "sip:prov.example"))
            #expect(sip.text.contains("The url can only begin with"))
            let flag = try await standIn.post(self.register("001565000001", override: "true"))
            #expect(flag.text.contains("<boolean>0</boolean>"))
            #expect(await standIn.state.registration("001565000001") == nil, "nothing refused was registered")
            let tftp = try await standIn.post(self.register("001565000001", url: "tftp://10.0.0.1/cfg"))
            #expect(tftp.text.contains("<boolean>1</boolean>"))
        }
    }

    @Test("parameters of another type or count are a fault; an unknown method too")
    func faults() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let int =
                "<?xml version=\"1.0\"?><methodCall><methodName>redirect.checkDevice</methodName><params><param><value><int>1</int></value></param></params></methodCall>"
            #expect(try await standIn.post(int).text.contains("<fault>"))
            #expect(try await standIn.post(StandIn.call("redirect.checkDevice", [])).text.contains("<fault>"))
            #expect(
                try await standIn.post(StandIn.call("redirect.registerPhone", ["x", "y"])).text.contains("<fault>"))
            #expect(try await standIn.post("<methodCall>").text.contains("<fault>"))
        }
    }
}
