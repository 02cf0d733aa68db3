import Foundation
import HTTPTypes
import NIOHTTP1
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import Testing

@testable import ProvHookServer

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
                (.PATCH, "/v1/tenants/acme"), (.POST, "/v1/reconcile"), (.GET, "/v1/sources"), (.POST, "/v1/sources"),
                (.PATCH, "/v1/sources/src"), (.DELETE, "/v1/sources/src"), (.POST, "/v1/devices"),
                (.GET, "/v1/devices/000413000001"),
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

    @Test("one device with its advice and history; a CSV import, refused rows and all; the refusals")
    func devicesAndImport() async throws {
        try await EndToEnd.run(adminToken: Self.token) { run in
            let provhook = run.provhook
            let csv = "mac,device_id,extension,model\n00:04:13:00:08:01,d1,101,snomD785\nbad,d2,102,snomD785\n"
            var answer = try await provhook.call(
                .POST, "/v1/devices?tenant=acme", token: Self.token, body: csv, contentType: "text/csv")
            #expect(answer.status == 200, "\(answer.body)")
            #expect(answer.json["wrote_nothing"] as? Bool == true && answer.json["accepted"] as? Int == 0)
            let refused = answer.json["refused"] as? [[String: Any]]
            #expect(refused?.first?["line"] as? Int == 3 && refused?.first?["reason"] as? String == "malformed MAC")
            #expect(try await run.device("000413000801") == nil)

            answer = try await provhook.call(
                .POST, "/v1/devices?tenant=acme&partial=true", token: Self.token, body: csv,
                contentType: "text/csv; charset=utf-8")
            #expect(answer.status == 200 && answer.json["accepted"] as? Int == 1, "\(answer.body)")
            try await eventually("registered") { try await run.device("000413000801")?.status == .registered }
            let rows = try await run.store.journal(JournalFilter(mac: "000413000801", action: "event.device.added"))
            #expect(rows.first?.actor.hasPrefix("import:admin:") == true)

            answer = try await provhook.call(.POST, "/v1/devices?tenant=acme", token: Self.token, json: "{}")
            #expect(answer.status == 415 && answer.errorCode == "unsupported_media_type")
            answer = try await provhook.call(
                .POST, "/v1/devices", token: Self.token, body: "nothing,like,a,header\n", contentType: "text/csv")
            #expect(answer.status == 400 && answer.errorCode == "invalid_csv")
            answer = try await provhook.call(
                .POST, "/v1/devices?partial=maybe", token: Self.token, body: csv, contentType: "text/csv")
            #expect(answer.status == 400 && answer.errorCode == "invalid_query")

            answer = try await provhook.get("/v1/devices/00-04-13-00-08-01?limit=1", token: Self.token)
            #expect(answer.status == 200, "\(answer.body)")
            #expect((answer.json["device"] as? [String: Any])?["status"] as? String == "registered")
            #expect((answer.json["history"] as? [[String: Any]])?.count == 1)
            #expect((answer.json["last_applied"] as? [String: Any])?["action"] as? String == "redirect.registerPhone")
            #expect(answer.json["pin"] == nil, "no PIN kept")
            // A PIN the phone's service keeps: shown with the one device, never in the listing.
            try await run.store.keepDevicePINs([MACAddress("000413000801")!: "Q7PIN42"])
            answer = try await provhook.get("/v1/devices/000413000801", token: Self.token)
            #expect(answer.json["pin"] as? String == "Q7PIN42", "\(answer.body)")
            let listing = try await provhook.get("/v1/devices?tenant=acme", token: Self.token)
            #expect(listing.status == 200 && !listing.body.contains("Q7PIN42"), "\(listing.body)")
            #expect(try await provhook.get("/v1/devices/000413000899", token: Self.token).status == 404)
            answer = try await provhook.get("/v1/devices/zz", token: Self.token)
            #expect(answer.status == 400 && answer.errorCode == "malformed_mac")
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
            // An event id that a spreadsheet would run as a formula is written inert.
            #expect(
                try await provhook.send(
                    tenant: "acme", body: #"{"type":"device.added","mac":"0004130000AA"}"#, secret: secret,
                    id: "=1+2"
                ).status == 202)
            try await eventually("the re-point and the new device applied: the journal stops growing") {
                try await database.store.devices(DeviceFilter(tenantID: "acme", status: .registered)).count == 6
            }
            let page = try await provhook.get("/v1/journal?tenant=acme&after_id=0&limit=1000", token: Self.token)
            let ids = ((page.json["entries"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? Int }
            answer = try await provhook.get(
                "/v1/journal?tenant=acme&after_id=0&limit=1000&format=csv", token: Self.token)
            #expect(answer.status == 200)
            let lines = answer.body.split(separator: "\r\n")
            #expect(lines.first == "id,at,tenant_id,mac,actor,action,outcome,event_id,detail")
            // Details are compact JSON with no raw line break, so a line is a row: the same rows as the JSON page.
            #expect(lines.dropFirst().compactMap { Int($0.prefix { $0 != "," }) } == ids && ids.count > 10)
            #expect(lines.contains { $0.contains(",'=1+2,") } && !lines.contains { $0.contains(",=1+2,") })
            #expect(try await provhook.get("/v1/journal?since=yesterday", token: Self.token).status == 400)

            answer = try await provhook.call(
                .POST, "/v1/reconcile", token: Self.token, json: #"{"dry_run":true,"tenant":"acme"}"#)
            #expect(answer.status == 200)
            // Six devices of acme are registered at the stand-in, as the database says: nothing to report.
            #expect(
                answer.json["devices_checked"] as? Int == 6 && answer.json["in_sync"] as? Int == 6, "\(answer.body)")
            #expect((answer.json["findings"] as? [Any])?.isEmpty == true, "\(answer.body)")
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

    @Test("sources through the admin API: the token shown once, the API secret never, kinds kept apart")
    func sources() async throws {
        try await self.withAdmin { provhook, database, _ in
            let secret = String(repeating: "ab", count: 32)
            var answer = try await provhook.call(
                .POST, "/v1/sources", token: Self.token,
                json:
                    #"{"name":"k1","kind":"kazoo","tenant":"acme","api":{"url":"https://kazoo.example:8443/v2","secret":"\#(secret)"}}"#
            )
            #expect(answer.status == 201, "\(answer.body)")
            let token = try #require(answer.json["token"] as? String)
            #expect(token.hasPrefix("phsrc_") && !answer.body.contains(secret))
            answer = try await provhook.call(
                .POST, "/v1/sources", token: Self.token, json: #"{"name":"k1","kind":"kazoo","tenant":"acme"}"#)
            #expect(answer.status == 409)
            answer = try await provhook.call(
                .POST, "/v1/sources", token: Self.token,
                json: #"{"name":"m1","kind":"mapping","tenant":"acme","mapping":{"format":"json","event":"event"}}"#)
            #expect(answer.status == 400 && answer.errorCode == "invalid_mapping", "\(answer.body)")
            answer = try await provhook.call(
                .POST, "/v1/sources", token: Self.token, json: #"{"name":"w1","kind":"wazo","tenant":"nobody"}"#)
            #expect(answer.status == 404)

            answer = try await provhook.get("/v1/sources", token: Self.token)
            #expect(answer.status == 200 && answer.body.contains("kazoo.example"), "\(answer.body)")
            #expect(!answer.body.contains(secret) && !answer.body.contains(token), "no secret is listed")

            answer = try await provhook.call(
                .PATCH, "/v1/sources/k1", token: Self.token,
                json: #"{"accounts":{"a1b2c3d4e5f60718293a4b5c6d7e8f90":"acme"},"rotate_token":true}"#)
            #expect(answer.status == 200, "\(answer.body)")
            let rotated = try #require(answer.json["token"] as? String)
            #expect(rotated != token)
            answer = try await provhook.call(
                .PATCH, "/v1/sources/k1", token: Self.token,
                json:
                    #"{"mapping":{"format":"json","event":"/e","events":{"a":"device.added"},"mac":"/m","device_id":"/d"}}"#
            )
            #expect(answer.status == 409, "a Kazoo source has no mapping: \(answer.body)")
            answer = try await provhook.call(.DELETE, "/v1/sources/k1", token: Self.token, json: nil)
            #expect(answer.status == 204)
            #expect(try await provhook.call(.DELETE, "/v1/sources/k1", token: Self.token, json: nil).status == 404)
            let journal = try await database.store.journal(JournalFilter(limit: 100))
            #expect(journal.contains { $0.action == "source.remove" && $0.actor == "admin:127.0.0.1" })
            #expect(!"\(journal)".contains(secret) && !"\(journal)".contains(rotated))
        }
    }

    @Test("the OpenAPI document is valid OpenAPI and lists exactly the routes the server answers")
    func openAPI() async throws {
        try await self.withAdmin { provhook, database, _ in
            _ = try await database.store.addSource(name: "src", kind: .kazoo, tenantID: "acme", actor: "cli:test")
            let answer = try await provhook.get("/openapi.yaml")
            #expect(answer.status == 200)
            let validation = try await TemporaryFile.with(answer.body, suffix: ".yaml") { path in
                try await Self.python(
                    "import sys, yaml, json; from openapi_spec_validator import validate; d = yaml.safe_load(open(sys.argv[1])); validate(d); "
                        + "print(json.dumps(sorted(m.upper() + ' ' + p for p, ops in d['paths'].items() for m in ops if m in ('get', 'put', 'post', 'patch', 'delete'))))",
                    path)
            }
            #expect(validation.status == 0, "\(validation.error)")
            let documented = try JSONDecoder().decode([String].self, from: Data(validation.output.utf8))
            // What the listeners' routers serve, which their 405 tables are made of; each is then called below, so a
            // route the running server does not answer fails too.
            let routers = ServedRoutes.of(store: database.store)
            var served = Array(routers.webhook.union(routers.admin))
            // Last: it removes the source the routes above use.
            served.sort {
                ($0 == "DELETE /v1/sources/{source}" ? 1 : 0, $0) < ($1 == "DELETE /v1/sources/{source}" ? 1 : 0, $1)
            }
            #expect(documented == served.sorted())
            // Each documented route is answered (not 404) by its listener, and by no other: the webhook listener
            // answers webhooks and /healthz only, the admin listener everything else.
            let webhookRoutes: Set = [
                "GET /healthz", "POST /v1/tenants/{tenant}/events", "GET /v1/sources/{source}/events",
                "POST /v1/sources/{source}/events",
            ]
            #expect(routers.webhook == webhookRoutes, "the webhook listener's router serves webhooks and /healthz only")
            for route in served {
                let parts = route.split(separator: " ")
                // A malformed MAC: the route's own 400, where an unknown one would be a 404 like the router's.
                let concrete = parts[1].replacingOccurrences(of: "{tenant}", with: "acme")
                    .replacingOccurrences(of: "{source}", with: "src").replacingOccurrences(of: "{mac}", with: "zz")
                    .replacingOccurrences(of: "{account}", with: "default")
                let method = try #require(HTTPMethodName(rawValue: String(parts[0])))
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
    case GET, POST, PATCH, DELETE
}

extension HTTPMethodName {
    var nio: HTTPMethod {
        switch self {
        case .GET: .GET
        case .POST: .POST
        case .DELETE: .DELETE
        case .PATCH: .PATCH
        }
    }
}
