import Foundation
import Hawk
import Testing

/// Interoperability with mohawk, an independent Hawk implementation: each side verifies what the other signs.
@Suite struct MohawkInteropTests {
    static let credentials = HawkCredentials(id: "sraps-access-key", key: "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn")
    static let key = "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn"

    /// One request, as mohawk sees it (a URL) and as this module sees it (a target).
    struct Exchange: Encodable {
        let id: String
        let key: String
        let url: String
        let method: String
        let body: String?
        let content_type: String?
        let ext: String?
        let header: String?
        let ts: Int64?
    }

    struct Verdict: Decodable {
        let accepted: Bool
        let error: String?
        let www_authenticate: String?
    }

    struct Signed: Decodable { let header: String }

    struct TimestampMAC: Decodable {
        let ts: String
        let tsm: String
        let error: String?
        let hmac: String
        let mohawk: String
    }

    /// A request in both forms; `body` nil means no payload at all.
    struct Case {
        let scheme: String
        let host: String
        let port: Int?
        let method: String
        let resource: String
        let contentType: String?
        let body: String?
        let ext: String?

        var url: String { "\(self.scheme)://\(self.host)\(self.port.map { ":\($0)" } ?? "")\(self.resource)" }
        var payload: HawkPayload? { self.body.map { HawkPayload(contentType: self.contentType, text: $0) } }

        func target() throws -> HawkRequestTarget {
            try HawkRequestTarget(
                method: self.method, scheme: self.scheme, host: self.host, port: self.port, resource: self.resource)
        }

        func exchange(header: String? = nil, ts: Int64? = nil) -> Exchange {
            Exchange(
                id: MohawkInteropTests.credentials.id, key: MohawkInteropTests.key, url: self.url, method: self.method,
                body: Data((self.body ?? "").utf8).base64EncodedString(), content_type: self.contentType ?? "",
                ext: self.ext, header: header, ts: ts)
        }
    }

    static let cases = [
        Case(
            scheme: "https", host: "api.sraps.snom.com", port: nil, method: "GET",
            resource: "/api/v1/tokens/sraps-access-key", contentType: nil, body: nil, ext: nil),
        Case(
            scheme: "https", host: "api.sraps.snom.com", port: nil, method: "PUT",
            resource: "/api/v1/endpoints/000413aabbcc", contentType: "application/json; charset=utf-8",
            body: #"{"mac": "000413aabbcc", "autoprovisioning_enabled": true}"#, ext: nil),
        Case(
            scheme: "http", host: "127.0.0.1", port: 8080, method: "GET",
            resource: "/api/v1/settings/?page_size=1000&page=2", contentType: nil, body: nil, ext: nil),
        Case(
            scheme: "https", host: "Secure-Provisioning.snom.com", port: 8443, method: "DELETE",
            resource: "/api/v1/endpoints/000413AABBCC?force=1", contentType: nil, body: nil, ext: "app data: 1"),
        Case(
            scheme: "https", host: "api.sraps.snom.com", port: nil, method: "POST", resource: "/api/v1/x",
            contentType: "text/plain", body: "", ext: nil),
    ]

    @Test func mohawkIsThePinnedVersion() throws {
        #expect(try Mohawk.version() == Mohawk.pinnedVersion)
    }

    /// (a) This module signs; mohawk's Receiver accepts, and refuses tampered copies.
    @Test func mohawkAcceptsOurHeaders() throws {
        let now = Int64(Date().timeIntervalSince1970)
        var exchanges: [Exchange] = []
        var tampered: [Exchange] = []
        for item in Self.cases {
            let header = try HawkClient.authorization(
                for: try item.target(), credentials: Self.credentials, timestamp: now, nonce: HawkClient.makeNonce(),
                payload: item.payload, ext: item.ext)
            exchanges.append(item.exchange(header: header))
            var otherMethod = item.exchange(header: header)
            otherMethod = Exchange(
                id: otherMethod.id, key: otherMethod.key, url: otherMethod.url, method: "PATCH", body: otherMethod.body,
                content_type: otherMethod.content_type, ext: nil, header: header, ts: nil)
            tampered.append(otherMethod)
            let otherURL = item.exchange(header: header)
            tampered.append(
                Exchange(
                    id: otherURL.id, key: otherURL.key,
                    url: otherURL.url + (item.resource.contains("?") ? "&" : "?") + "z=1",
                    method: item.method, body: otherURL.body, content_type: otherURL.content_type, ext: nil,
                    header: header, ts: nil))
            if item.body != nil {
                tampered.append(
                    Exchange(
                        id: otherURL.id, key: otherURL.key, url: otherURL.url, method: item.method,
                        body: Data("{\"mac\": \"000413000000\"}".utf8).base64EncodedString(),
                        content_type: otherURL.content_type, ext: nil, header: header, ts: nil))
            }
        }
        let verdicts = try Mohawk.run("receive", cases: exchanges, as: [Verdict].self)
        for (verdict, exchange) in zip(verdicts, exchanges) {
            #expect(verdict.accepted, "mohawk refused \(exchange.method) \(exchange.url): \(verdict.error ?? "")")
        }
        #expect(verdicts.count == exchanges.count)
        let refusals = try Mohawk.run("receive", cases: tampered, as: [Verdict].self)
        #expect(refusals.count == tampered.count)
        for (verdict, exchange) in zip(refusals, tampered) {
            #expect(!verdict.accepted, "mohawk accepted tampered \(exchange.method) \(exchange.url)")
            #expect(verdict.error == "MacMismatch" || verdict.error == "MisComputedContentHash")
        }
    }

    /// (b) mohawk's Sender signs; this module's server accepts, and refuses tampered copies.
    @Test func weAcceptMohawkHeaders() async throws {
        let exchanges = Self.cases.map { item in
            Exchange(
                id: Self.credentials.id, key: Self.key, url: item.url, method: item.method,
                body: item.body.map { Data($0.utf8).base64EncodedString() }, content_type: item.contentType,
                ext: item.ext, header: nil, ts: nil)
        }
        let signed = try Mohawk.run("send", cases: exchanges, as: [Signed].self)
        try #require(signed.count == Self.cases.count)
        let server = HawkServer(replayCache: HawkReplayCache(), credentials: [Self.credentials.id: Self.credentials])
        for (item, answer) in zip(Self.cases, signed) {
            let payload = item.payload ?? HawkPayload(contentType: nil, body: [])
            let request = HawkIncomingRequest(target: try item.target(), authorization: answer.header, payload: payload)
            let accepted = try await server.authenticate(request)
            #expect(accepted.artifacts.ext == item.ext)
            #expect(accepted.artifacts.hash == item.payload?.hash)

            var otherMethod = request
            otherMethod.target.method = "PATCH"
            await #expect(throws: HawkAuthenticationError.badMAC) { try await server.authenticate(otherMethod) }
            var otherResource = request
            otherResource.target.resource += "x"
            await #expect(throws: HawkAuthenticationError.badMAC) { try await server.authenticate(otherResource) }
            var otherHost = request
            otherHost.target.host = "evil.example"
            await #expect(throws: HawkAuthenticationError.badMAC) { try await server.authenticate(otherHost) }
            if item.body != nil {
                var otherBody = request
                otherBody.payload.body += Array(" ".utf8)
                await #expect(throws: HawkAuthenticationError.badPayloadHash) {
                    try await server.authenticate(otherBody)
                }
            }
            await #expect(throws: HawkAuthenticationError.invalidNonce) { try await server.authenticate(request) }
        }
    }

    /// (c) Our stale answer's tsm, recomputed by mohawk and by plain hmac; and mohawk's stale answer read by us.
    @Test func staleTimestampAnswersInteroperate() async throws {
        let item = Self.cases[1]
        let now = Int64(Date().timeIntervalSince1970)
        let header = try HawkClient.authorization(
            for: try item.target(), credentials: Self.credentials, timestamp: now - 600, nonce: HawkClient.makeNonce(),
            payload: item.payload)

        let server = HawkServer(replayCache: HawkReplayCache(), credentials: [Self.credentials.id: Self.credentials])
        let request = HawkIncomingRequest(
            target: try item.target(), authorization: header, payload: try #require(item.payload))
        var answer: String?
        do {
            _ = try await server.authenticate(request)
            Issue.record("a timestamp 600 s old must be stale")
        } catch {
            answer = error.wwwAuthenticate
        }
        let ours = try #require(answer)
        let checked = try Mohawk.run("tsm", cases: [item.exchange(header: ours)], as: [TimestampMAC].self)
        let check = try #require(checked.first)
        #expect(check.tsm == check.hmac)
        #expect(check.tsm == check.mohawk)
        #expect(check.error == "Stale timestamp")
        #expect(abs((Int64(check.ts) ?? 0) - now) <= 2)

        let verdicts = try Mohawk.run("receive", cases: [item.exchange(header: header)], as: [Verdict].self)
        let verdict = try #require(verdicts.first)
        #expect(!verdict.accepted)
        #expect(verdict.error == "TokenExpired")
        let theirs = try #require(verdict.www_authenticate)
        let serverTime = try HawkServerTime(wwwAuthenticate: theirs, credentials: Self.credentials)
        #expect(abs(serverTime.clockOffset()) <= 2)
        #expect(throws: HawkClientError.badServerTimestampMAC) {
            try HawkServerTime(wwwAuthenticate: theirs, credentials: HawkCredentials(id: "x", key: "another key"))
        }
    }
}
