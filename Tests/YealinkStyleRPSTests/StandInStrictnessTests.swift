import Foundation
import NIOHTTP1
import StandInSupport
import Testing
import VendorTestSupport
import YealinkRPSStandIn
import YealinkStyleRPSStandIn

/// The stand-in refuses what Htek's and Akuvox's pages say the services refuse, and answers as they do.
@Suite("Htek and Akuvox RPS stand-in strictness")
struct YealinkStyleRPSStandInStrictnessTests {
    /// Adds the server `s` for our account, then registers `mac` to it.
    func register(_ standIn: StandIn, _ mac: String, override: String? = nil) async throws -> (Int, String) {
        _ = try await standIn.post(StandIn.call("redirect.addServer", ["s", "https://p.example/"]))
        let answer = try await standIn.post(
            StandIn.call("redirect.registerDevice", [mac, "s"] + (override.map { [$0] } ?? [])))
        return (answer.status, answer.text)
    }

    @Test("the answer is [boolean, text] with the text untyped, as the pages' examples show")
    func answerShape() async throws {
        try await StandIn.with(.htek) { (standIn: StandIn) async throws in
            let (status, text) = try await self.register(standIn, "001fc1000001")
            #expect(status == 200)
            #expect(
                text.contains(
                    "<params><param><value><array><data><value><boolean>1</boolean></value><value>OK</value></data></array></value></param></params>"
                ), "\(text)")
        }
    }

    @Test(
        "HTTP: only POST of text/xml at the service's path, with basic auth",
        arguments: [FakeYealinkStyleRPSState.Service.htek, .akuvox])
    func http(service: FakeYealinkStyleRPSState.Service) async throws {
        try await StandIn.with(service) { (standIn: StandIn) async throws in
            let body = StandIn.call("redirect.checkDevice", ["001FC1000001"])
            // Akuvox's `id=1` is part of its address.
            let elsewhere = service == .akuvox ? ["/fcgi/do", "/fcgi/do?id=2"] : ["/index.php/xmlrpc/x"]
            try await standIn.expectFrontDoor(body, elsewhere: ["/xmlrpc"] + elsewhere, realm: "RPS")
            #expect(await standIn.state.calls.filter { $0.status == 200 }.allSatisfy { $0.user == StandIn.user })
        }
    }

    @Test(
        "MAC spellings: the four the pages list, in either case; nothing else",
        arguments: [
            ("0C1105002189", true), ("0C 11 05 00 21 89", true), ("0C-11-05-00-21-89", true),
            ("0C:11:05:00:21:89", true), ("001fc1000001", true), ("0c:11:05:00:21:89", true),
            ("0C.11.05.00.21.89", false), ("0C11050021", false), ("0C110500218G", false), ("0C-11:05-00-21-89", false),
            ("0C-11-05-00-21-8", false), ("", false),
        ])
    func macs(mac: String, taken: Bool) async throws {
        try await StandIn.with(.akuvox) { (standIn: StandIn) async throws in
            let (status, text) = try await self.register(standIn, mac)
            #expect(status == 200)
            if taken {
                #expect(text.contains("<boolean>1</boolean>"), "\(mac): \(text)")
            } else {
                #expect(text.contains("Invalid MAC(s):"), "\(mac): \(text)")
            }
        }
    }

    @Test("servers: named in the service's characters, URLs of its schemes, the account's own; override 0 or 1")
    func registrationRules() async throws {
        try await StandIn.with(.htek) { (standIn: StandIn) async throws in
            let badName = try await standIn.post(
                StandIn.call("redirect.addServer", ["prov/hook", "https://p.example/"]))
            #expect(badName.text.contains("server name can only contain"))
            let sip = try await standIn.post(StandIn.call("redirect.addServer", ["s", "sip:prov.example"]))
            #expect(sip.text.contains("The url can only begin with"))
            let noServer = try await standIn.post(StandIn.call("redirect.registerDevice", ["001FC1000001", "s"]))
            #expect(noServer.text.contains("Error: Invalid server"))
            let flag = try await self.register(standIn, "001FC1000001", override: "true")
            #expect(flag.1.contains("<boolean>0</boolean>"))
            #expect(await standIn.state.registration("001FC1000001") == nil, "nothing refused was registered")

            // Another account's server is not ours to register to.
            let theirs = "Basic " + Data("\(StandIn.otherUser):\(StandIn.otherPassword)".utf8).base64EncodedString()
            _ = try await standIn.post(
                StandIn.call("redirect.addServer", ["t", "https://t.example/"]), authorization: theirs)
            let foreign = try await standIn.post(StandIn.call("redirect.registerDevice", ["001FC1000001", "t"]))
            #expect(foreign.text.contains("Error: Invalid server"))

            let again = try await standIn.post(StandIn.call("redirect.addServer", ["s", "https://p.example/"]))
            #expect(again.text.contains("<boolean>0</boolean>"), "a name is added once")
            #expect(try await self.register(standIn, "001FC1000001").1.contains("<boolean>1</boolean>"))
            let existing = try await self.register(standIn, "001FC1000001")
            #expect(existing.1.contains("Existing MAC(s): 001FC1000001"), "\(existing.1)")
        }
    }

    @Test("the batch calls take arrays of strings, all or nothing, and only Htek's service has them")
    func batches() async throws {
        let list =
            "<array><data><value><string>001FC1000001</string></value><value><string>001FC1000002</string></value></data></array>"
        let bad =
            "<array><data><value><string>001FC1000001</string></value><value><string>nope</string></value></data></array>"
        try await StandIn.with(.htek) { (standIn: StandIn) async throws in
            _ = try await standIn.post(StandIn.call("redirect.addServer", ["s", "https://p.example/"]))
            let refused = try await standIn.post(
                StandIn.call("redirect.registerDevices", values: [bad, "<string>s</string>"]))
            #expect(refused.text.contains("Invalid MAC(s): nope"), "\(refused.text)")
            #expect(await standIn.state.registration("001FC1000001") == nil, "all or nothing")
            let taken = try await standIn.post(
                StandIn.call("redirect.registerDevices", values: [list, "<string>s</string>", "<string>0</string>"]))
            #expect(taken.text.contains("<boolean>1</boolean>"))
            let strings = try await standIn.post(StandIn.call("redirect.registerDevices", ["001FC1000001", "s"]))
            #expect(strings.text.contains("<fault>"), "a list is an array")
            let removed = try await standIn.post(StandIn.call("redirect.deRegisterDevices", values: [list]))
            #expect(removed.text.contains("<boolean>1</boolean>"))
        }
        try await StandIn.with(.akuvox) { (standIn: StandIn) async throws in
            let absent = try await standIn.post(StandIn.call("redirect.deRegisterDevices", values: [list]))
            #expect(absent.text.contains("Method not found"), "\(absent.text)")
        }
    }

    @Test("parameters of another type or count are a fault; an unknown method too")
    func faults() async throws {
        try await StandIn.with(.htek) { (standIn: StandIn) async throws in
            #expect(
                try await standIn.post(StandIn.call("redirect.checkDevice", values: ["<int>1</int>"])).text.contains(
                    "<fault>"))
            #expect(try await standIn.post(StandIn.call("redirect.checkDevice", [])).text.contains("<fault>"))
            #expect(
                try await standIn.post(StandIn.call("redirect.registerDevice", ["a", "b", "0", "x"])).text.contains(
                    "<fault>"))
            #expect(
                try await standIn.post(StandIn.call("redirect.registerDeviceWithUniqueUrl", ["x", "y"])).text.contains(
                    "<fault>"))
            #expect(try await standIn.post("<methodCall>").text.contains("<fault>"))
        }
    }
}
