import AsyncHTTPClient
import BenchSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Synchronization
import Testing

/// The two listeners of `provhook serve`, run as the operator runs it: a separate process, HTTPS on the webhook
/// listener with a certificate from files, reloaded on SIGHUP, and the admin listener on its own port.
@Suite("Listeners: TLS, SIGHUP reload, the admin port")
struct ListenerTests {
    @Test("webhooks over HTTPS; SIGHUP swaps the certificate without a restart; a bad reload keeps the old one")
    func tlsAndReload() async throws {
        try await TestDatabase.with { database in
            let (_, secret) = try await database.store.addTenant("acme", template: "https://p.example/<mac>")
            let first = try PrivateCertificateAuthority(commonName: "first CA")
            let second = try PrivateCertificateAuthority(commonName: "second CA")
            let certificate = try TemporaryFile.write(first.serverCertificatePEM, suffix: ".pem")
            let key = try TemporaryFile.write(first.serverPrivateKeyPEM, suffix: ".key")
            defer { for path in [certificate, key] { try? FileManager.default.removeItem(atPath: path) } }

            let serve = try await ServeProcess.start(environment: [
                "PROVHOOK_DATABASE_URL": database.urlString, "PROVHOOK_SECRET_KEY_FILE": database.secretKeyFile,
                "PROVHOOK_DRY_RUN": "1",
                "PROVHOOK_TLS_CERT_FILE": certificate, "PROVHOOK_TLS_KEY_FILE": key,
                "PROVHOOK_ADMIN_TOKEN": "admin-token-0123456789abcdef",
            ])
            defer { serve.stop() }
            let trustingFirst = try Self.client(trusting: first)
            let trustingSecond = try Self.client(trusting: second)
            do {
                try await Self.check(
                    serve, secret: secret, certificate: certificate, key: key, first: first,
                    second: second, trustingFirst: trustingFirst, trustingSecond: trustingSecond)
            } catch {
                try? await trustingFirst.shutdown()
                try? await trustingSecond.shutdown()
                throw error
            }
            try await trustingFirst.shutdown()
            try await trustingSecond.shutdown()
        }
    }

    static func check(
        _ serve: ServeProcess, secret: String, certificate: String, key: String, first: PrivateCertificateAuthority,
        second: PrivateCertificateAuthority, trustingFirst: HTTPClient, trustingSecond: HTTPClient
    ) async throws {
        do {
            let webhooks = "https://127.0.0.1:\(serve.ports.webhook)"

            #expect(try await Self.send(trustingFirst, webhooks, secret: secret) == 202)
            #expect(await Self.fails(trustingSecond, "\(webhooks)/healthz"), "the second CA did not sign it yet")
            #expect(
                await Self.fails(HTTPClient.shared, "http://127.0.0.1:\(serve.ports.webhook)/healthz"),
                "plain HTTP is not answered on the TLS listener")

            // A renewed certificate: the files change, SIGHUP, and the next connection gets it.
            try second.serverCertificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
            try second.serverPrivateKeyPEM.write(toFile: key, atomically: true, encoding: .utf8)
            serve.signal(SIGHUP)
            try await eventually("the new certificate is served") {
                (try? await Self.send(trustingSecond, webhooks, secret: secret)) == 202
            }
            #expect(await Self.fails(trustingFirst, "\(webhooks)/healthz"), "the old certificate is gone")

            // A key that does not match: the reload is refused and the certificate in force stays.
            try first.serverPrivateKeyPEM.write(toFile: key, atomically: true, encoding: .utf8)
            serve.signal(SIGHUP)
            try await eventually("the refused reload is logged") { serve.log.contains("TLS certificate not reloaded") }
            #expect(serve.log.contains("does not match the certificate"))
            #expect(try await Self.send(trustingSecond, webhooks, secret: secret) == 202)

            // The admin listener is plain HTTP on loopback, and the webhook listener has none of its routes.
            let admin = "http://127.0.0.1:\(serve.ports.admin)"
            #expect(try await Self.status(HTTPClient.shared, "\(admin)/readyz") == 200)
            #expect(try await Self.status(HTTPClient.shared, "\(admin)/metrics") == 200)
            for path in ["/readyz", "/metrics", "/openapi.yaml", "/v1/devices"] {
                #expect(try await Self.status(trustingSecond, "\(webhooks)\(path)") == 404, "\(path)")
            }
            #expect(try await Self.status(trustingSecond, "\(webhooks)/healthz") == 200)
            #expect(!serve.log.contains("BEGIN"), "no key or certificate material in the log")
        }
    }

    @Test("the admin listener speaks HTTPS with a certificate of its own, and then not plain HTTP")
    func adminOverTLS() async throws {
        try await TestDatabase.with { database in
            let authority = try PrivateCertificateAuthority(commonName: "admin CA")
            let other = try PrivateCertificateAuthority(commonName: "another CA")
            let certificate = try TemporaryFile.write(authority.serverCertificatePEM, suffix: ".pem")
            let key = try TemporaryFile.write(authority.serverPrivateKeyPEM, suffix: ".key")
            defer { for path in [certificate, key] { try? FileManager.default.removeItem(atPath: path) } }
            let token = "admin-token-0123456789abcdef"
            let serve = try await ServeProcess.start(environment: [
                "PROVHOOK_DATABASE_URL": database.urlString, "PROVHOOK_SECRET_KEY_FILE": database.secretKeyFile,
                "PROVHOOK_DRY_RUN": "1", "PROVHOOK_ADMIN_TOKEN": token,
                "PROVHOOK_ADMIN_TLS_CERT_FILE": certificate, "PROVHOOK_ADMIN_TLS_KEY_FILE": key,
            ])
            defer { serve.stop() }
            let trusting = try Self.client(trusting: authority)
            let trustingOther = try Self.client(trusting: other)
            let admin = "https://127.0.0.1:\(serve.ports.admin)"
            do {
                #expect(try await Self.status(trusting, "\(admin)/readyz") == 200)
                #expect(try await Self.status(trusting, "\(admin)/openapi.yaml") == 200)
                #expect(await Self.fails(trustingOther, "\(admin)/readyz"), "only the admin certificate's CA vouches")
                #expect(
                    await Self.fails(HTTPClient.shared, "http://127.0.0.1:\(serve.ports.admin)/readyz"),
                    "no plain HTTP on the admin listener once it has a certificate")
                // The webhook listener is still plain HTTP: the two are configured apart.
                #expect(
                    try await Self.status(HTTPClient.shared, "http://127.0.0.1:\(serve.ports.webhook)/healthz") == 200)
            } catch {
                try? await trusting.shutdown()
                try? await trustingOther.shutdown()
                throw error
            }
            try await trusting.shutdown()
            try await trustingOther.shutdown()
        }
    }

    @Test("serve refuses a certificate it cannot use, in one line naming the file")
    func refusals() async throws {
        let authority = try PrivateCertificateAuthority()
        try await TemporaryFile.with(authority.serverCertificatePEM) { certificate in
            let cli = CommandLineRunner(environment: [
                "PROVHOOK_DATABASE_URL": "postgres://provhook@127.0.0.1:1/provhook", "PROVHOOK_DRY_RUN": "1",
                "PROVHOOK_TLS_CERT_FILE": certificate,
            ])
            var result = try await cli.run(["serve"])
            #expect(result.status == 2 && result.error.contains("PROVHOOK_TLS_KEY_FILE"))
            var wrong = cli
            wrong.environment["PROVHOOK_ADMIN_LISTEN"] = "127.0.0.1:8080"
            wrong.environment["PROVHOOK_LISTEN"] = "127.0.0.1:8080"
            wrong.environment["PROVHOOK_TLS_CERT_FILE"] = nil
            result = try await wrong.run(["serve"])
            #expect(result.status == 2 && result.error.contains("PROVHOOK_ADMIN_LISTEN must differ"))
        }
    }

    static func client(trusting authority: PrivateCertificateAuthority) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([
            try NIOSSLCertificate(bytes: Array(authority.caCertificatePEM.utf8), format: .pem)
        ])
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        // Each request on a new connection, so that each sees the certificate in force.
        configuration.connectionPool = .init(idleTimeout: .seconds(1), concurrentHTTP1ConnectionsPerHostSoftLimit: 1)
        configuration.maximumUsesPerConnection = 1
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    static func send(_ client: HTTPClient, _ base: String, secret: String) async throws -> Int {
        var request = SignedWebhook.request(
            baseURL: base, tenant: "acme", id: "msg_\(UUID().uuidString)",
            body: Array(#"{"type":"device.added","mac":"000413A1B2C3"}"#.utf8), secret: secret, timestamp: Date())
        request.body = .bytes(ByteBuffer(string: #"{"type":"device.added","mac":"000413A1B2C3"}"#))
        let response = try await client.execute(request, timeout: .seconds(10))
        return Int(response.status.code)
    }

    static func status(_ client: HTTPClient, _ url: String) async throws -> Int {
        Int(try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10)).status.code)
    }

    /// Whether a GET fails at the connection (TLS refused, or no HTTP answer).
    static func fails(_ client: HTTPClient, _ url: String) async -> Bool {
        (try? await client.execute(HTTPClientRequest(url: url), timeout: .seconds(5))) == nil
    }
}
