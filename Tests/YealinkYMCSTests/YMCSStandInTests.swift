import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StandInSupport
import Testing
import VendorTestSupport
import YealinkYMCSStandIn

@testable import YealinkYMCS

/// The stand-in refuses what YMCS's clients show the service refuses.
@Suite("Yealink YMCS stand-in strictness")
struct YMCSStandInStrictnessTests {
    func post(
        _ standIn: YMCSStandIn, _ path: String, _ body: String, headers: [(String, String)]
    ) async throws -> (status: Int, text: String) {
        var request = HTTPClientRequest(url: standIn.server.url + path)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await standIn.httpClient.execute(request, timeout: .seconds(5))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    func headers(
        nonce: String = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
        timestamp: Int64 = Int64(Date().timeIntervalSince1970 * 1000), type: String = "application/json",
        authorization: String? = nil
    ) -> [(String, String)] {
        var headers = [("timestamp", String(timestamp)), ("nonce", nonce), ("Content-Type", type)]
        if let authorization { headers.append(("Authorization", authorization)) }
        return headers
    }

    var basic: String {
        "Basic " + Data("\(YMCSStandIn.clientID):\(YMCSStandIn.secret)".utf8).base64EncodedString()
    }

    @Test("the token needs basic auth, client_credentials, a timestamp and a fresh nonce")
    func token() async throws {
        try await YMCSStandIn.with { (standIn: YMCSStandIn) async throws in
            let grant = #"{"grant_type":"client_credentials"}"#
            #expect(
                try await self.post(standIn, "v2/token", grant, headers: self.headers(authorization: self.basic)).status
                    == 200)
            #expect(try await self.post(standIn, "v2/token", grant, headers: self.headers()).status == 401)
            #expect(
                try await self.post(
                    standIn, "v2/token", #"{"grant_type":"password"}"#, headers: self.headers(authorization: self.basic)
                ).text.contains("70011"))
            let stale = self.headers(
                timestamp: Int64(Date().timeIntervalSince1970 * 1000) - 600_000, authorization: self.basic)
            #expect(try await self.post(standIn, "v2/token", grant, headers: stale).status == 400)
            let once = self.headers(nonce: String(repeating: "ab", count: 16), authorization: self.basic)
            #expect(try await self.post(standIn, "v2/token", grant, headers: once).status == 200)
            #expect(try await self.post(standIn, "v2/token", grant, headers: once).status == 400, "a replayed nonce")
            #expect(
                try await self.post(
                    standIn, "v2/token", grant, headers: self.headers(nonce: "xyz", authorization: self.basic)
                ).status == 400)
            #expect(
                try await self.post(
                    standIn, "v2/token", grant, headers: self.headers(type: "text/plain", authorization: self.basic)
                ).status == 415)
        }
    }

    @Test("API calls need a valid bearer token; a batch is at most 100 MACs; MACs are 12 hex digits")
    func api() async throws {
        try await YMCSStandIn.with { (standIn: YMCSStandIn) async throws in
            let body = #"[{"mac":"001565000001","uniqueServerUrl":"https://p.example/"}]"#
            #expect(
                try await self.post(standIn, "v2/rps/addDevicesByMac", body, headers: self.headers()).text.contains(
                    "900401"))
            #expect(
                try await self.post(
                    standIn, "v2/rps/addDevicesByMac", body, headers: self.headers(authorization: "Bearer nope")
                ).status == 401)
            let token = try await standIn.client.fetchToken()
            let bearer = "Bearer \(token)"
            let big = "[" + (0..<101).map { String(format: #"{"mac":"001565%06x"}"#, $0) }.joined(separator: ",") + "]"
            let tooMany = try await self.post(
                standIn, "v2/rps/addDevicesByMac", big, headers: self.headers(authorization: bearer))
            #expect(tooMany.status == 400 && tooMany.text.contains("800006"))
            let spellings = #"[{"mac":"00:15:65:00:00:01"},{"mac":"00156500000"},{"mac":"001565000002"}]"#
            let answer = try await self.post(
                standIn, "v2/rps/addDevicesByMac", spellings, headers: self.headers(authorization: bearer))
            #expect(answer.status == 200 && answer.text.contains(#""failureCount":2"#), "\(answer.text)")
            #expect(
                try await self.post(standIn, "v2/rps/unknown", "{}", headers: self.headers(authorization: bearer))
                    .status == 404)
        }
    }
}
