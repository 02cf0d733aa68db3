import FakeRedirectService
import Foundation
import NIOHTTP1
import ProvHookCore
import ProvHookTestSupport
import SnomRedirect
import Testing

@Suite("Admin API and OpenAPI document")
struct AdminAPITests {
    static let token = "admin-token-0123456789abcdef"

    func withAdmin(_ body: (RunningProvHook, TestDatabase, String) async throws -> Void) async throws {
        try await EndToEnd.run(adminToken: Self.token) { run in try await body(run.provhook, run.database, run.secret) }
    }

    @Test("every admin route refuses a missing or wrong token")
    func refusals() async throws {
        try await self.withAdmin { provhook, _, _ in
            let routes: [(HTTPMethodName, String)] = [
                (.GET, "/v1/devices"), (.GET, "/v1/journal"), (.GET, "/v1/tenants"), (.POST, "/v1/tenants"),
                (.PATCH, "/v1/tenants/acme"), (.POST, "/v1/reconcile"),
            ]
            for (method, path) in routes {
                for token in [nil, "wrong-token", Self.token + "x", String(Self.token.dropLast())] {
                    let answer = try await provhook.call(method.nio, path, token: token, json: "{}")
                    #expect(answer.status == 401, "\(method) \(path) with \(token ?? "no token")")
                    #expect(answer.errorCode == (token == nil ? "missing_token" : "bad_token"))
                }
            }
        }
    }

    @Test("the admin API is off without PROVHOOK_ADMIN_TOKEN")
    func off() async throws {
        try await EndToEnd.run { (run: EndToEnd) async throws in
            #expect(try await run.provhook.get("/v1/devices", token: Self.token).status == 404)
            #expect(try await run.provhook.get("/openapi.yaml").status == 404)
        }
    }

    @Test("tenants, devices and the journal through the admin API")
    func routes() async throws {
        try await self.withAdmin { provhook, database, secret in
            var answer = try await provhook.call(
                .POST, "/v1/tenants", token: Self.token,
                json: #"{"id":"beta","url_template":"tftp://b.example/<mac>","allow_bearer":true}"#)
            #expect(answer.status == 201)
            #expect((answer.json["webhook_secret"] as? String)?.hasPrefix("whsec_") == true)
            answer = try await provhook.call(
                .POST, "/v1/tenants", token: Self.token, json: #"{"id":"beta","url_template":"tftp://b.example/<mac>"}"#
            )
            #expect(answer.status == 409)
            answer = try await provhook.call(
                .POST, "/v1/tenants", token: Self.token, json: #"{"id":"gamma","url_template":"gopher://x"}"#)
            #expect(answer.status == 400 && answer.errorCode == "invalid_url_template")
            answer = try await provhook.get("/v1/tenants", token: Self.token)
            #expect(
                ((answer.json["tenants"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String } == [
                    "acme", "beta",
                ])
            #expect(!answer.body.contains("whsec_"), "secrets are never listed")

            for index in 1...5 {
                let body = #"{"type":"device.added","mac":"0004130000\#(String(format: "%02X", index))"}"#
                #expect(try await provhook.send(tenant: "acme", body: body, secret: secret).status == 202)
            }
            try await eventually("registered") {
                try await database.store.devices(DeviceFilter(status: .registered)).count == 5
            }
            answer = try await provhook.get("/v1/devices?tenant=acme&limit=2", token: Self.token)
            #expect(answer.status == 200)
            #expect((answer.json["devices"] as? [[String: Any]])?.count == 2)
            let next = try #require(answer.json["next_after"] as? String)
            answer = try await provhook.get("/v1/devices?tenant=acme&limit=10&after=\(next)", token: Self.token)
            #expect((answer.json["devices"] as? [[String: Any]])?.count == 3)
            #expect(try await provhook.get("/v1/devices?status=bogus", token: Self.token).status == 400)

            answer = try await provhook.call(
                .PATCH, "/v1/tenants/acme", token: Self.token, json: #"{"url_template":"https://new.example/<mac>"}"#)
            #expect(answer.status == 200 && answer.json["repointed_devices"] as? Int == 5)
            #expect(try await provhook.call(.PATCH, "/v1/tenants/nobody", token: Self.token, json: "{}").status == 404)
            answer = try await provhook.call(.PATCH, "/v1/tenants/acme", token: Self.token, json: #"{"name":""}"#)
            #expect(answer.status == 400 && !answer.body.contains("whsec_"), "\(answer.status) \(answer.body)")

            answer = try await provhook.get("/v1/journal?tenant=acme&limit=3", token: Self.token)
            #expect(
                (answer.json["entries"] as? [[String: Any]])?.count == 3,
                "HTTP \(answer.status): \(answer.body.prefix(500))")
            answer = try await provhook.get(
                "/v1/journal?tenant=acme&after_id=0&limit=1000&format=csv", token: Self.token)
            #expect(answer.status == 200)
            let lines = answer.body.split(separator: "\r\n")
            #expect(lines.first == "id,at,tenant_id,mac,actor,action,outcome,event_id,detail")
            #expect(lines.count > 10)
            #expect(try await provhook.get("/v1/journal?since=yesterday", token: Self.token).status == 400)

            answer = try await provhook.call(
                .POST, "/v1/reconcile", token: Self.token, json: #"{"dry_run":true,"tenant":"acme"}"#)
            #expect(answer.status == 200)
            #expect(answer.json["devices_checked"] != nil)
            // A body past the limit is refused whole: it is never read as an empty body, which would run a live
            // reconcile with the defaults.
            let runs = try await database.store.journal(JournalFilter(action: "reconcile.run")).count
            let padded = #"{"dry_run":true,"pad":""# + String(repeating: "x", count: 70 * 1024) + #""}"#
            answer = try await provhook.call(.POST, "/v1/reconcile", token: Self.token, json: padded)
            #expect(answer.status == 413 && answer.errorCode == "too_large", "\(answer.status)")
            #expect(try await database.store.journal(JournalFilter(action: "reconcile.run")).count == runs)
            let adminRows = try await database.store.journal(JournalFilter(action: "tenant.add"))
            #expect(adminRows.contains { $0.actor == "admin:127.0.0.1" && $0.tenantID == "beta" })
        }
    }

    @Test("the OpenAPI document is valid OpenAPI and lists exactly the routes the server answers")
    func openAPI() async throws {
        try await self.withAdmin { provhook, database, _ in
            _ = try await database.store.addSource(name: "src", kind: .kazoo, tenantID: "acme", actor: "cli:test")
            let answer = try await provhook.get("/openapi.yaml")
            #expect(answer.status == 200)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID()).yaml").path
            try answer.body.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let validation = try await Self.python(
                "import sys, yaml, json; from openapi_spec_validator import validate; d = yaml.safe_load(open(sys.argv[1])); validate(d); "
                    + "print(json.dumps(sorted(m.upper() + ' ' + p for p, ops in d['paths'].items() for m in ops if m in ('get', 'put', 'post', 'patch', 'delete'))))",
                path)
            #expect(validation.status == 0, "\(validation.error)")
            let documented = try JSONDecoder().decode([String].self, from: Data(validation.output.utf8))
            let served = [
                "GET /healthz", "GET /metrics", "GET /openapi.yaml", "GET /readyz", "GET /v1/devices",
                "GET /v1/journal",
                "GET /v1/tenants", "PATCH /v1/tenants/{tenant}", "POST /v1/reconcile", "POST /v1/tenants",
                "GET /v1/sources/{source}/events", "POST /v1/sources/{source}/events",
                "POST /v1/tenants/{tenant}/events",
            ]
            #expect(documented == served.sorted())
            // Each documented route is answered (not 404) by its listener, and by no other: the webhook listener
            // answers webhooks and /healthz only, the admin listener everything else.
            let webhookRoutes: Set = [
                "GET /healthz", "POST /v1/tenants/{tenant}/events", "GET /v1/sources/{source}/events",
                "POST /v1/sources/{source}/events",
            ]
            for route in served {
                let parts = route.split(separator: " ")
                let concrete = parts[1].replacingOccurrences(of: "{tenant}", with: "acme")
                    .replacingOccurrences(of: "{source}", with: "src")
                let method: HTTPMethodName = parts[0] == "GET" ? .GET : (parts[0] == "POST" ? .POST : .PATCH)
                for onWebhookPort in [false, true] {
                    let status = try await provhook.call(
                        method.nio, concrete, token: Self.token, json: "{}", onWebhookPort: onWebhookPort
                    ).status
                    let listener = onWebhookPort ? "webhook" : "admin"
                    if onWebhookPort == webhookRoutes.contains(route) || route == "GET /healthz" {
                        #expect(status != 404 && status != 405, "\(route) on the \(listener) listener: \(status)")
                    } else {
                        #expect(status == 404, "\(route) on the \(listener) listener answered \(status)")
                    }
                }
            }
        }
    }

    static func python(_ code: String, _ argument: String) async throws -> CommandLineRunner.Result {
        var runner = CommandLineRunner()
        runner.executablePath = "/usr/bin/env"
        return try await runner.run(["python3", "-c", code, argument])
    }
}

enum HTTPMethodName: String {
    case GET, POST, PATCH
}

extension HTTPMethodName {
    var nio: HTTPMethod {
        switch self {
        case .GET: .GET
        case .POST: .POST
        case .PATCH: .PATCH
        }
    }
}
