import Foundation
import Hawk
import Testing

/// The server side: the reference's order of checks, its answers, replay refusal and the skew boundaries.
@Suite struct ServerTests {
    static let credentials = HawkCredentials(id: "sraps-key-id", key: "the-secret-never-printed")
    static let now = Date(timeIntervalSince1970: 1_765_000_000)
    static let target = HawkRequestTarget(
        method: "PUT", host: "api.sraps.snom.com", port: 443, resource: "/api/v1/endpoints/000413aabbcc?x=1")
    static let payload = HawkPayload(contentType: "application/json; charset=utf-8", text: "{\"mac\":\"000413aabbcc\"}")

    static func makeServer(
        options: HawkServerOptions = HawkServerOptions(), cache: HawkReplayCache? = HawkReplayCache()
    ) -> HawkServer {
        HawkServer(options: options, replayCache: cache, credentials: [Self.credentials.id: Self.credentials])
    }

    static func signed(
        timestamp: Int64 = 1_765_000_000, nonce: String = "abc123", payload: HawkPayload? = Self.payload
    ) throws -> HawkIncomingRequest {
        let header = try HawkClient.authorization(
            for: Self.target, credentials: Self.credentials, timestamp: timestamp, nonce: nonce, payload: payload)
        return HawkIncomingRequest(
            target: Self.target, authorization: header, payload: payload ?? HawkPayload(contentType: nil, body: []))
    }

    @Test func acceptsSignedRequest() async throws {
        let accepted = try await Self.makeServer().authenticate(try Self.signed(), now: Self.now)
        #expect(accepted.credentials.id == Self.credentials.id)
        #expect(accepted.artifacts.hash == Self.payload.hash)
    }

    @Test func contentTypeParametersDoNotChangeTheHash() {
        #expect(Self.payload.hash == HawkPayload(contentType: " Application/JSON ", body: Self.payload.body).hash)
        #expect(Self.payload.hash != HawkPayload(contentType: "text/plain", body: Self.payload.body).hash)
    }

    @Test func refusesTamperedRequests() async throws {
        let server = Self.makeServer(cache: nil)
        var request = try Self.signed()
        request.payload.body = Array("{\"mac\":\"000413000000\"}".utf8)
        await #expect(throws: HawkAuthenticationError.badPayloadHash) {
            try await server.authenticate(request, now: Self.now)
        }

        for change in [\HawkRequestTarget.method, \.host, \.resource] {
            var tampered = try Self.signed()
            tampered.target[keyPath: change] = "DELETE"
            await #expect(throws: HawkAuthenticationError.badMAC) {
                try await server.authenticate(tampered, now: Self.now)
            }
        }
        var otherPort = try Self.signed()
        otherPort.target.port = 8443
        await #expect(throws: HawkAuthenticationError.badMAC) {
            try await server.authenticate(otherPort, now: Self.now)
        }

        let wrongKey = HawkServer(
            replayCache: nil, credentials: [Self.credentials.id: HawkCredentials(id: Self.credentials.id, key: "other")]
        )
        await #expect(throws: HawkAuthenticationError.badMAC) {
            try await wrongKey.authenticate(try Self.signed(), now: Self.now)
        }
    }

    @Test func payloadHashIsOptionalUnlessRequired() async throws {
        let unsigned = try Self.signed(payload: nil)
        let withBody = HawkIncomingRequest(
            target: unsigned.target, authorization: unsigned.authorization, payload: Self.payload)
        _ = try await Self.makeServer().authenticate(withBody, now: Self.now)
        let strict = Self.makeServer(options: HawkServerOptions(requiresPayloadHash: true))
        await #expect(throws: HawkAuthenticationError.missingPayloadHash) {
            try await strict.authenticate(withBody, now: Self.now)
        }
        _ = try await strict.authenticate(try Self.signed(nonce: "other"), now: Self.now)
    }

    @Test func answersAsTheReference() async throws {
        let server = Self.makeServer()
        var request = try Self.signed()
        request.authorization = nil
        await #expect(throws: HawkAuthenticationError.missingAuthentication) {
            try await server.authenticate(request, now: Self.now)
        }
        #expect(HawkAuthenticationError.missingAuthentication.wwwAuthenticate == "Hawk")
        #expect(HawkAuthenticationError.missingAuthentication.statusCode == 401)

        request.authorization = "Basic YWxhZGRpbjpvcGVuc2VzYW1l"
        await #expect(throws: HawkAuthenticationError.missingAuthentication) {
            try await server.authenticate(request, now: Self.now)
        }

        request.authorization = "Hawk id=\"sraps-key-id\", ts=\"1765000000\", nonce=\"n\""
        await #expect(throws: HawkAuthenticationError.missingAttributes) {
            try await server.authenticate(request, now: Self.now)
        }
        #expect(HawkAuthenticationError.missingAttributes.statusCode == 400)
        #expect(HawkAuthenticationError.missingAttributes.wwwAuthenticate == nil)

        request.authorization = "Hawk id=\"sraps-key-id\", bad=\"1\""
        let unknown = HawkAuthenticationError.invalidHeader(.unknownAttribute("bad"))
        await #expect(throws: unknown) { try await server.authenticate(request, now: Self.now) }
        #expect(unknown.statusCode == 400 && unknown.message == "Unknown attribute: bad")

        request.authorization = "Hawk id=\"nobody\", ts=\"1765000000\", nonce=\"n\", mac=\"m\""
        await #expect(throws: HawkAuthenticationError.unknownCredentials) {
            try await server.authenticate(request, now: Self.now)
        }
        #expect(HawkAuthenticationError.unknownCredentials.wwwAuthenticate == "Hawk error=\"Unknown credentials\"")
        #expect(HawkAuthenticationError.badMAC.wwwAuthenticate == "Hawk error=\"Bad mac\"")
        #expect(HawkAuthenticationError.badPayloadHash.wwwAuthenticate == "Hawk error=\"Bad payload hash\"")
    }

    @Test func lookupFailureIsAServerError() async throws {
        struct Unavailable: Error {}
        let server = HawkServer(replayCache: nil) { _ in throw Unavailable() }
        let request = try Self.signed()
        do {
            _ = try await server.authenticate(request, now: Self.now)
            Issue.record("a failing lookup must refuse the request")
        } catch {
            #expect(error.statusCode == 500)
        }
    }

    @Test func refusesReplayedNonce() async throws {
        let server = Self.makeServer()
        _ = try await server.authenticate(try Self.signed(), now: Self.now)
        await #expect(throws: HawkAuthenticationError.invalidNonce) {
            try await server.authenticate(try Self.signed(), now: Self.now.addingTimeInterval(30))
        }
        _ = try await server.authenticate(try Self.signed(nonce: "fresh1"), now: Self.now)
        #expect(HawkAuthenticationError.invalidNonce.wwwAuthenticate == "Hawk error=\"Invalid nonce\"")
    }

    @Test func replayCacheForgetsOnlyAfterTwiceTheSkewAndStaysBounded() async {
        let cache = HawkReplayCache(timestampSkew: 60, capacity: 2)
        #expect(await cache.register(id: "a", nonce: "n", timestamp: "100", now: 100))
        #expect(await !cache.register(id: "a", nonce: "n", timestamp: "100", now: 219))
        #expect(await cache.register(id: "b", nonce: "n", timestamp: "100", now: 219))
        #expect(await !cache.register(id: "c", nonce: "n", timestamp: "100", now: 219))
        #expect(await cache.register(id: "a", nonce: "n", timestamp: "100", now: 220))
        #expect(await cache.count == 2)
    }

    @Test(arguments: [-60, -59, 0, 59, 60] as [Int64])
    func acceptsTimestampWithinSkew(offset: Int64) async throws {
        let request = try Self.signed(timestamp: 1_765_000_000 + offset)
        _ = try await Self.makeServer().authenticate(request, now: Self.now)
    }

    @Test(arguments: [-3600, -61, 61, 3600] as [Int64])
    func answersStaleTimestampWithVerifiableServerTime(offset: Int64) async throws {
        let request = try Self.signed(timestamp: 1_765_000_000 + offset)
        let serverNow = Self.now.addingTimeInterval(0.75)
        do {
            _ = try await Self.makeServer().authenticate(request, now: serverNow)
            Issue.record("a timestamp \(offset) s off must be stale")
        } catch {
            guard case .staleTimestamp(let serverTimestamp, _) = error else {
                Issue.record("expected a stale timestamp, got \(error)")
                return
            }
            #expect(serverTimestamp == 1_765_000_000)
            #expect(error.statusCode == 401)
            let header = try #require(error.wwwAuthenticate)
            #expect(header.hasPrefix("Hawk ts=\"1765000000\", tsm=\""))
            #expect(header.hasSuffix("\", error=\"Stale timestamp\""))
            let serverTime = try HawkServerTime(wwwAuthenticate: header, credentials: Self.credentials)
            #expect(serverTime.timestamp == 1_765_000_000)
            #expect(serverTime.error == "Stale timestamp")
            #expect(
                serverTime.clockOffset(from: Date(timeIntervalSince1970: TimeInterval(1_765_000_000 + offset)))
                    == -offset)
            #expect(throws: HawkClientError.badServerTimestampMAC) {
                try HawkServerTime(wwwAuthenticate: header, credentials: HawkCredentials(id: "x", key: "other"))
            }
            #expect(!String(describing: error).contains("the-secret-never-printed"))
        }
    }

    @Test func nonNumericTimestampIsStale() async throws {
        let artifacts = HawkArtifacts(
            method: "GET", resource: "/", host: "h", port: 443, timestamp: "1e9", nonce: "n")
        let request = HawkIncomingRequest(
            target: HawkRequestTarget(method: "GET", host: "h", port: 443, resource: "/"),
            authorization:
                "Hawk id=\"sraps-key-id\", ts=\"1e9\", nonce=\"n\", mac=\"\(artifacts.mac(using: Self.credentials))\"",
            payload: HawkPayload(contentType: nil, body: []))
        do {
            _ = try await Self.makeServer().authenticate(request, now: Self.now)
            Issue.record("a non-numeric ts must be refused")
        } catch {
            #expect(error.message == "Stale timestamp")
        }
    }

    @Test func readsHostHeader() throws {
        let plain = try HawkRequestTarget(method: "GET", hostHeader: "Example.COM:8080", isTLS: false, resource: "/")
        #expect(plain.host == "example.com" && plain.port == 8080)
        #expect(try HawkRequestTarget(method: "GET", hostHeader: "example.com", isTLS: true, resource: "/").port == 443)
        #expect(try HawkRequestTarget(method: "GET", hostHeader: "example.com", isTLS: false, resource: "/").port == 80)
        let ipv6 = try HawkRequestTarget(method: "GET", hostHeader: "[::1]:8443", isTLS: true, resource: "/")
        #expect(ipv6.host == "[::1]" && ipv6.port == 8443)
        for bad in ["", "a/b", "example.com:99999", "example.com:8x", "[::1", "a b", nil] as [String?] {
            #expect(throws: HawkAuthenticationError.invalidHostHeader) {
                try HawkRequestTarget(method: "GET", hostHeader: bad, isTLS: false, resource: "/")
            }
        }
    }
}
