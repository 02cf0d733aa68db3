import Foundation
import PolyZTPStandIn
import ProvisioningModel
import Testing
import VendorTestSupport

@testable import PolyZTP

@Suite("Poly ZTP client against the strict stand-in")
struct PolyZTPClientTests {
    let mac = MACAddress("00:04:F2:AB:CD:EF")!
    let server = "https://prov.example.com/poly/"
    /// A template's URL with the MAC in its last segment, as provhook renders `<mac>`.
    let perPhone = "https://prov2.example.com/p/0004F2ABCDEF.cfg?t=1"
    let perPhoneServer = "https://prov2.example.com/p/"

    @Test(
        "register, reuse the profile, re-point, deregister, over HTTP and over TLS with a private CA",
        arguments: [
            false, true,
        ])
    func roundTrips(tls: Bool) async throws {
        try await StandIn.with(tls: tls) { (standIn: StandIn) async throws in
            let client = standIn.client
            let second = MACAddress("0004F2000002")!
            #expect(try await client.ownership(of: self.mac) == .error(.noSuchMAC))
            #expect(try await client.register(self.mac, at: self.server) == .ok)
            #expect(try await client.register(second, at: self.server) == .ok)
            let profiles = await standIn.state.profiles(of: StandIn.organization)
            #expect(profiles.count == 1, "one profile for one server")
            let (id, profile) = try #require(profiles.first)
            #expect(profile.name == PolyZTPClient.profileName(for: self.server) && profile.address == self.server)
            #expect(profile.name.hasPrefix("provhook prov.example.com/poly/ #") && profile.enabled)
            #expect(
                await standIn.state.device("0004f2abcdef") == .init(organization: StandIn.organization, profile: id))
            #expect(await standIn.state.device("0004f2000002")?.profile == id)
            #expect(try await client.ownership(of: self.mac) == .ok)
            #expect(
                try await client.redirection(of: self.mac)
                    == .redirected(company: "Poly ZTP profile \(id)", url: self.server))

            // Re-pointed at another server: a second profile; ZTP refuses a POST of a device we hold (the stand-in's
            // reading), so the device is deleted and posted again.
            #expect(try await client.register(self.mac, at: self.perPhone) == .ok)
            let moved = try #require(await standIn.state.device("0004f2abcdef"))
            let movedProfile = try #require(await standIn.state.profiles[moved.profile])
            #expect(moved.profile != id && movedProfile.address == self.perPhoneServer)
            #expect(client.heldURL(for: self.perPhone, of: self.mac) == self.perPhoneServer)
            // Registered again where it is: done, without a DELETE.
            let before = await standIn.state.calls.count
            #expect(try await client.register(self.mac, at: self.perPhone) == .ok)
            let again = await standIn.state.calls.dropFirst(before).map { "\($0.method) \($0.path) \($0.status)" }
            #expect(again == ["POST /v1/devices 409", "GET /v1/devices/0004f2abcdef 200"], "\(again)")

            #expect(try await client.deregister(self.mac) == .ok)
            #expect(await standIn.state.device("0004f2abcdef") == nil)
            #expect(try await client.deregister(self.mac) == .ok, "404: already gone, which is done")
            #expect(try await client.ownership(of: self.mac) == .error(.noSuchMAC))

            let calls = await standIn.state.calls
            #expect(calls.filter { $0.method == "POST" && $0.path == "/v1/profiles" }.count == 2)
            #expect(calls.allSatisfy { $0.organization == StandIn.organization })
            let repoint = calls.map { "\($0.method) \($0.path) \($0.status)" }
            #expect(repoint.contains("DELETE /v1/devices/0004f2abcdef 200"))
        }
    }

    @Test("a device another organisation claimed is a conflict, and is left alone")
    func claimed() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            await standIn.state.setDevice("0004f2abcdef", .init(organization: StandIn.otherOrganization, profile: "x"))
            #expect(try await standIn.client.register(self.mac, at: self.server) == .error(.ownedByOtherUser))
            #expect(await standIn.state.device("0004f2abcdef")?.organization == StandIn.otherOrganization)
            // A batch is one call per MAC; the claimed one fails only itself.
            let macs = [MACAddress("0004F2000001")!, self.mac, MACAddress("0004F2000003")!]
            #expect(
                try await standIn.client.register(macs, at: self.server)
                    == .partial([MACFailure(mac: "0004F2ABCDEF", code: .ownedByOtherUser)]))
            #expect(await standIn.state.device("0004f2000003")?.organization == StandIn.organization)
            #expect(try await standIn.client.deregister(macs) == .ok, "another's device is not ours to remove: done")
            #expect(await standIn.state.device("0004f2abcdef")?.organization == StandIn.otherOrganization)
        }
    }

    @Test("the listing follows the cursor over several pages, each MAC with its profile's server")
    func paging() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let client = try standIn.client(pageSize: 2)
            let macs = (1...7).map { MACAddress(String(format: "0004F200%04X", $0))! }
            for mac in macs.prefix(6) { #expect(try await client.register(mac, at: self.server) == .ok) }
            // A device in a profile an operator made on the portal shows that profile's server.
            let theirs = try await standIn.makeProfile("Front desk", address: "https://desk.example.com/")
            await standIn.state.setDevice(
                PolyZTPClient.pathMAC(macs[6]), .init(organization: StandIn.organization, profile: theirs))
            let before = await standIn.state.calls.count
            let listed = try await client.registrations()
            #expect(listed.count == 7)
            #expect(listed.filter { $0.url == self.server }.map(\.mac).sorted() == Array(macs.prefix(6)))
            #expect(listed.first { $0.mac == macs[6] }?.url == "https://desk.example.com/")
            let pages = await standIn.state.calls.dropFirst(before).filter { $0.path == "/v1/devices" }
            #expect(pages.count == 4, "pages of 2, 2, 2 and 1")
            #expect(pages.first?.query == "limit=2&cursor=", "the first call sends an empty cursor, as fspbx does")
            #expect(pages.allSatisfy { $0.status == 200 })
            #expect(try await client.registeredMACs(model: "any", url: self.server) == Array(macs.prefix(6)))
        }
    }

    @Test("with --profile, every phone goes to that profile and provhook never makes or changes one")
    func fixedProfile() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let id = try await standIn.makeProfile("Operator's", address: "https://elsewhere.example.com/")
            let client = try standIn.client(profile: id)
            let before = await standIn.state.calls.count
            #expect(try await client.register(self.mac, at: self.server) == .ok)
            #expect(try await client.register(self.mac, at: self.perPhone) == .ok, "already there")
            #expect(await standIn.state.device("0004f2abcdef")?.profile == id)
            let listed = try await client.registrations()
            #expect(listed == [AccountRegistration(mac: self.mac, url: "profile:\(id)")])
            #expect(client.heldURL(for: self.server, of: self.mac) == "profile:\(id)")
            let profileCalls = await standIn.state.calls.dropFirst(before).filter { $0.path.hasPrefix("/v1/profiles") }
            #expect(profileCalls.isEmpty, "\(profileCalls)")
            #expect(await standIn.state.profiles(of: StandIn.organization).count == 1)
            #expect(await standIn.state.profiles[id]?.address == "https://elsewhere.example.com/", "left as it was")
        }
    }

    @Test("a profile deleted on the portal is made again; one whose address someone changed is corrected")
    func profileRepairs() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let client = standIn.client
            #expect(try await client.register(self.mac, at: self.server) == .ok)
            let first = try #require(await standIn.state.device("0004f2abcdef")?.profile)
            await standIn.state.setProfile(first, nil)
            #expect(try await client.register(MACAddress("0004F2000002")!, at: self.server) == .ok)
            let second = try #require(await standIn.state.device("0004f2000002")?.profile)
            let secondAddress = await standIn.state.profiles[second]?.address
            #expect(second != first && secondAddress == self.server)

            // provhook's name for the server, with another address: corrected with PUT, not made twice.
            let name = PolyZTPClient.profileName(for: self.perPhoneServer)
            let wrong = try await standIn.makeProfile(name, address: "https://wrong.example.com/")
            #expect(try await client.register(self.mac, at: self.perPhone) == .ok)
            #expect(await standIn.state.device("0004f2abcdef")?.profile == wrong)
            #expect(await standIn.state.profiles[wrong]?.address == self.perPhoneServer)
            #expect(await standIn.state.calls.contains { $0.method == "PUT" && $0.path == "/v1/profiles/\(wrong)" })
        }
    }

    @Test("phones of a new server registered at once make one profile")
    func oneProfileAtOnce() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let client = standIn.client
            try await withThrowingTaskGroup(of: RedirectOutcome.self) { group in
                for index in 1...6 {
                    let mac = MACAddress(String(format: "64167F0000%02X", index))!
                    group.addTask { try await client.register(mac, at: self.server) }
                }
                for try await outcome in group { #expect(outcome == .ok) }
            }
            #expect(await standIn.state.profiles(of: StandIn.organization).count == 1)
        }
    }

    @Test("a refused key is an authentication failure that never shows the key")
    func wrongKey() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            let wrong = try standIn.client(key: "not-" + StandIn.key)
            await #expect(throws: RedirectError.authenticationFailed(status: 401)) {
                try await wrong.register(self.mac, at: self.server)
            }
            await #expect(throws: RedirectError.authenticationFailed(status: 401)) {
                try await wrong.checkCredentials()
            }
            await #expect(throws: RedirectError.authenticationFailed(status: 401)) { try await wrong.registrations() }
            var texts = [
                "\(wrong.configuration)", "\(standIn.client.configuration)", String(reflecting: wrong.configuration),
            ]
            do { _ = try await wrong.ownership(of: self.mac) } catch { texts.append("\(error)") }
            do { _ = try await wrong.deregister(self.mac) } catch { texts.append(String(reflecting: error)) }
            let leaked = texts.contains { $0.contains(StandIn.key) }
            #expect(!leaked, "the API key appeared in an error or a description")
            try await standIn.client.checkCredentials()
            #expect(await standIn.state.calls.allSatisfy { $0.hadKey })
        }
    }

    @Test("503 and 429 are transient errors, not outcomes")
    func transient() async throws {
        try await StandIn.with { (standIn: StandIn) async throws in
            await standIn.state.failNext(1, status: 503)
            await #expect(throws: RedirectError.serverError(status: 503)) {
                try await standIn.client.register(self.mac, at: self.server)
            }
            await standIn.state.failNext(1, status: 429)
            await #expect(throws: RedirectError.rateLimited(retryAfterSeconds: nil)) {
                try await standIn.client.deregister(self.mac)
            }
            #expect(try await standIn.client.register(self.mac, at: self.server) == .ok)
        }
    }

    @Test(
        "the server a URL names: the URL itself, or cut at the last / before the MAC",
        arguments: [
            ("https://prov.example.com/poly/", "https://prov.example.com/poly/"),
            ("https://prov.example.com/poly", "https://prov.example.com/poly"),
            ("https://prov.example.com/0004F2ABCDEF.cfg", "https://prov.example.com/"),
            ("https://prov.example.com/t/a/0004F2ABCDEF.cfg?x=1", "https://prov.example.com/t/a/"),
            ("https://prov.example.com/t/0004f2abcdef/phone.cfg", "https://prov.example.com/t/"),
            ("https://prov.example.com/cfg?mac=0004F2ABCDEF", "https://prov.example.com/"),
            ("https://prov.example.com?mac=0004F2ABCDEF", "https://prov.example.com/"),
            ("ftp://10.0.0.1:21/poly/0004F2ABCDEF.cfg", "ftp://10.0.0.1:21/poly/"),
        ])
    func serverAddress(url: String, server: String) {
        #expect(PolyZTPClient.serverAddress(for: url, mac: self.mac) == server)
    }

    @Test("profile names: recognisable, at most 100 characters, told apart by their hash")
    func profileNames() {
        let short = PolyZTPClient.profileName(for: "https://prov.example.com/poly/")
        #expect(short.hasPrefix("provhook prov.example.com/poly/ #") && short.count == 45)
        let long = "https://prov.example.com/" + String(repeating: "a", count: 200)
        let a = PolyZTPClient.profileName(for: long + "/1/")
        let b = PolyZTPClient.profileName(for: long + "/2/")
        #expect(a.count == 100 && b.count == 100 && a != b && a.contains("..."))
        #expect(PolyZTPClient.profileName(for: long) == PolyZTPClient.profileName(for: long), "stable")
    }

    @Test("the configuration refuses http:// unless allowed, credentials, a key a header cannot carry, a bad profile")
    func configuration() {
        #expect(throws: PolyZTPConfigurationError.self) {
            try PolyZTPConfiguration(baseURL: "http://ztp.example/v1", apiKey: "k").validate()
        }
        #expect(throws: PolyZTPConfigurationError.self) {
            try PolyZTPConfiguration(baseURL: "https://u:p@ztp.example/v1", apiKey: "k").validate()
        }
        #expect(throws: PolyZTPConfigurationError.missingKey) { try PolyZTPConfiguration(apiKey: "").validate() }
        #expect(throws: PolyZTPConfigurationError.invalidKey) { try PolyZTPConfiguration(apiKey: "a b").validate() }
        #expect(throws: PolyZTPConfigurationError.invalidProfile) {
            try PolyZTPConfiguration(apiKey: "k", profile: "a/b").validate()
        }
        #expect(throws: Never.self) { try PolyZTPConfiguration(apiKey: "k", profile: "0a1b-2c").validate() }
        #expect(PolyZTPConfiguration(apiKey: "k").root == "https://api.ztp.poly.com/v1")
        #expect(PolyZTPConfiguration(baseURL: "https://x.example/v1/", apiKey: "k").root == "https://x.example/v1")
    }
}
