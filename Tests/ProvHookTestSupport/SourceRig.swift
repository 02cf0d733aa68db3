import AsyncHTTPClient
import FakePBXService
import Foundation
import NIOCore
import NIOHTTP1
import ProvHookCore
import ProvHookServer
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing

/// What the end-to-end tests of the PBX sources run against: the stand-in of the Snom service over TLS, the
/// stand-ins of the PBX APIs, a tenant `acme`, and `provhook serve` as its own process once the sources are added.
public struct SourceRig: Sendable {
    /// The Kazoo API key the PBX stand-ins' Kazoo accounts are made with in the sync tests.
    public static let kazooAPIKey = String(repeating: "c3", count: 32)

    public let database: TestDatabase
    public let redirect: RunningFakeRedirect
    public let pbx: RunningFakePBX
    /// The settings that point a provhook process at `redirect`.
    public let redirectSettings: [String: String]
    public let cli: CommandLineRunner

    /// Runs `body` with a rig; stops everything after, whatever happens.
    public static func with(
        pbx state: FakePBXState, _ body: (SourceRig) async throws -> Void
    ) async throws {
        try await TestDatabase.with { database in
            try await database.store.addTenant("acme")
            try await RunningFakeRedirect.withTLS { redirect, settings in
                try await RunningFakePBX.with(state: state) { pbx in
                    let rig = SourceRig(
                        database: database, redirect: redirect, pbx: pbx, redirectSettings: settings,
                        cli: CommandLineRunner(
                            environment: database.environment().merging(["PROVHOOK_PBX_ALLOW_HTTP": "1"]) { $1 }))
                    try await body(rig)
                }
            }
        }
    }

    /// `provhook serve` against the stand-ins, with `extra` settings.
    public func serve(_ extra: [String: String] = [:]) async throws -> ServeProcess {
        try await ServeProcess.start(
            environment: self.database.environment().merging(self.redirectSettings) { $1 }.merging(extra) { $1 })
    }

    /// `provhook source add …  --json`; returns the token.
    public func addSource(_ arguments: [String]) async throws -> String {
        try #require(try await self.cli.addSource(arguments)["token"] as? String)
    }

    /// `provhook source add NAME --kind kazoo` for `tenant`, whose API is the PBX stand-in's, with `apiKey` given in a
    /// file of its own; `extra` are further options.
    public func addKazooSource(
        _ name: String = "kazoo-acme", tenant: String = "acme", apiKey: String = SourceRig.kazooAPIKey,
        options extra: [String] = []
    ) async throws {
        let keyFile = try Self.secretFile(apiKey)
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        _ = try await self.addSource(
            [name, "--kind", "kazoo", "--tenant", tenant, "--api-url", self.pbx.kazooURL, "--api-key-file", keyFile]
                + extra)
    }

    /// A secret in a file of its own, as the `--api-*-file` options take it.
    public static func secretFile(_ secret: String) throws -> String {
        try TemporaryFile.write(secret + "\n", suffix: ".secret")
    }

    public var state: FakeRedirectState { self.redirect.state }

    /// Sends one request as a PBX would; returns the status and body.
    public static func send(
        _ url: String, method: HTTPMethod = .POST, body: String?, contentType: String? = "application/json",
        authorization: String? = nil, headers: [(String, String)] = []
    ) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }

    /// Basic auth as a URL's `user:password@` becomes it.
    public static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }
}
