import Foundation
import Hawk
import Testing

/// mozilla/hawk's published values (`test/readme.js`, `test/client.js`, `test/crypto.js`, `test/server.js`).
@Suite struct PublishedVectorTests {
    static let readmeCredentials = HawkCredentials(
        id: "dh37fgj492je", key: "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn")
    static let clientCredentials = HawkCredentials(id: "123456", key: "2983d45yun89q")

    @Test func readmeGETHeader() throws {
        let target = try HawkRequestTarget(
            method: "GET", scheme: "http", host: "example.com", port: 8000, resource: "/resource/1?b=1&a=2")
        let header = try HawkClient.authorization(
            for: target, credentials: Self.readmeCredentials, timestamp: 1_353_832_234, nonce: "j4h3g2",
            ext: "some-app-ext-data")
        #expect(
            header
                == "Hawk id=\"dh37fgj492je\", ts=\"1353832234\", nonce=\"j4h3g2\", ext=\"some-app-ext-data\", "
                + "mac=\"6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE=\"")
    }

    @Test func readmeGETNormalizedString() {
        let artifacts = HawkArtifacts(
            method: "GET", resource: "/resource/1?b=1&a=2", host: "example.com", port: 8000,
            timestamp: "1353832234", nonce: "j4h3g2", ext: "some-app-ext-data")
        #expect(
            artifacts.normalizedString
                == "hawk.1.header\n1353832234\nj4h3g2\nGET\n/resource/1?b=1&a=2\nexample.com\n8000\n\n"
                + "some-app-ext-data\n"
        )
    }

    @Test func readmePOSTHeaderWithPayload() throws {
        let target = try HawkRequestTarget(
            method: "POST", scheme: "http", host: "example.com", port: 8000, resource: "/resource/1?b=1&a=2")
        let payload = HawkPayload(contentType: "text/plain", text: "Thank you for flying Hawk")
        #expect(payload.hash == "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=")
        let header = try HawkClient.authorization(
            for: target, credentials: Self.readmeCredentials, timestamp: 1_353_832_234, nonce: "j4h3g2",
            payload: payload, ext: "some-app-ext-data")
        #expect(
            header
                == "Hawk id=\"dh37fgj492je\", ts=\"1353832234\", nonce=\"j4h3g2\", "
                + "hash=\"Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=\", ext=\"some-app-ext-data\", "
                + "mac=\"aSe1DERmZuRl3pI36/9BdZmnErTw3sNzOOAUlfeKjVw=\"")
    }

    /// `test/client.js`: https without a port means 443; with and without ext, and an empty payload.
    @Test(
        arguments: [
            (
                "Bazinga!", "something to write about",
                "hash=\"2QfCt3GuY9HQnHWyWD3wX68ZOKbynqlfYmuO2ZBRqtY=\", ext=\"Bazinga!\", "
                    + "mac=\"q1CwFoSHzPZSkbIvl0oYlD+91rBUEvFk763nMjMndj8=\""
            ),
            (
                nil, "something to write about",
                "hash=\"2QfCt3GuY9HQnHWyWD3wX68ZOKbynqlfYmuO2ZBRqtY=\", "
                    + "mac=\"HTgtd0jPI6E4izx8e4OHdO36q00xFCU0FolNq3RiCYs=\""
            ),
            (
                nil, "",
                "hash=\"q/t+NNAkQZNlq/aAD6PlexImwQTxwgT2MahfTa9XRLA=\", "
                    + "mac=\"U5k16YEzn3UnBHKeBzsDXn067Gu3R4YaY6xOt9PYRZM=\""
            ),
        ] as [(String?, String, String)])
    func clientHeaders(ext: String?, body: String, expectedTail: String) throws {
        let target = try HawkRequestTarget(
            method: "POST", scheme: "https", host: "example.net", resource: "/somewhere/over/the/rainbow")
        let header = try HawkClient.authorization(
            for: target, credentials: Self.clientCredentials, timestamp: 1_353_809_207, nonce: "Ygvqdz",
            payload: HawkPayload(contentType: "text/plain", text: body), ext: ext)
        #expect(header == "Hawk id=\"123456\", ts=\"1353809207\", nonce=\"Ygvqdz\", " + expectedTail)
    }

    /// `test/crypto.js`: the normalized string with and without ext and hash.
    @Test func cryptoNormalizedStrings() {
        var artifacts = HawkArtifacts(
            method: "GET", resource: "/resource/something", host: "example.com", port: 8080,
            timestamp: "1357747017", nonce: "k3k4j5")
        let prefix = "hawk.1.header\n1357747017\nk3k4j5\nGET\n/resource/something\nexample.com\n8080\n"
        #expect(artifacts.normalizedString == prefix + "\n\n")
        artifacts.ext = "this is some app data"
        #expect(artifacts.normalizedString == prefix + "\nthis is some app data\n")
        artifacts.hash = "U4MKKSmiVxk37JCCrAVIjV/OhB3y+NdwoCr6RShbVkE="
        #expect(
            artifacts.normalizedString == prefix
                + "U4MKKSmiVxk37JCCrAVIjV/OhB3y+NdwoCr6RShbVkE=\nthis is some app data\n")
    }

    /// `test/server.js` "parses a valid authentication header (sha256)", and the same refused when a hash is required.
    @Test func serverAcceptsPublishedHeader() async throws {
        let request = HawkIncomingRequest(
            target: HawkRequestTarget(method: "GET", host: "example.com", port: 8000, resource: "/resource/1?b=1&a=2"),
            authorization: "Hawk id=\"dh37fgj492je\", ts=\"1353832234\", nonce=\"j4h3g2\", "
                + "mac=\"m8r1rHbXN6NgO+KIIhjO7sFRyd78RNGVUwehe8Cp2dU=\", ext=\"some-app-data\"",
            payload: HawkPayload(contentType: nil, body: []))
        let now = Date(timeIntervalSince1970: 1_353_832_234)
        let credentials = ["dh37fgj492je": Self.readmeCredentials]
        let server = HawkServer(replayCache: HawkReplayCache(), credentials: credentials)
        let accepted = try await server.authenticate(request, now: now)
        #expect(accepted.credentials.id == "dh37fgj492je")
        #expect(accepted.artifacts.ext == "some-app-data")

        let strict = HawkServer(
            options: HawkServerOptions(requiresPayloadHash: true), replayCache: nil, credentials: credentials)
        await #expect(throws: HawkAuthenticationError.missingPayloadHash) {
            try await strict.authenticate(request, now: now)
        }
    }

    /// `test/client.js`: a WWW-Authenticate whose tsm was altered is refused.
    @Test func alteredTimestampMACIsRefused() {
        let header =
            "Hawk ts=\"1362346425875\", tsm=\"hwayS28vtnn3qbv0mqRBYSXebN/zggEtucfeZ620Zo=\", "
            + "error=\"Stale timestamp\""
        #expect(throws: HawkClientError.badServerTimestampMAC) {
            try HawkServerTime(wwwAuthenticate: header, credentials: Self.readmeCredentials)
        }
    }
}
