import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StandInSupport

/// What every vendor client's tests do around their stand-in: the CA file when it serves TLS, the client under test
/// with its own pool, and a plain HTTP client for the tests' raw requests, each closed whatever the test does.
public enum VendorTestHarness {
    /// Runs `body` with the client that `makeClient` makes (given the CA file of `authority`, nil without one) and a
    /// plain HTTP client; closes both (the client with the function `makeClient` returned) and removes the CA file
    /// afterwards, whether `body` returns or throws.
    public static func with<Client, T>(
        authority: PrivateCertificateAuthority?,
        client makeClient: (_ caFile: String?) throws -> (Client, @Sendable () async -> Void),
        _ body: (_ client: Client, _ plain: HTTPClient) async throws -> T
    ) async throws -> T {
        try await PrivateCertificateAuthority.withCAFile(authority) { caFile in
            try await BackgroundServer.with({ try makeClient(caFile) }, stop: { await $0.1() }) { made in
                try await BackgroundServer.with(
                    { HTTPClient(eventLoopGroupProvider: .singleton) }, stop: { try? await $0.shutdown() }
                ) { plain in
                    try await body(made.0, plain)
                }
            }
        }
    }

    /// Sends `body` to `url` (the body only with POST) with `contentType` and `authorization`, each header left out
    /// when nil: the answer's status, `WWW-Authenticate` and text.
    public static func send(
        _ body: String, to url: String, method: HTTPMethod = .POST, contentType: String?, authorization: String?,
        through httpClient: HTTPClient
    ) async throws -> (status: Int, challenge: String?, text: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if method == .POST { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await httpClient.execute(request, timeout: .seconds(5))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers.first(name: "WWW-Authenticate"), String(buffer: bytes))
    }

    /// `Basic` with `user` and `password` as given.
    public static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }
}
