import Foundation
import Hummingbird
import Logging
import NIOCore
import SnomRedirect
import WebhookSignature

/// The admin HTTP API, registered only when `PROVHOOK_ADMIN_TOKEN` is set. Every route checks
/// `Authorization: Bearer <token>` in constant time. `/openapi.yaml` describes exactly these routes.
struct AdminController: Sendable {
    let token: String
    let store: Store
    let redirect: any RedirectService
    let concurrency: Int
    let logger: Logger

    func addRoutes(to router: Router<ProvHookRequestContext>) {
        router.get("/v1/devices", use: self.devices)
        router.get("/v1/journal", use: self.journal)
        router.get("/v1/tenants", use: self.listTenants)
        router.post("/v1/tenants", use: self.createTenant)
        router.patch("/v1/tenants/:tenant", use: self.updateTenant)
        router.post("/v1/reconcile", use: self.reconcile)
        router.get("/openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
    }

    /// nil when the bearer token matches; else the 401 to send.
    private func refusal(_ request: Request) -> Response? {
        guard let header = request.headers[.authorization], header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            return Self.unauthorized("missing_token", "Authorization: Bearer <PROVHOOK_ADMIN_TOKEN> is required")
        }
        guard constantTimeEquals(Array(header.dropFirst(7).utf8), Array(self.token.utf8)) else {
            return Self.unauthorized("bad_token", "the bearer token is wrong")
        }
        return nil
    }

    private static func unauthorized(_ code: String, _ message: String) -> Response {
        var response = JSONResponse.error(.unauthorized, code: code, message: message)
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }

    private static func encoded(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The answer for a tenant change that failed: a bad template or a store refusal.
    private static func failure(_ error: any Error) -> Response {
        if let error = error as? URLTemplateError {
            return JSONResponse.error(.badRequest, code: "invalid_url_template", message: error.description)
        }
        guard let error = error as? StoreError else {
            return JSONResponse.error(.internalServerError, code: "internal", message: "unexpected error")
        }
        return Self.failure(error)
    }

    private static func failure(_ error: StoreError) -> Response {
        switch error {
        case .invalid(let message): JSONResponse.error(.badRequest, code: "invalid", message: message)
        case .notFound(let message): JSONResponse.error(.notFound, code: "not_found", message: message)
        case .conflict(let message): JSONResponse.error(.conflict, code: "conflict", message: message)
        case .database: JSONResponse.error(.serviceUnavailable, code: "unavailable", message: "the database is unavailable")
        }
    }

    private static func limit(_ request: Request, default value: Int, maximum: Int) throws(AdminInputError) -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return value }
        guard let number = Int(String(text)), (1...maximum).contains(number) else {
            throw AdminInputError("limit must be an integer from 1 to \(maximum)")
        }
        return number
    }

    // MARK: - Routes

    @Sendable func devices(request: Request, context: ProvHookRequestContext) async -> Response {
        if let refusal = self.refusal(request) { return refusal }
        let query = request.uri.queryParameters
        var filter = DeviceFilter()
        do {
            filter.limit = try Self.limit(request, default: 100, maximum: 1000)
            filter.tenantID = query["tenant"].map(String.init)
            filter.afterMAC = query["after"].map(String.init)
            if let status = query["status"] {
                guard let parsed = DeviceStatus(rawValue: String(status)) else { throw AdminInputError("unknown status \(status)") }
                filter.status = parsed
            }
            if let mac = query["mac"] {
                guard let parsed = MACAddress(String(mac)) else { throw AdminInputError("mac is not a MAC address") }
                filter.mac = parsed.canonical
            }
        } catch {
            return JSONResponse.error(.badRequest, code: "invalid_query", message: (error as? AdminInputError)?.message ?? "\(error)")
        }
        do {
            let devices = try await self.store.devices(filter)
            return Self.encoded(.ok, DevicePage(devices: devices, nextAfter: devices.count == filter.limit ? devices.last?.mac : nil))
        } catch {
            return Self.failure(error)
        }
    }

    @Sendable func journal(request: Request, context: ProvHookRequestContext) async -> Response {
        if let refusal = self.refusal(request) { return refusal }
        let query = request.uri.queryParameters
        var filter = JournalFilter()
        let format = query["format"].map(String.init) ?? "json"
        do {
            guard format == "json" || format == "csv" else { throw AdminInputError("format must be json or csv") }
            filter.limit = try Self.limit(request, default: 100, maximum: 10_000)
            filter.tenantID = query["tenant"].map(String.init)
            filter.action = query["action"].map(String.init)
            if let mac = query["mac"] {
                guard let parsed = MACAddress(String(mac)) else { throw AdminInputError("mac is not a MAC address") }
                filter.mac = parsed.canonical
            }
            for (name, keyPath) in [("since", \JournalFilter.since), ("until", \JournalFilter.until)] {
                if let text = query[Substring(name)] {
                    guard let date = ISO8601DateFormatter().date(from: String(text)) else {
                        throw AdminInputError("\(name) must be an ISO 8601 time such as 2026-11-26T10:00:00Z")
                    }
                    filter[keyPath: keyPath] = date
                }
            }
            if let after = query["after_id"] {
                guard let id = Int64(String(after)) else { throw AdminInputError("after_id must be an integer") }
                filter.afterID = id
            }
        } catch {
            return JSONResponse.error(.badRequest, code: "invalid_query", message: (error as? AdminInputError)?.message ?? "\(error)")
        }
        // Paging goes forward from after_id (0 for the beginning), oldest first.
        if filter.afterID == nil, query["since"] != nil || query["after_id"] != nil { filter.afterID = 0 }
        do {
            let entries = try await self.store.journal(filter)
            if format == "csv" {
                return Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: JournalCSV.render(entries))))
            }
            return Self.encoded(.ok, JournalPage(entries: entries, nextAfterID: entries.count == filter.limit ? entries.last?.id : nil))
        } catch {
            return Self.failure(error)
        }
    }

    @Sendable func listTenants(request: Request, context: ProvHookRequestContext) async -> Response {
        if let refusal = self.refusal(request) { return refusal }
        do {
            let all = request.uri.queryParameters["include_removed"] == "true"
            return Self.encoded(.ok, TenantList(tenants: try await self.store.tenants(includeRemoved: all)))
        } catch {
            return Self.failure(error)
        }
    }

    @Sendable func createTenant(request: Request, context: ProvHookRequestContext) async -> Response {
        if let refusal = self.refusal(request) { return refusal }
        let body: TenantCreate
        do {
            body = try JSONDecoder().decode(TenantCreate.self, from: Data(buffer: try await request.body.collect(upTo: 64 * 1024)))
        } catch {
            return JSONResponse.error(.badRequest, code: "invalid_json", message: "expected {\"id\", \"url_template\", \"name\"?, \"allow_bearer\"?}")
        }
        do {
            let template = try URLTemplate(body.urlTemplate)
            let (tenant, secret) = try await self.store.addTenant(
                id: body.id, name: body.name, urlTemplate: template, allowBearer: body.allowBearer ?? false, actor: context.adminActor)
            return Self.encoded(.created, TenantWithSecret(tenant: tenant, webhookSecret: secret, repointedDevices: nil))
        } catch {
            return Self.failure(error)
        }
    }

    @Sendable func updateTenant(request: Request, context: ProvHookRequestContext) async -> Response {
        if let refusal = self.refusal(request) { return refusal }
        let id = context.parameters.get("tenant") ?? ""
        let body: TenantPatch
        do {
            body = try JSONDecoder().decode(TenantPatch.self, from: Data(buffer: try await request.body.collect(upTo: 64 * 1024)))
        } catch {
            return JSONResponse.error(.badRequest, code: "invalid_json", message: "expected {\"name\"?, \"url_template\"?, \"allow_bearer\"?, \"rotate_secret\"?}")
        }
        do {
            let template = try body.urlTemplate.map { text throws(URLTemplateError) in try URLTemplate(text) }
            let update = try await self.store.updateTenant(
                id: id, name: body.name, urlTemplate: template, allowBearer: body.allowBearer,
                rotateSecret: body.rotateSecret ?? false, actor: context.adminActor)
            return Self.encoded(.ok, TenantWithSecret(tenant: update.tenant, webhookSecret: update.newSecret, repointedDevices: update.repointedDevices))
        } catch {
            return Self.failure(error)
        }
    }

    @Sendable func reconcile(request: Request, context: ProvHookRequestContext) async -> Response {
        if let refusal = self.refusal(request) { return refusal }
        let buffer = (try? await request.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
        let body: ReconcileRequest
        do {
            body = buffer.readableBytes == 0 ? ReconcileRequest() : try JSONDecoder().decode(ReconcileRequest.self, from: Data(buffer: buffer))
        } catch {
            return JSONResponse.error(.badRequest, code: "invalid_json", message: "expected {\"tenant\"?, \"dry_run\"?, \"prune\"?}")
        }
        let reconciler = Reconciler(
            store: self.store, service: self.redirect, concurrency: self.concurrency, actor: context.adminActor.replacingOccurrences(of: "admin:", with: "reconcile:"),
            logger: self.logger)
        do {
            let summary = try await reconciler.run(tenantID: body.tenant, dryRun: body.dryRun ?? false, prune: body.prune ?? false)
            return Self.encoded(.ok, ReconcileReport(summary))
        } catch let error as StoreError {
            return Self.failure(error)
        } catch {
            return JSONResponse.error(.serviceUnavailable, code: "unavailable", message: "reconcile failed: \(error)")
        }
    }
}

struct AdminInputError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

extension ProvHookRequestContext {
    /// The journal's actor for admin API calls.
    var adminActor: String { "admin:\(self.remoteAddress?.ipAddress ?? "unknown")" }
}

struct DevicePage: Encodable {
    var devices: [Device]
    var nextAfter: String?
    enum CodingKeys: String, CodingKey { case devices, nextAfter = "next_after" }
}

struct JournalPage: Encodable {
    var entries: [JournalEntry]
    var nextAfterID: Int64?
    enum CodingKeys: String, CodingKey { case entries, nextAfterID = "next_after_id" }
}

struct TenantList: Encodable { var tenants: [Tenant] }

struct TenantCreate: Decodable {
    var id: String
    var urlTemplate: String
    var name: String?
    var allowBearer: Bool?
    enum CodingKeys: String, CodingKey { case id, name, urlTemplate = "url_template", allowBearer = "allow_bearer" }
}

struct TenantPatch: Decodable {
    var name: String?
    var urlTemplate: String?
    var allowBearer: Bool?
    var rotateSecret: Bool?
    enum CodingKeys: String, CodingKey { case name, urlTemplate = "url_template", allowBearer = "allow_bearer", rotateSecret = "rotate_secret" }
}

struct TenantWithSecret: Encodable {
    var tenant: Tenant
    var webhookSecret: String?
    var repointedDevices: Int?
    enum CodingKeys: String, CodingKey { case tenant, webhookSecret = "webhook_secret", repointedDevices = "repointed_devices" }
}

struct ReconcileRequest: Decodable {
    var tenant: String?
    var dryRun: Bool?
    var prune: Bool?
    enum CodingKeys: String, CodingKey { case tenant, dryRun = "dry_run", prune }
}

struct ReconcileReport: Encodable {
    struct Item: Encodable {
        var kind: String
        var mac: String?
        var tenant: String?
        var expected: String?
        var actual: String?
        var action: String
    }
    var devicesChecked: Int
    var inSync: Int
    var findings: [Item]
    enum CodingKeys: String, CodingKey { case devicesChecked = "devices_checked", inSync = "in_sync", findings }

    init(_ summary: Reconciler.Summary) {
        self.devicesChecked = summary.devicesChecked
        self.inSync = summary.inSync
        self.findings = summary.findings.map {
            Item(kind: $0.kind, mac: $0.mac.isEmpty ? nil : $0.mac, tenant: $0.tenantID, expected: $0.expected, actual: $0.actual, action: $0.action)
        }
    }
}

/// The journal as CSV (RFC 4180), with cells that spreadsheets would run as formulas made inert.
enum JournalCSV {
    static func render(_ entries: [JournalEntry]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = "id,at,tenant_id,mac,actor,action,outcome,event_id,detail\r\n"
        let formatter = ISO8601DateFormatter()
        for entry in entries {
            let detail = String(decoding: (try? encoder.encode(entry.detail)) ?? Data(), as: UTF8.self)
            let cells = [
                entry.id.map(String.init) ?? "", entry.at.map(formatter.string) ?? "", entry.tenantID ?? "", entry.mac ?? "",
                entry.actor, entry.action, entry.outcome, entry.eventID ?? "", detail,
            ]
            out += cells.map(Self.cell).joined(separator: ",") + "\r\n"
        }
        return out
    }

    static func cell(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
