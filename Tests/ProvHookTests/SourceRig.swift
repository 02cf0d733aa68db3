import AsyncHTTPClient
import FakePBXService
import Foundation
import NIOCore
import NIOHTTP1
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing

/// What the end-to-end tests of the PBX sources run against: the stand-in of the Snom service over TLS, the
/// stand-ins of the PBX APIs, a tenant `acme`, and `provhook serve` as its own process once the sources are added.
struct SourceRig {
    let database: TestDatabase
    let redirect: RunningFakeRedirect
    let pbx: RunningFakePBX
    let caFile: String
    let cli: CommandLineRunner

    /// Runs `body` with a rig; stops everything after, whatever happens.
    static func with(
        pbx state: FakePBXState, _ body: (SourceRig) async throws -> Void
    ) async throws {
        try await TestDatabase.with { database in
            _ = try await database.store.addTenant(
                id: "acme", name: nil, urlTemplate: try URLTemplate("https://p.example/<mac>.xml"),
                allowBearer: false, actor: "cli:test")
            let authority = try PrivateCertificateAuthority()
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState(), tls: authority) { redirect in
                try await RunningFakePBX.with(state: state) { pbx in
                    try await TemporaryFile.with(authority.caCertificatePEM, suffix: ".pem") { caFile in
                        let rig = SourceRig(
                            database: database, redirect: redirect, pbx: pbx, caFile: caFile,
                            cli: CommandLineRunner(
                                environment: database.environment().merging(["PROVHOOK_PBX_ALLOW_HTTP": "1"]) { $1 }))
                        try await body(rig)
                    }
                }
            }
        }
    }

    /// `provhook serve` against the stand-ins, with `extra` settings.
    func serve(_ extra: [String: String] = [:]) async throws -> ServeProcess {
        var environment = self.database.environment()
        environment.merge([
            "PROVHOOK_REDIRECT_URL": self.redirect.endpoint, "PROVHOOK_REDIRECT_USER": StandInAccounts.user,
            "PROVHOOK_REDIRECT_PASSWORD": StandInAccounts.password, "PROVHOOK_REDIRECT_CA_FILE": self.caFile,
        ]) { _, new in new }
        environment.merge(extra) { _, new in new }
        return try await ServeProcess.start(environment: environment)
    }

    /// `provhook source add …  --json`; returns the token.
    func addSource(_ arguments: [String]) async throws -> String {
        let added = try await self.cli.run(["source", "add"] + arguments + ["--json"])
        #expect(added.status == 0, "\(added.error)")
        let json = try JSONSerialization.jsonObject(with: Data(added.output.utf8)) as? [String: Any] ?? [:]
        return try #require(json["token"] as? String, "\(added.output) \(added.error)")
    }

    /// A secret in a file of its own, as the `--api-*-file` options take it.
    static func secretFile(_ secret: String) throws -> String {
        try TemporaryFile.write(secret + "\n", suffix: ".secret")
    }

    var state: FakeRedirectState { self.redirect.state }

    /// Sends one request as a PBX would; returns the status and body.
    static func send(
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
    static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }
}
