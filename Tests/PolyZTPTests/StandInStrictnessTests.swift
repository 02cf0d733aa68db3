import Foundation
import NIOHTTP1
import PolyZTPStandIn
import Testing
import VendorTestSupport

/// The stand-in refuses what Poly ZTP's reference and working clients say the service refuses, takes everything
/// fspbx sends, and answers as the reference says.
@Suite("Poly ZTP stand-in strictness")
struct PolyZTPStandInStrictnessTests {
    func device(_ mac: String, _ profile: String) -> String { #"{"id": "\#(mac)", "profile": "\#(profile)"}"# }

    @Test("the API-KEY header exactly, before anything else")
    func key() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            #expect(try await standIn.request(.GET, "/devices?limit=1&cursor=").status == 200)
            #expect(try await standIn.request(.GET, "/devices?limit=1&cursor=", key: nil).status == 401)
            #expect(try await standIn.request(.GET, "/devices?limit=1&cursor=", key: "wrong").status == 401)
            let spaced = try await standIn.request(.GET, "/devices", key: StandIn.key.uppercased())
            #expect(spaced.status == 401, "the key's case matters")
            #expect(try await standIn.request(.GET, "/nothing", key: nil).status == 401, "unknown paths too")
            #expect(try await standIn.request(.GET, "/profiles").status == 200)
            #expect(await standIn.state.calls.filter { !$0.hadKey }.count == 2)
        }
    }

    @Test("POST /devices: JSON as application/json, id and profile only, a lowercase MAC, a profile of ours")
    func devices() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let profile = try await standIn.makeProfile("p", address: "https://p.example/")
            let good = self.device("0004f2000001", profile)
            #expect(try await standIn.request(.POST, "/devices", body: good, contentType: "text/plain").status == 415)
            #expect(try await standIn.request(.POST, "/devices", body: good, contentType: nil).status == 415)
            #expect(try await standIn.request(.POST, "/devices", body: "{").status == 400)
            #expect(try await standIn.request(.POST, "/devices", body: "[]").status == 400)
            #expect(try await standIn.request(.POST, "/devices", body: #"{"id": "0004f2000001"}"#).status == 400)
            #expect(
                try await standIn.request(.POST, "/devices", body: #"{"id": 4, "profile": "\#(profile)"}"#).status
                    == 400)
            let extra = #"{"id": "0004f2000001", "profile": "\#(profile)", "name": "x"}"#
            #expect(try await standIn.request(.POST, "/devices", body: extra).text.contains("Unknown field"))
            let unknownProfile = try await standIn.request(.POST, "/devices", body: self.device("0004f2000001", "nope"))
            #expect(unknownProfile.status == 400 && unknownProfile.text.contains("Profile not found"))
            let charset = try await standIn.request(
                .POST, "/devices", body: good, contentType: "application/json; charset=utf-8")
            #expect(charset.status == 201, "\(charset.text)")
            let again = try await standIn.request(.POST, "/devices", body: good)
            #expect(
                again.status == 409 && again.text.contains("already exists"), "the stricter reading: not re-pointed")
            await standIn.state.setDevice("0004f2000002", .init(organization: StandIn.otherOrganization, profile: "x"))
            let claimed = try await standIn.request(.POST, "/devices", body: self.device("0004f2000002", profile))
            #expect(claimed.status == 409 && claimed.text.contains("claimed by another organization"))
            #expect(try await standIn.request(.GET, "/devices/0004f2000002").status == 404, "another's is not shown")
            #expect(try await standIn.request(.DELETE, "/devices/0004f2000002").status == 404)
            #expect(await standIn.state.device("0004f2000002")?.organization == StandIn.otherOrganization)
        }
    }

    @Test(
        "MAC spellings: 12 lowercase hex digits, as fspbx sends them; nothing else",
        arguments: [
            ("0004f2abcdef", true), ("0004F2ABCDEF", false), ("00:04:f2:ab:cd:ef", false), ("00-04-f2-ab-cd-ef", false),
            ("0004f2abcde", false), ("0004f2abcdeg", false), ("", false),
        ])
    func macs(mac: String, taken: Bool) async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let profile = try await standIn.makeProfile("p", address: "https://p.example/")
            let answer = try await standIn.request(.POST, "/devices", body: self.device(mac, profile))
            #expect(answer.status == (taken ? 201 : 400), "\(mac): \(answer.text)")
            if !taken { #expect(answer.text.contains("Invalid device id") || answer.text.contains("required")) }
            if !mac.isEmpty {
                #expect(try await standIn.request(.GET, "/devices/\(mac)").status == (taken ? 200 : 400))
            }
        }
    }

    @Test("listings: limit 1 to 100, an opaque cursor, no other parameter; next only when more follow")
    func listings() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            for limit in ["0", "101", "abc", "-1"] {
                #expect(try await standIn.request(.GET, "/devices?limit=\(limit)&cursor=").status == 400, "\(limit)")
            }
            #expect(try await standIn.request(.GET, "/devices?limit=100&cursor=").status == 200)
            #expect(try await standIn.request(.GET, "/devices?limit=1&cursor=garbage").status == 400)
            #expect(try await standIn.request(.GET, "/devices?limit=1&page=2").status == 400)
            for index in 1...3 {
                await standIn.state.setDevice(
                    String(format: "0004f20000%02x", index), .init(organization: StandIn.organization, profile: "p"))
            }
            let first = try await standIn.request(.GET, "/devices?limit=2&cursor=")
            let page = try JSONSerialization.jsonObject(with: Data(first.text.utf8)) as? [String: Any]
            let next = try #require(page?["next"] as? String)
            #expect((page?["results"] as? [Any])?.count == 2)
            let last = try await standIn.request(.GET, "/devices?limit=2&cursor=\(next)")
            let lastPage = try JSONSerialization.jsonObject(with: Data(last.text.utf8)) as? [String: Any]
            #expect((lastPage?["results"] as? [Any])?.count == 1 && lastPage?["next"] == nil)
        }
    }

    @Test(
        "profiles: fspbx's whole body taken, a name of 1 to 100 characters, an address of at most 255, no other field")
    func profiles() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            // The body fspbx's createOrganization sends, nulls included.
            let fspbx = """
                {"name": "Tenant A", "enabled": true, "template": {"software": {"version": null}, "provisioning": \
                {"server": {"address": "https://p.example/a/", "username": "u", "password": "pw"}, "polling": true, \
                "quickSetup": false}, "dhcp": {"bootServerOption": null, "option60Type": null}, "localization": \
                {"language": null}}}
                """
            let created = try await standIn.request(.POST, "/profiles", body: fspbx)
            #expect(created.status == 201, "\(created.text)")
            #expect(!created.text.contains("\"pw\""), "the server's password is not answered back")
            let object = try JSONSerialization.jsonObject(with: Data(created.text.utf8)) as? [String: Any]
            let id = try #require(object?["id"] as? String)
            #expect(try await standIn.request(.GET, "/profiles/\(id)").status == 200)
            func body(name: String, address: String) -> String {
                #"{"name": "\#(name)", "template": {"provisioning": {"server": {"address": "\#(address)"}}}}"#
            }
            let hundred = String(repeating: "n", count: 100)
            #expect(
                try await standIn.request(.POST, "/profiles", body: body(name: hundred, address: "a")).status == 201)
            #expect(
                try await standIn.request(.POST, "/profiles", body: body(name: hundred + "n", address: "a")).status
                    == 400)
            #expect(try await standIn.request(.POST, "/profiles", body: body(name: "", address: "a")).status == 400)
            let long = String(repeating: "a", count: 256)
            #expect(try await standIn.request(.POST, "/profiles", body: body(name: "x", address: long)).status == 400)
            #expect(
                try await standIn.request(.PUT, "/profiles/\(id)", body: body(name: "x", address: "b")).status == 200)
            #expect(await standIn.state.profiles[id]?.address == "b")
            #expect(
                try await standIn.request(.PUT, "/profiles/nope", body: body(name: "x", address: "b")).status == 404)
            let unknown = #"{"name": "x", "template": {"provisioning": {"server": {"host": "a"}}}}"#
            #expect(try await standIn.request(.POST, "/profiles", body: unknown).status == 400)
            #expect(try await standIn.request(.POST, "/profiles", body: #"{"name": "x", "color": 1}"#).status == 400)
            #expect(
                try await standIn.request(.POST, "/profiles", body: #"{"name": "x", "enabled": "yes"}"#).status == 400)
            #expect(
                try await standIn.request(.POST, "/profiles", body: #"{"name": "x"}"#, contentType: "text/json").status
                    == 415)
            let huge = #"{"name": "\#(String(repeating: "x", count: 70_000))"}"#
            #expect(try await standIn.request(.POST, "/profiles", body: huge).status == 413)
            #expect(try await standIn.request(.DELETE, "/profiles/\(id)").status == 200)
            #expect(try await standIn.request(.GET, "/profiles/\(id)").status == 404)
        }
    }

    @Test("methods and paths the API does not have")
    func routes() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            #expect(try await standIn.request(.PUT, "/devices/0004f2000001", body: "{}").status == 405)
            #expect(try await standIn.request(.DELETE, "/devices").status == 405)
            #expect(try await standIn.request(.PATCH, "/profiles/x", body: "{}").status == 405)
            #expect(try await standIn.request(.GET, "/devices/0004f2000001/x").status == 404)
            #expect(try await standIn.request(.GET, "/v2").status == 404)
        }
    }
}
