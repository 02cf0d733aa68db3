import AsyncHTTPClient
import Foundation
import Logging
import ProvisioningModel
import StandInSupport
import Testing
import VendorTestSupport
import YealinkYMCSStandIn

@testable import YealinkYMCS

/// Starts a YMCS stand-in with our organisation (MAC-only enabled) and another, and a client for ours.
typealias YMCSStandIn = VendorStandIn<FakeYMCSState, YMCSClient>

extension YMCSStandIn {
    static var clientID: String { "ymcs-ours" }
    /// Distinctive, so that a test can look for it in every message.
    static var secret: String { "ymcs-SECRET-0c4d2a" }
    static var organisation: String { "org-ours" }
    static var otherClientID: String { "ymcs-other" }

    func client(id: String = Self.clientID, secret: String = Self.secret) -> YMCSClient {
        var configuration = self.client.configuration
        (configuration.clientID, configuration.clientSecret) = (id, secret)
        return YMCSClient(configuration: configuration, httpClient: self.httpClient, logger: Logger(label: "t"))
    }

    static func with<T>(
        tls: Bool = false, pageSize: Int = 100, _ body: (YMCSStandIn) async throws -> T
    ) async throws
        -> T
    {
        let authority = tls ? try PrivateCertificateAuthority() : nil
        let state = FakeYMCSState(
            clients: [
                Self.clientID: .init(secret: Self.secret, organisation: Self.organisation),
                Self.otherClientID: .init(secret: "other", organisation: "org-other"),
            ], macOnlyOrganisations: [Self.organisation, "org-other"])
        return try await RunningFakeYMCS.with(state: state, tls: authority) { server in
            var caFile: String?
            if let authority {
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("ymcs-ca-\(UUID()).pem").path
                try authority.caCertificatePEM.write(toFile: path, atomically: true, encoding: .utf8)
                caFile = path
            }
            defer { if let caFile { try? FileManager.default.removeItem(atPath: caFile) } }
            let configuration = YMCSConfiguration(
                baseURL: server.url, clientID: Self.clientID, clientSecret: Self.secret,
                connection: .forTests(caFile: caFile), pageSize: pageSize)
            let httpClient = try VendorHTTPClient.make(configuration)
            let result: Result<T, any Error>
            do {
                let client = YMCSClient(
                    configuration: configuration, httpClient: httpClient, logger: Logger(label: "t"))
                result = .success(try await body(YMCSStandIn(server: server, client: client, httpClient: httpClient)))
            } catch {
                result = .failure(error)
            }
            try? await httpClient.shutdown()
            return try result.get()
        }
    }
}

enum VendorHTTPClient {
    static func make(_ configuration: YMCSConfiguration) throws -> HTTPClient {
        try YMCSClient.withOwnPool(configuration: configuration, logger: Logger(label: "t")).client.httpClient
    }
}

@Suite("Yealink YMCS client against the strict stand-in")
struct YMCSClientTests {
    let url = "https://prov.example.com/yealink/"
    let other = "https://prov2.example.com/yealink/"

    func macs(_ count: Int, from start: Int = 0) -> [MACAddress] {
        (start..<start + count).map { MACAddress(String(format: "001565%06X", $0))! }
    }

    @Test("250 phones go out in 3 calls; a per-MAC failure fails only that phone", arguments: [false, true])
    func batches(tls: Bool) async throws {
        try await YMCSStandIn.with(tls: tls) { (standIn: YMCSStandIn) async throws in
            await standIn.state.setDevice("001565000007", organisation: "org-other", url: "https://theirs.example/")
            let macs = self.macs(250)
            var outcomes: [ListOutcome] = []
            for chunk in stride(from: 0, to: macs.count, by: 100).map({ Array(macs[$0..<min($0 + 100, macs.count)]) }) {
                outcomes.append(try await standIn.client.register(chunk, at: self.url))
            }
            #expect(outcomes[0] == .partial([MACFailure(mac: "001565000007", code: .ownedByOtherUser)]))
            #expect(outcomes[1] == .ok && outcomes[2] == .ok)
            let adds = await standIn.state.calls.filter { $0.path == "/v2/rps/addDevicesByMac" }
            #expect(adds.map(\.macs.count) == [100, 100, 50])
            #expect(adds.allSatisfy { $0.macs.allSatisfy { $0 == $0.lowercased() && $0.count == 12 } })
            let tokens = await standIn.state.calls.filter { $0.path == "/v2/token" }
            #expect(tokens.count == 1, "the token is fetched once and kept")
            #expect(await standIn.state.device("001565000008")?.url == self.url)
            #expect(await standIn.state.device("001565000007")?.organisation == "org-other", "not taken")
        }
    }

    @Test("re-pointing deletes and adds again; listing, lookups and deregistration")
    func repointAndList() async throws {
        try await YMCSStandIn.with(pageSize: 2) { (standIn: YMCSStandIn) async throws in
            let macs = self.macs(5)
            #expect(try await standIn.client.register(macs, at: self.url) == .ok)
            #expect(try await standIn.client.register(macs[0], at: self.other) == .ok)
            #expect(await standIn.state.device(macs[0].canonical)?.url == self.other)
            let paths = await standIn.state.calls.map(\.path).suffix(3)
            #expect(Array(paths) == ["/v2/rps/addDevicesByMac", "/v2/rps/delDevices", "/v2/rps/addDevicesByMac"])

            let listed = try await standIn.client.registrations()
            #expect(listed.count == 5, "every page, two by two")
            #expect(listed.first { $0.mac == macs[0] }?.url == self.other)
            #expect(try await standIn.client.redirection(of: macs[1]) == .redirected(company: "", url: self.url))
            #expect(try await standIn.client.ownership(of: MACAddress("001565FFFFFF")!) == .error(.noSuchMAC))

            #expect(try await standIn.client.deregister(macs[1]) == .ok)
            #expect(try await standIn.client.deregister(macs[1]) == .error(.noSuchMAC), "gone: a removal is done")
            let pins = try await standIn.client.devicePINs([macs[2]])
            #expect(pins[macs[2]]?.count == 6)
        }
    }

    @Test("an expired token is fetched again once; refused credentials are an authentication failure")
    func tokens() async throws {
        try await YMCSStandIn.with { (standIn: YMCSStandIn) async throws in
            #expect(try await standIn.client.register(self.macs(1), at: self.url) == .ok)
            await standIn.state.expireTokens()
            #expect(try await standIn.client.register(self.macs(1, from: 1), at: self.url) == .ok)
            let paths = await standIn.state.calls.map(\.path)
            #expect(paths.filter { $0 == "/v2/token" }.count == 2)
            #expect(await standIn.state.calls.filter { $0.status == 401 }.count == 1)

            let wrong = standIn.client(secret: "not-" + YMCSStandIn.secret)
            await #expect(throws: RedirectError.authenticationFailed(status: 401)) {
                try await wrong.register(self.macs(1, from: 2), at: self.url)
            }
            do {
                try await wrong.checkCredentials()
            } catch {
                let leaked = "\(error)".contains(YMCSStandIn.secret)
                #expect(!leaked)
            }
            #expect(!"\(wrong.configuration)".contains(YMCSStandIn.secret))
        }
    }

    @Test("a token that lives a short while is renewed before it expires")
    func shortLivedToken() async throws {
        try await YMCSStandIn.with { (standIn: YMCSStandIn) async throws in
            await standIn.state.setTokenLifetime(2)
            #expect(try await standIn.client.register(self.macs(1), at: self.url) == .ok)
            try await Task.sleep(for: .seconds(1.2))
            #expect(try await standIn.client.register(self.macs(1, from: 1), at: self.url) == .ok)
            let calls = await standIn.state.calls
            #expect(calls.filter { $0.path == "/v2/token" }.count == 2 && calls.allSatisfy { $0.status != 401 })
        }
    }

    @Test("rate limiting (900429) is retried later; an account without MAC-only registration is told apart")
    func refusals() async throws {
        try await YMCSStandIn.with { (standIn: YMCSStandIn) async throws in
            await standIn.state.failNext(1, status: 429, code: "900429")
            await #expect(throws: RedirectError.rateLimited(retryAfterSeconds: nil)) {
                try await standIn.client.register(self.macs(1), at: self.url)
            }
            await standIn.state.setMACOnly(YMCSStandIn.organisation, false)
            let outcome = try await standIn.client.register(self.macs(2), at: self.url)
            guard case .partial(let failures) = outcome else {
                Issue.record("expected per-MAC failures, got \(outcome)")
                return
            }
            #expect(failures.count == 2 && failures.allSatisfy { $0.code == .serialRequired })
        }
    }

    @Test(
        "an account not enabled for MAC-only registration is learned once; phones go by serial, those without one wait")
    func serials() async throws {
        try await YMCSStandIn.with { (standIn: YMCSStandIn) async throws in
            await standIn.state.setMACOnly(YMCSStandIn.organisation, false)
            let macs = self.macs(3)
            let outcome = try await standIn.client.register(
                macs, serials: [macs[0]: "801234567890", macs[2]: "801234567892"], at: self.url)
            #expect(outcome == .partial([MACFailure(mac: macs[1].canonical, code: .serialRequired)]))
            #expect(await standIn.state.device(macs[0].canonical)?.serial == "801234567890")
            #expect(await standIn.state.device(macs[1].canonical) == nil)
            // Learned: the next phone goes straight to the serial call, and a phone already held is re-pointed.
            let before = await standIn.state.calls.count
            #expect(
                try await standIn.client.register([macs[0]], serials: [macs[0]: "801234567890"], at: self.other) == .ok)
            let paths = await standIn.state.calls.dropFirst(before).map(\.path)
            #expect(paths == ["/v2/rps/devices", "/v2/rps/delDevices", "/v2/rps/devices"], "\(paths)")
            #expect(await standIn.state.device(macs[0].canonical)?.url == self.other)
            #expect(
                try await standIn.client.register([macs[1]], serials: [macs[1]: "bad serial!"], at: self.url)
                    == .partial([MACFailure(mac: macs[1].canonical, code: .unknown("800002 invalid serial number"))]))
        }
    }
}
