import AsyncHTTPClient
import Foundation
import Hawk
import NIOCore
import NIOHTTP1
import ProvisioningModel
import SnomSRAPS
import SnomSRAPSStandIn
import Testing
import VendorTestSupport

@Suite("The SRAPS stand-in is strict")
struct SRAPSStandInTests {
    let body =
        #"{"mac":"000413aabbcc","autoprovisioning_enabled":true,"settings_manager":{"#
        + #""\#(FakeSRAPSState.urlSettingUUID)":{"value":"https://p.example.com/a","attrs":{"perm":"RW"}}}}"#

    @Test("a PUT without payload hash passes, as ngcp-panel sends it; a wrong hash does not")
    func putWithoutHash() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            let path = StandIn.endpointPath("000413AABBCC")
            let unhashed = try await standIn.raw(.PUT, path, body: self.body, hashPayload: false)
            #expect(unhashed.status == 201)
            #expect(await standIn.state.url(of: "000413aabbcc") == "https://p.example.com/a")
            #expect(await standIn.state.calls.last?.hadPayloadHash == false)

            let hashed = try await standIn.raw(.PUT, path, body: self.body)
            #expect(hashed.status == 200, "a PUT on an existing record answers 200")

            let parameters = try await standIn.raw(.PUT, path, body: self.body, contentType: "application/json; x=1")
            #expect(parameters.status == 200, "content type parameters are not hashed")
            // Signed over one body, sent with another: the hash no longer matches.
            let wrong = try await standIn.raw(
                .PUT, path, body: self.body.replacingOccurrences(of: "p.example", with: "q.example"),
                signedBody: self.body)
            #expect(wrong.status == 401)
            #expect(wrong.headers.first(name: "WWW-Authenticate") == #"Hawk error="Bad payload hash""#)
            #expect(await standIn.state.url(of: "000413aabbcc") == "https://p.example.com/a")
        }
    }

    @Test("a replayed request is refused")
    func replay() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            let timestamp = Int64(Date().timeIntervalSince1970)
            let nonce = HawkClient.makeNonce()
            let first = try await standIn.raw(.GET, "tokens/\(StandIn.keyID)", timestamp: timestamp, nonce: nonce)
            #expect(first.status == 200)
            let again = try await standIn.raw(.GET, "tokens/\(StandIn.keyID)", timestamp: timestamp, nonce: nonce)
            #expect(again.status == 401)
            #expect(again.headers.first(name: "WWW-Authenticate") == #"Hawk error="Invalid nonce""#)
        }
    }

    @Test("a timestamp more than 60 s off gets the reference's stale answer, with a tsm made with the key")
    func staleTimestamp() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            let now = Int64(Date().timeIntervalSince1970)
            #expect(try await standIn.raw(.GET, "tokens/\(StandIn.keyID)", timestamp: now - 55).status == 200)
            let stale = try await standIn.raw(.GET, "tokens/\(StandIn.keyID)", timestamp: now - 65)
            #expect(stale.status == 401)
            let header = try #require(stale.headers.first(name: "WWW-Authenticate"))
            #expect(header.hasPrefix("Hawk ts=\""))
            #expect(header.hasSuffix(#"error="Stale timestamp""#))
            let serverTime = try HawkServerTime(
                wwwAuthenticate: header, credentials: HawkCredentials(id: StandIn.keyID, key: StandIn.keySecret))
            #expect(abs(serverTime.clockOffset()) <= 2)
            #expect(throws: HawkClientError.badServerTimestampMAC) {
                try HawkServerTime(wwwAuthenticate: header, credentials: HawkCredentials(id: "x", key: "other"))
            }
        }
    }

    @Test("a bad mac, an unknown key, no header: 401")
    func refusals() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            #expect(try await standIn.raw(.GET, "settings/", secret: "wrong").status == 401)
            #expect(try await standIn.raw(.GET, "settings/", keyID: "nobody").status == 401)
            #expect(await standIn.state.calls.map(\.hawkError) == ["Bad mac", "Unknown credentials"])
            var request = HTTPClientRequest(url: standIn.server.baseURL + "settings/")
            request.headers.add(name: "Authorization", value: "Basic dXNlcjpwYXNz")
            let response = try await standIn.httpClient.execute(request, timeout: .seconds(5))
            #expect(response.status.code == 401)
            #expect(response.headers.first(name: "WWW-Authenticate") == "Hawk")
        }
    }

    @Test("a PUT that is not JSON is 415, as Django REST framework answers an unsupported media type")
    func contentType() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            let path = StandIn.endpointPath("000413aabbcc")
            #expect(try await standIn.raw(.PUT, path, body: self.body, contentType: "text/plain").status == 415)
            #expect(try await standIn.raw(.PUT, path, body: self.body, contentType: nil).status == 415)
            #expect(try await standIn.raw(.PUT, path, body: "{not json").status == 400)
            #expect(await standIn.state.endpoint("000413aabbcc") == nil)
        }
    }

    @Test("malformed MACs, nulls, unknown settings and a body MAC unlike the path's are 400")
    func badRecords() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            for mac in ["00:04:13:aa:bb:cc", "000413aabbc", "000413aabbcg"] {
                #expect(try await standIn.raw(.PUT, StandIn.endpointPath(mac), body: self.body).status == 400)
                #expect(try await standIn.raw(.GET, StandIn.endpointPath(mac)).status == 400)
            }
            let path = StandIn.endpointPath("000413aabbcc")
            let null = #"{"mac":"000413aabbcc","warranty_exp_warning_period":null}"#
            let unknown = #"{"mac":"000413aabbcc","settings_manager":{"nope":{"value":"x"}}}"#
            let otherMAC = self.body.replacingOccurrences(of: "000413aabbcc", with: "000413aabbcd")
            for body in [null, unknown, otherMAC] {
                let answer = try await standIn.raw(.PUT, path, body: body)
                #expect(answer.status == 400, "\(body)")
            }
            let ngcp = self.body.replacingOccurrences(of: "true", with: "\"true\"")
            #expect(try await standIn.raw(.PUT, StandIn.endpointPath("000413AABBCC"), body: ngcp).status == 201)
        }
    }

    @Test("a collection's URL without its trailing slash is redirected, before authentication")
    func missingSlash() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            let answer = try await standIn.raw(.GET, "settings?page_size=5", secret: "wrong")
            #expect(answer.status == 301)
            #expect(answer.headers.first(name: "Location") == "/api/v1/settings/?page_size=5")
            let endpoints = try await standIn.raw(.GET, "companies/\(StandIn.company)/endpoints")
            #expect(endpoints.status == 301)
            #expect(try await standIn.raw(.GET, StandIn.endpointPath("000413aabbcc") + "/").status == 404)
        }
    }

    @Test("settings are paginated by 20 by default, with Link headers")
    func settingsPages() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            let first = try await standIn.raw(.GET, "settings/")
            #expect(first.status == 200)
            let link = try #require(first.headers.first(name: "Link"))
            #expect(SRAPSLinkHeader.next(link) == standIn.server.baseURL + "settings/?page_size=20&page=2")
            let page = try #require(try JSONSerialization.jsonObject(with: Data(first.body.utf8)) as? [[String: Any]])
            #expect(page.count == 20)
            let second = try await standIn.raw(.GET, "settings/?page_size=20&page=2")
            #expect(SRAPSLinkHeader.next(second.headers.first(name: "Link")) == nil)
            #expect(try await standIn.raw(.GET, "settings/?page=9").status == 404)
        }
    }

    @Test("Link headers: next among several relations, or none")
    func linkHeader() {
        #expect(
            SRAPSLinkHeader.next(#"<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next""#)
                == "https://a/x?page=3")
        #expect(SRAPSLinkHeader.next(#"<https://a/x?page=3>; rel="next last""#) == "https://a/x?page=3")
        #expect(SRAPSLinkHeader.next(#"<https://a/x?page=1>; rel="first""#) == nil)
        #expect(SRAPSLinkHeader.next(nil) == nil)
    }
}
