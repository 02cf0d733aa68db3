import Foundation
import ProvisioningModel
import SnomSRAPS
import SnomSRAPSStandIn
import Testing
import VendorTestSupport

@Suite("SRAPS client against the strict stand-in")
struct SRAPSClientTests {
    let mac = MACAddress("00:04:13:61:0F:F5")!
    let url = "https://prov.example.com/snom/<mac>.xml?tenant=a&b=c"
    let other = "https://prov2.example.com/snom/{mac}.xml"

    @Test(
        "register, re-point, read, list and deregister, over HTTP and over TLS with a private CA",
        arguments: [false, true])
    func roundTrips(tls: Bool) async throws {
        try await StandIn.withStandIn(tls: tls) { (standIn: StandIn) async throws in
            let client = standIn.client
            #expect(try await client.ownership(of: self.mac) == .error(.noSuchMAC))
            #expect(try await client.register(self.mac, at: self.url) == .ok)
            #expect(await standIn.state.url(of: "000413610ff5") == self.url)
            #expect(try await client.ownership(of: self.mac) == .ok)
            #expect(
                try await client.redirection(of: self.mac) == .redirected(company: StandIn.companyName, url: self.url))

            #expect(try await client.register(self.mac, at: self.other) == .ok, "a PUT re-points the MAC")
            #expect(try await client.registrations() == [AccountRegistration(mac: self.mac, url: self.other)])
            #expect(try await client.registeredMACs(model: "snomD785", url: self.other) == [self.mac])
            #expect(try await client.registeredMACs(model: "snomD785", url: self.url) == [])

            #expect(try await client.deregister(self.mac) == .ok)
            #expect(await standIn.state.endpoint("000413610ff5") == nil)
            #expect(try await client.deregister(self.mac) == .ok, "404 on DELETE means already gone")
            #expect(try await client.redirection(of: self.mac) == .error(.noSuchMAC))

            let calls = await standIn.state.calls
            #expect(calls.allSatisfy { $0.keyID == StandIn.keyID }, "every request is signed with our key")
            #expect(calls.filter { $0.method == "PUT" }.allSatisfy { $0.hadPayloadHash }, "a body is always hashed")
            #expect(calls.filter { $0.resource.contains("tokens/") }.count == 1, "the resources are cached")
            #expect(calls.filter { $0.method == "DELETE" }.map(\.status) == [204, 404])
        }
    }

    @Test("the PUT sets the phone-settings setting_server, no other field, the MAC lowercase")
    func rightSetting() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            #expect(try await standIn.client.register(self.mac, at: self.url) == .ok)
            let endpoint = try #require(await standIn.state.endpoint("000413610ff5"))
            #expect(endpoint.settings == [FakeSRAPSState.urlSettingUUID: self.url])
            #expect(endpoint.settings[FakeSRAPSState.globalServerSettingUUID] == nil)
            #expect(endpoint.company == StandIn.company)
            let put = try #require(await standIn.state.calls.first { $0.method == "PUT" })
            #expect(put.resource.hasSuffix("/endpoints/000413610ff5"))
        }
    }

    @Test(
        "Gigaset GRAPE: the same flow, its URL in the ProvisioningServer setting, never SRAPS's setting_server decoy")
    func grape() async throws {
        try await StandIn.withStandIn(grape: true) { (standIn: StandIn) async throws in
            let client = standIn.client
            #expect(client.descriptor.kind == .gigasetGRAPE && client.descriptor.kind.vendor == .gigaset)
            #expect(try await client.register(self.mac, at: self.url) == .ok)
            let endpoint = try #require(await standIn.state.endpoint("000413610ff5"))
            #expect(endpoint.settings == [FakeSRAPSState.urlSettingUUID: self.url], "ProvisioningServer only")
            #expect(try await client.register(self.mac, at: self.other) == .ok)
            #expect(try await client.registrations() == [AccountRegistration(mac: self.mac, url: self.other)])
            #expect(
                try await client.redirection(of: self.mac) == .redirected(company: StandIn.companyName, url: self.other)
            )
            #expect(try await client.deregister(self.mac) == .ok)
            #expect(await standIn.state.endpoint("000413610ff5") == nil)
        }
        // Against a service that has no such setting (SRAPS's), GRAPE's client says which one it looked for.
        try await StandIn.withStandIn(configure: { $0.service = .grape }) { (standIn: StandIn) async throws in
            do {
                _ = try await standIn.client.register(self.mac, at: self.url)
                Issue.record("registered without a ProvisioningServer setting")
            } catch {
                #expect("\(error)".contains("no setting ProvisioningServer"), "\(error)")
            }
        }
    }

    @Test("a MAC another company holds is ownedByOtherUser for every call")
    func forbiddenMAC() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            await standIn.state.setEndpoint(
                "000413610FF5", .init(company: StandIn.otherCompany, settings: [FakeSRAPSState.urlSettingUUID: "x"]))
            let client = standIn.client
            #expect(try await client.register(self.mac, at: self.url) == .error(.ownedByOtherUser))
            #expect(try await client.deregister(self.mac) == .error(.ownedByOtherUser))
            #expect(try await client.redirection(of: self.mac) == .error(.ownedByOtherUser))
            #expect(try await client.ownership(of: self.mac) == .error(.ownedByOtherUser))
            #expect(
                try await client.register([self.mac], at: self.url)
                    == .partial([MACFailure(mac: self.mac.canonical, code: .ownedByOtherUser)]))
            #expect(await standIn.state.endpoint("000413610ff5")?.company == StandIn.otherCompany)
        }
    }

    @Test("settings and endpoints are read across pages, following Link")
    func pagination() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            await standIn.state.setMaxPageSize(10)
            let macs = (0..<25).map { MACAddress(String(format: "0004130000%02X", $0))! }
            for mac in macs {
                await standIn.state.setEndpoint(
                    mac.canonical, .init(company: StandIn.company, settings: [FakeSRAPSState.urlSettingUUID: self.url]))
            }
            #expect(try await standIn.client.register(self.mac, at: self.other) == .ok)
            let settingsPages = await standIn.state.calls.filter { $0.resource.contains("/settings/") }
            #expect(settingsPages.count == 3, "the phone-settings setting_server is on the third page of 10")

            let all = try await standIn.client.registrations()
            #expect(all.count == 26)
            #expect(Set(all.map(\.mac)) == Set(macs + [self.mac]))
            #expect(all.first { $0.mac == self.mac }?.url == self.other)
            let endpointPages = await standIn.state.calls.filter { $0.resource.contains("/endpoints/?") }
            #expect(endpointPages.count == 3)
        }
    }

    @Test("links to another origin are refused")
    func otherOrigin() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            await standIn.state.setLinkOrigin("http://127.0.0.2:9")
            await #expect {
                try await standIn.client.register(self.mac, at: self.url)
            } throws: { error in
                guard case RedirectError.invalidResponse(let detail) = error else { return false }
                return detail.contains("not on the service's origin")
            }
            #expect(await standIn.state.calls.allSatisfy { !$0.resource.contains("endpoints") })
        }
    }

    @Test("a wrong secret or an unknown key is the credentials error")
    func refusedKey() async throws {
        try await StandIn.withStandIn(configure: { $0.keySecret = "sk-WRONG-secret" }) {
            (standIn: StandIn) async throws in
            await #expect(throws: RedirectError.authenticationFailed(status: 401)) {
                try await standIn.client.register(self.mac, at: self.url)
            }
        }
        try await StandIn.withStandIn(configure: { $0.keyID = "ak-unknown" }) { (standIn: StandIn) async throws in
            await #expect(throws: RedirectError.authenticationFailed(status: 401)) {
                try await standIn.client.checkKey()
            }
            #expect(await standIn.state.calls.first?.hawkError == "Unknown credentials")
        }
    }

    @Test("a stale timestamp says the clock is off, and by how much", arguments: [300, -7200])
    func staleClock(skew: Int) async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            await standIn.state.setClockSkew(seconds: Int64(skew))
            let error = await #expect(throws: RedirectError.self) { try await standIn.client.checkKey() }
            guard case .authenticationFailed(401, let offset?) = error else {
                Issue.record("expected the clock error, got \(String(describing: error))")
                return
            }
            #expect(abs(offset - skew) <= 2)
            let description = try #require(error).description
            #expect(description.contains("clock is \(abs(offset)) s \(skew > 0 ? "behind" : "ahead of")"))
        }
    }

    @Test("429 carries Retry-After, 5xx is a server error, both transient")
    func retryable() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            await standIn.state.injectFailures([.status(429, retryAfter: "7"), .status(503)])
            let limited = await #expect(throws: RedirectError.rateLimited(retryAfterSeconds: 7)) {
                try await standIn.client.register(self.mac, at: self.url)
            }
            #expect(limited?.isTransient == true)
            await #expect(throws: RedirectError.serverError(status: 503)) {
                try await standIn.client.register(self.mac, at: self.url)
            }
            #expect(try await standIn.client.register(self.mac, at: self.url) == .ok)
        }
    }

    @Test("a redirect is not followed, and an answer over the limit is refused")
    func redirectsAndLimits() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            await standIn.state.injectFailures([.status(307)])
            await #expect(throws: RedirectError.unexpectedStatus(307)) { try await standIn.client.checkKey() }
        }
        try await StandIn.withStandIn(configure: { $0.maxResponseBytes = 64 }) { (standIn: StandIn) async throws in
            await #expect(throws: RedirectError.responseTooLarge(limit: 64)) { try await standIn.client.checkKey() }
        }
    }

    @Test("a moved endpoints collection and a renamed URL setting are looked up again")
    func staleCache() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            #expect(try await standIn.client.register(self.mac, at: self.url) == .ok)
            await standIn.state.moveCompany(StandIn.company, to: "5b0e7a7e-3333-4c2d-9a53-0d8f7f3c0003")
            #expect(try await standIn.client.register(self.mac, at: self.other) == .ok)
            #expect(
                try await standIn.client.redirection(of: self.mac)
                    == .redirected(company: StandIn.companyName, url: self.other))
            let renamed = "9f9f9f9f-0000-4000-8000-000000000099"
            await standIn.state.renameURLSetting(to: renamed)
            #expect(try await standIn.client.register(self.mac, at: self.url) == .ok)
            #expect(await standIn.state.endpoint(self.mac.canonical)?.settings == [renamed: self.url])
            // A DELETE's 404 is "already gone" only once the collection is known to be current.
            await standIn.state.moveCompany("5b0e7a7e-3333-4c2d-9a53-0d8f7f3c0003", to: StandIn.company)
            #expect(try await standIn.client.deregister(self.mac) == .ok)
            #expect(await standIn.state.endpoint(self.mac.canonical) == nil)
        }
    }

    @Test("no error or description holds the key secret")
    func noSecretInMessages() async throws {
        var texts: [String] = []
        try await StandIn.withStandIn(configure: { $0.keySecret = StandIn.keySecret + "x" }) {
            (standIn: StandIn) async throws in
            texts.append(standIn.client.configuration.description)
            texts.append(String(reflecting: standIn.client.configuration))
            do { _ = try await standIn.client.register(self.mac, at: self.url) } catch {
                texts.append(String(describing: error))
            }
            await standIn.state.setClockSkew(seconds: 900)
            do { try await standIn.client.checkKey() } catch { texts.append(String(describing: error)) }
        }
        for bad in [
            SRAPSConfiguration(baseURL: "http://x.example/api/v1/", keyID: "k", keySecret: StandIn.keySecret),
            SRAPSConfiguration(baseURL: "https://x.example/api/v1", keyID: "k", keySecret: StandIn.keySecret),
            SRAPSConfiguration(baseURL: "https://x.example/", keyID: "k/../", keySecret: StandIn.keySecret),
        ] {
            #expect(throws: SRAPSConfigurationError.self) { try bad.validate() }
            do { try bad.validate() } catch { texts.append(String(describing: error)) }
        }
        #expect(texts.count == 7)
        for text in texts { #expect(!text.contains("SECRET"), "\(text)") }
    }
}
