import Foundation
import Hawk
import Testing

/// The client side: what it refuses to sign, its nonces, and that the key never shows.
@Suite struct ClientTests {
    static let credentials = HawkCredentials(id: "key-id", key: "s3cr3t-k3y-value")

    @Test func keyNeverAppearsInDescriptions() {
        let credentials = Self.credentials
        #expect(!credentials.description.contains("s3cr3t"))
        #expect(!String(reflecting: credentials).contains("s3cr3t"))
        #expect(!"\(credentials)".contains("s3cr3t"))
        var dumped = ""
        dump(credentials, to: &dumped)
        #expect(!dumped.contains("s3cr3t"))
        #expect(credentials.description.contains("key-id"))
    }

    @Test func defaultPortsFollowTheScheme() throws {
        #expect(try HawkRequestTarget(method: "GET", scheme: "https", host: "h", resource: "/").port == 443)
        #expect(try HawkRequestTarget(method: "GET", scheme: "HTTP", host: "h", resource: "/").port == 80)
        #expect(try HawkRequestTarget(method: "GET", scheme: "http", host: "h", port: 8080, resource: "/").port == 8080)
        #expect(throws: HawkClientError.unsupportedScheme("ftp")) {
            try HawkRequestTarget(method: "GET", scheme: "ftp", host: "h", resource: "/")
        }
    }

    @Test func refusesWhatAHeaderCannotCarry() throws {
        let target = HawkRequestTarget(method: "GET", host: "h", port: 443, resource: "/")
        #expect(throws: HawkClientError.invalidAttributeValue(name: "ext")) {
            try HawkClient.authorization(
                for: target, credentials: Self.credentials, timestamp: 1, nonce: "n", ext: "say \"hi\"")
        }
        #expect(throws: HawkClientError.invalidAttributeValue(name: "nonce")) {
            try HawkClient.authorization(for: target, credentials: Self.credentials, timestamp: 1, nonce: "")
        }
        #expect(throws: HawkClientError.invalidAttributeValue(name: "id")) {
            try HawkClient.authorization(
                for: target, credentials: HawkCredentials(id: "a\\b", key: "k"), timestamp: 1, nonce: "n")
        }
        for (bad, error) in [
            (
                HawkRequestTarget(method: "GET", host: "h", port: 443, resource: "relative"),
                HawkClientError.invalidResource
            ),
            (HawkRequestTarget(method: "GET", host: "h", port: 443, resource: "/a\nb"), .invalidResource),
            (HawkRequestTarget(method: "GET", host: "", port: 443, resource: "/"), .invalidHost),
            (HawkRequestTarget(method: "GET", host: "h", port: 0, resource: "/"), .invalidPort(0)),
            (HawkRequestTarget(method: "GE T", host: "h", port: 443, resource: "/"), .invalidMethod),
        ] {
            #expect(throws: error) {
                try HawkClient.authorization(for: bad, credentials: Self.credentials, timestamp: 1, nonce: "n")
            }
        }
    }

    @Test func emptyExtIsLeftOut() throws {
        let target = HawkRequestTarget(method: "GET", host: "h", port: 443, resource: "/")
        let header = try HawkClient.authorization(
            for: target, credentials: Self.credentials, timestamp: 1, nonce: "n", ext: "")
        #expect(!header.contains("ext="))
        #expect(!header.contains("hash="))
    }

    @Test func freshNoncesAreRandomAndReadable() throws {
        let nonces = (0..<100).map { _ in HawkClient.makeNonce() }
        #expect(Set(nonces).count == 100)
        for nonce in nonces {
            #expect(nonce.count == 12)
            #expect(nonce.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        }
        let target = HawkRequestTarget(method: "GET", host: "h", port: 443, resource: "/")
        let now = Date(timeIntervalSince1970: 1_700_000_000.9)
        let header = try HawkClient.authorization(for: target, credentials: Self.credentials, now: now)
        let attributes = try HawkHeaderParser.parse(header)
        #expect(attributes["ts"] == "1700000000")
        #expect(attributes["nonce"]?.count == 12)
    }

    @Test func refusesServerTimeWithoutTimestamp() {
        #expect(throws: HawkClientError.missingServerTimestamp) {
            try HawkServerTime(wwwAuthenticate: "Hawk error=\"Stale timestamp\"", credentials: Self.credentials)
        }
        #expect(throws: HawkClientError.invalidWWWAuthenticate(.unknownAttribute("x"))) {
            try HawkServerTime(
                wwwAuthenticate: "Hawk ts=\"1\", tsm=\"a\", x=\"Stale timestamp\"", credentials: Self.credentials)
        }
    }
}
