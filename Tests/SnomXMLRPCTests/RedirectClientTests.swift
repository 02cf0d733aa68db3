import Foundation
import Logging
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPC
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import VendorHTTP
import XMLRPC

@Suite("Redirect client against the strict stand-in")
struct RedirectClientTests {
    let mac = MACAddress("00:04:13:61:0F:F5")!
    let other = MACAddress("000413610FF6")!
    let url = "http://provisioning.myserver.com/snom?mac={mac}"

    @Test("all seven methods, over HTTP and over TLS with a private CA", arguments: [false, true])
    func sevenMethods(tls: Bool) async throws {
        try await StandIn.withStandIn(tls: tls) { (standIn: StandIn) async throws in
            let client = standIn.client
            #expect(try await client.checkPhone(self.mac) == .error(.noSuchMAC))
            #expect(try await client.registerPhone(self.mac, url: self.url) == .ok)
            #expect(try await client.checkPhone(self.mac) == .ok)
            #expect(try await client.phoneRedirection(self.mac) == .redirected(company: "Our Company", url: self.url))
            await standIn.state.setRedirectionWithFlag(false)
            #expect(try await client.phoneRedirection(self.mac) == .redirected(company: "Our Company", url: self.url))

            #expect(try await client.registerPhoneList([self.other], url: "https://b.example.com/") == .ok)
            #expect(try await client.listPhones(model: "snomD785", url: nil) == [self.mac, self.other])
            #expect(try await client.listPhones(model: "snomD785", url: self.url) == [self.mac])
            #expect(try await client.listPhones(model: "snomM700", url: nil) == [])

            #expect(try await client.deregisterPhone(self.mac) == .ok)
            #expect(try await client.deregisterPhone(self.mac) == .ok, "deregistering twice is idempotent")
            #expect(try await client.deregisterPhoneList([self.other]) == .ok)
            #expect(await standIn.state.registrations.isEmpty)
        }
    }

    @Test("a URL with <mac> and & reaches the service intact")
    func urlEscaping() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            let url = "https://pbx.example.com/prov/<mac>.cfg?tenant=a&b=c"
            #expect(try await standIn.client.registerPhone(self.mac, url: url) == .ok)
            #expect(await standIn.state.registration(self.mac.canonical)?.url == url)
            #expect(
                try await standIn.client.phoneRedirection(self.mac) == .redirected(company: "Our Company", url: url))
        }
    }

    @Test("Error: answers are typed")
    func errorAnswers() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            await standIn.state.setRegistration(
                self.mac.canonical, .init(owner: StandInAccounts.otherUser, url: "http://x.example/"))
            #expect(try await standIn.client.registerPhone(self.mac, url: self.url) == .error(.ownedByOtherUser))
            #expect(try await standIn.client.deregisterPhone(self.mac) == .error(.ownedByOtherUser))
            #expect(try await standIn.client.checkPhone(self.mac) == .error(.ownedByOtherUser))
            #expect(try await standIn.client.phoneRedirection(self.mac) == .error(.ownedByOtherUser))
            #expect(
                try await standIn.client.registerPhone(self.other, url: "gopher://x.example/") == .error(.malformedURL))
            #expect(try await standIn.client.registerPhoneList([], url: self.url) == .error(.malformedMACList))
            #expect(try await standIn.client.deregisterPhoneList([]) == .error(.malformedMACList))
        }
    }

    @Test("list calls map per-MAC failures back")
    func partialFailures() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            await standIn.state.setRegistration(
                self.other.canonical, .init(owner: StandInAccounts.otherUser, url: "http://x.example/"))
            let third = MACAddress("000413610FF7")!
            let outcome = try await standIn.client.registerPhoneList([self.mac, self.other, third], url: self.url)
            #expect(outcome == .partial([MACFailure(mac: "000413610ff6", code: .ownedByOtherUser)]))
            #expect(outcome.failure(for: self.other) == .ownedByOtherUser)
            #expect(outcome.failure(for: self.mac) == nil)
            #expect(await standIn.state.registration(third.canonical)?.owner == StandIn.user)
            let removal = try await standIn.client.deregisterPhoneList([self.mac, self.other])
            #expect(removal.failure(for: self.other) == .ownedByOtherUser)
            #expect(await standIn.state.registration(self.mac.canonical) == nil)
        }
    }

    @Test("a wrong password is an authentication failure that never shows the password")
    func wrongPassword() async throws {
        try await StandIn.withStandIn(configure: { $0.password = "wrong-Secret-123" }) {
            (standIn: StandIn) async throws in
            // The error the client threw, described every way a log or a CLI would.
            let thrown = await #expect(throws: RedirectError.authenticationFailed(status: 401)) {
                try await standIn.client.checkPhone(self.mac)
            }
            let described = [thrown?.description, thrown.map { String(reflecting: $0) }, thrown?.kind]
            #expect(described.allSatisfy { $0 != nil && !$0!.contains("wrong-Secret-123") }, "\(described)")
        }
    }

    @Test("503 is a transient server error")
    func serviceUnavailable() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            await standIn.state.failNext(1, with: .status(503))
            do {
                _ = try await standIn.client.checkPhone(self.mac)
                Issue.record("expected a 503 error")
            } catch let error as RedirectError {
                #expect(error == .serverError(status: 503))
                #expect(error.isTransient)
            }
            await standIn.state.failNext(1, with: .status(429))
            await #expect(throws: RedirectError.rateLimited(retryAfterSeconds: nil)) {
                try await standIn.client.checkPhone(self.mac)
            }
            #expect(try await standIn.client.checkPhone(self.mac) == .error(.noSuchMAC), "the service recovers")
        }
    }

    @Test("a hanging service times out")
    func timeout() async throws {
        try await StandIn.withStandIn(configure: { $0.connection.readTimeout = .milliseconds(300) }) {
            (standIn: StandIn) async throws in
            await standIn.state.failNext(1, with: .hang(.seconds(10)))
            await #expect(throws: RedirectError.timeout(.response)) {
                try await standIn.client.checkPhone(self.mac)
            }
            await standIn.state.releaseHangs()
        }
    }

    /// Answers a broken or hostile service could send, each delivered over real HTTP with status 200.
    enum HostileAnswer: String, CaseIterable, Sendable {
        case xxe, billionLaughs, tenMegabytes, truncated, wrongShape, notXML

        var body: [UInt8] {
            switch self {
            case .xxe:
                Array(
                    """
                    <?xml version="1.0"?><!DOCTYPE r [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>
                    <methodResponse><params><param><value>&x;</value></param></params></methodResponse>
                    """.utf8)
            case .billionLaughs:
                Array(
                    ("<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"lol\">"
                        + (1...9).map {
                            "<!ENTITY a\($0) \"" + String(repeating: $0 == 1 ? "&a;" : "&a\($0 - 1);", count: 10)
                                + "\">"
                        }.joined()
                        + "]><methodResponse><params><param><value>&a9;</value></param></params></methodResponse>").utf8
                )
            case .tenMegabytes:
                Array("<?xml version=\"1.0\"?><methodResponse><params><param><value><string>".utf8)
                    + [UInt8](repeating: UInt8(ascii: "a"), count: 10 << 20)
                    + Array("</string></value></param></params></methodResponse>".utf8)
            case .truncated:
                Array(
                    "<?xml version=\"1.0\"?><methodResponse><params><param><value><array><data><value><boolean>1".utf8)
            case .wrongShape:
                Array(
                    "<?xml version=\"1.0\"?><methodResponse><params><param><value><int>7</int></value></param></params></methodResponse>"
                        .utf8)
            case .notXML:
                [0xFF, 0xFE, 0x00, 0x3C, 0x00]
            }
        }

        func isExpected(_ error: RedirectError) -> Bool {
            switch (self, error) {
            case (.tenMegabytes, .responseTooLarge(limit: 1 << 20)): true
            case (.xxe, .invalidResponse(let reason)), (.billionLaughs, .invalidResponse(let reason)):
                reason == XMLRPCDecodingError.forbiddenDeclaration("DOCTYPE").description
            case (.truncated, .invalidResponse), (.wrongShape, .invalidResponse), (.notXML, .invalidResponse): true
            default: false
            }
        }
    }

    @Test(
        "hostile answers over HTTP are typed errors, and the next call still works", arguments: HostileAnswer.allCases)
    func hostileAnswer(_ answer: HostileAnswer) async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            await standIn.state.failNext(1, with: .answer(answer.body))
            do throws(RedirectError) {
                let outcome = try await standIn.client.checkPhone(self.mac)
                Issue.record("answered \(outcome)")
            } catch {
                #expect(answer.isExpected(error), "\(error)")
            }
            #expect(try await standIn.client.checkPhone(self.mac) == .error(.noSuchMAC))
        }
    }

    @Test("an answer that trickles in a byte at a time is cut off at connect + read timeout, not read for ever")
    func trickle() async throws {
        try await StandIn.withStandIn(configure: {
            // Budgets a loaded machine meets for a plain call, far below the 30 s the trickle would take.
            $0.connection.connectTimeout = .seconds(2)
            $0.connection.readTimeout = .seconds(2)
        }) { (standIn: StandIn) async throws in
            // Every byte arrives well within the read timeout, and the whole answer would take 30 s.
            let valid = try XMLRPCEncoder.encodeResponse([true, "Ok"])
            #expect(valid.utf8.count > 150)
            await standIn.state.failNext(1, with: .answer(Array(valid.utf8), byteInterval: .milliseconds(200)))
            await #expect(throws: RedirectError.timeout(.response)) {
                try await standIn.client.checkPhone(self.mac)
            }
            #expect(try await standIn.client.checkPhone(self.mac) == .error(.noSuchMAC), "the next call is answered")
        }
    }

    @Test("a certificate from an untrusted CA fails")
    func untrustedCA() async throws {
        let otherCA = try PrivateCertificateAuthority(commonName: "someone else's CA")
        let caFile = try TemporaryFile.write(otherCA.caCertificatePEM, suffix: ".pem")
        defer { try? FileManager.default.removeItem(atPath: caFile) }
        try await StandIn.withStandIn(tls: true, configure: { $0.connection.caFile = caFile }) {
            (standIn: StandIn) async throws in
            do {
                _ = try await standIn.client.checkPhone(self.mac)
                Issue.record("an untrusted certificate was accepted")
            } catch let error as RedirectError {
                guard case .tls = error else {
                    Issue.record("expected a TLS error, got \(error)")
                    return
                }
            }
            #expect(await standIn.state.calls.isEmpty, "nothing reached the service")
        }
    }

    @Test("the endpoint is used exactly: without its trailing slash the service answers 404")
    func missingTrailingSlash() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            var configuration = standIn.client.configuration
            configuration.endpoint = String(configuration.endpoint.dropLast())
            let client = RedirectClient(
                configuration: configuration, httpClient: standIn.httpClient, logger: .init(label: "t"))
            await #expect(throws: RedirectError.unexpectedStatus(404)) { try await client.checkPhone(self.mac) }
        }
    }

    @Test("a refused connection is a connection error")
    func refusedConnection() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            var configuration = standIn.client.configuration
            configuration.endpoint = "http://127.0.0.1:1/xmlrpc/"
            let client = RedirectClient(
                configuration: configuration, httpClient: standIn.httpClient, logger: .init(label: "t"))
            do {
                _ = try await client.checkPhone(self.mac)
                Issue.record("expected a connection error")
            } catch let error as RedirectError {
                guard case .connection = error else {
                    Issue.record("expected a connection error, got \(error)")
                    return
                }
                #expect(error.isTransient)
            }
        }
    }

    @Test("the CA file must hold certificates")
    func badCAFile() throws {
        let path = try TemporaryFile.write("not a certificate")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = RedirectConfiguration(
            endpoint: "https://localhost/xmlrpc/", user: "u", password: "p", connection: VendorConnection(caFile: path))
        #expect {
            _ = try RedirectClient.makeHTTPClient(configuration: configuration)
        } throws: { error in
            guard case .unreadableCAFile(let errorPath, _) = error as? RedirectConfigurationError else { return false }
            return errorPath == path
        }
    }

    @Test("configuration refuses credentials in the endpoint")
    func credentialsInEndpoint() {
        let configuration = RedirectConfiguration(
            endpoint: "https://u:hunter2@localhost/xmlrpc/", user: "u", password: "p")
        #expect {
            try configuration.validate()
        } throws: { error in
            String(describing: error).contains("must not hold credentials")
                && !String(describing: error).contains("hunter2")
        }
    }
}

@Suite("Retry-After")
struct RetryAfterTests {
    let now = Date(timeIntervalSince1970: 1_764_590_400)  // 2025-12-01 12:00:00 GMT

    @Test("delta-seconds, capped at a day; malformed values are not trusted")
    func deltaSeconds() {
        #expect(RetryAfter.seconds("120", now: self.now) == 120)
        #expect(RetryAfter.seconds("0", now: self.now) == 0)
        #expect(RetryAfter.seconds("99999999999999999", now: self.now) == RetryAfter.maximumSeconds)
        #expect(RetryAfter.seconds(String(repeating: "9", count: 400), now: self.now) == RetryAfter.maximumSeconds)
        #expect(RetryAfter.seconds("000000000000000000000007", now: self.now) == 7)
        // Six digits fit an Int but not the cap: each is capped at a day, not trusted as it stands.
        for value in ["86401", "100000", "345600", "999999"] {
            #expect(RetryAfter.seconds(value, now: self.now) == RetryAfter.maximumSeconds, "\(value)")
        }
        #expect(RetryAfter.seconds("86400", now: self.now) == 86_400)
        #expect(RetryAfter.seconds("-5", now: self.now) == nil)
        #expect(RetryAfter.seconds("1.5", now: self.now) == nil)
        #expect(RetryAfter.seconds("soon", now: self.now) == nil)
        #expect(RetryAfter.seconds(nil, now: self.now) == nil)
    }

    @Test("HTTP-dates in the three forms; a date in the past means now")
    func httpDate() {
        #expect(RetryAfter.seconds("Mon, 01 Dec 2025 12:02:00 GMT", now: self.now) == 120)
        #expect(RetryAfter.seconds("Monday, 01-Dec-25 12:02:00 GMT", now: self.now) == 120)
        #expect(RetryAfter.seconds("Mon Dec  1 12:02:00 2025", now: self.now) == 120)
        #expect(RetryAfter.seconds("Sun, 30 Nov 2025 12:00:00 GMT", now: self.now) == 0)
        #expect(RetryAfter.seconds("Fri, 01 Dec 2045 12:00:00 GMT", now: self.now) == RetryAfter.maximumSeconds)
    }

    @Test("a 429's Retry-After reaches the caller, capped")
    func overHTTP() async throws {
        try await StandIn.withStandIn { standIn in
            await standIn.state.failNext(1, with: .status(429, retryAfter: "99999999999999999"))
            await #expect(throws: RedirectError.rateLimited(retryAfterSeconds: RetryAfter.maximumSeconds)) {
                try await standIn.client.checkPhone(MACAddress("000413610FF5")!)
            }
        }
    }
}
