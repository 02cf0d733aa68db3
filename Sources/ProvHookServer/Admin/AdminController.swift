import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ProvHookCore
import ProvisioningModel

/// The admin HTTP API, registered only when `PROVHOOK_ADMIN_TOKEN` is set. Its routes form one group behind
/// `BearerTokenMiddleware`; `/openapi.yaml` describes exactly these routes.
struct AdminController: Sendable {
    /// The largest request body accepted: 64 KiB.
    static let maxBodyBytes = 64 * 1024

    let store: Store
    /// The service of each redirection account, for reconcile.
    let makeService: AccountServiceFactory
    let concurrency: Int
    /// The planner of imported devices: the same vendor filter as webhooks.
    let planner: EventPlanner
    /// Where the webhook listener answers, named in the OpenAPI document's webhook paths.
    let webhookListener: WebhookListenerAddress
    let logger: Logger

    /// Adds the routes, the API's behind `token`.
    func addRoutes(to router: Router<ProvHookRequestContext>, token: String) {
        let group = router.group("/v1").add(middleware: BearerTokenMiddleware(token: token))
        SourceAdminController(store: self.store).addRoutes(to: group)
        AccountAdminController(store: self.store).addRoutes(to: group)
        DeviceAdminController(store: self.store, planner: self.planner).addRoutes(to: group)
        group
            .get("devices", use: self.devices)
            .get("journal", use: self.journal)
            .get("tenants", use: self.listTenants)
            .post("tenants", use: self.createTenant)
            .patch("tenants/:tenant", use: self.updateTenant)
            .post("reconcile", use: self.reconcile)
        router.get("/openapi.yaml") { [webhookListener] request, _ in
            let url = webhookListener.url(requestHost: request.head.authority)
            return Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml(webhookListener: url))))
        }
    }

    // MARK: - Routes

    /// An RFC 3339 date-time, as the document's `format: date-time` says: fractional seconds and a lowercase `t` or
    /// `z` allowed.
    static func dateTime(_ text: String) -> Date? {
        let text = text.uppercased()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }

    @Sendable func devices(request: Request, context: ProvHookRequestContext) async throws -> DevicePage {
        let query = request.uri.queryParameters
        var filter = DeviceFilter()
        filter.limit = try Self.limit(query, default: 100, maximum: 1000)
        filter.tenantID = try Self.tenant(query)
        if let after = query["after"] {
            guard let mac = MACAddress(String(after)) else {
                throw Self.invalidQuery("after must be the next_after of the previous page, a MAC address")
            }
            filter.afterMAC = mac.canonical
        }
        if let status = query["status"] {
            guard let parsed = DeviceStatus(rawValue: String(status)) else {
                throw Self.invalidQuery("unknown status \(status)")
            }
            filter.status = parsed
        }
        if let vendor = query["vendor"] { filter.vendor = try Self.vendor(String(vendor)) }
        filter.mac = try Self.mac(query)
        let devices = try await Self.answer { try await self.store.devices(filter) }
        return DevicePage(devices: devices, nextAfter: devices.count == filter.limit ? devices.last?.mac : nil)
    }

    @Sendable func journal(request: Request, context: ProvHookRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var filter = JournalFilter()
        let format = query["format"].map(String.init) ?? "json"
        guard format == "json" || format == "csv" else { throw Self.invalidQuery("format must be json or csv") }
        filter.limit = try Self.limit(query, default: 100, maximum: 10_000)
        filter.tenantID = try Self.tenant(query)
        filter.action = query["action"].map(String.init)
        filter.mac = try Self.mac(query)
        for (name, keyPath) in [("since", \JournalFilter.since), ("until", \JournalFilter.until)] {
            if let text = query[Substring(name)] {
                guard let date = Self.dateTime(String(text)) else {
                    throw Self.invalidQuery("\(name) must be an ISO 8601 time such as 2026-11-26T10:00:00Z")
                }
                filter[keyPath: keyPath] = date
            }
        }
        if let after = query["after_id"] {
            guard let id = Int64(String(after)) else { throw Self.invalidQuery("after_id must be an integer") }
            filter.afterID = id
        }
        // Paging goes forward from after_id (0 for the beginning), oldest first.
        if filter.afterID == nil, query["since"] != nil { filter.afterID = 0 }
        let entries = try await Self.answer { try await self.store.journal(filter) }
        if format == "csv" {
            return Response(
                status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: JournalCSV.render(entries))))
        }
        return try JournalPage(entries: entries, nextAfterID: entries.count == filter.limit ? entries.last?.id : nil)
            .response(from: request, context: context)
    }

    @Sendable func listTenants(request: Request, context: ProvHookRequestContext) async throws -> TenantList {
        let all = try Self.includeRemoved(request)
        return TenantList(tenants: try await Self.answer { try await self.store.tenants(includeRemoved: all) })
    }

    @Sendable func createTenant(
        request: Request, context: ProvHookRequestContext
    ) async throws -> EditedResponse<TenantWithSecret> {
        let body = try await Self.decode(
            TenantCreate.self, request,
            expected:
                "{\"id\", \"url_template\", \"name\"?, \"allow_bearer\"?, \"mac_prefixes\"?, \"accounts\"?, \"vendor_url_templates\"?}"
        )
        let template = try Self.template(body.urlTemplate)
        var vendorTemplates: [Vendor: URLTemplate] = [:]
        for (name, text) in body.vendorURLTemplates ?? [:] {
            vendorTemplates[try Self.vendor(name)] = try Self.template(text)
        }
        let (tenant, secret) = try await Self.answer {
            try await self.store.addTenant(
                id: body.id, name: body.name, urlTemplate: template, allowBearer: body.allowBearer ?? false,
                macRanges: try body.macPrefixes.flatMap { list throws(StoreError) in try MACRanges(list) },
                accounts: (body.account.map { [$0] } ?? []) + (body.accounts ?? []),
                vendorURLTemplates: vendorTemplates, actor: context.adminActor)
        }
        return EditedResponse(
            status: .created, response: TenantWithSecret(tenant: tenant, webhookSecret: secret, repointedDevices: nil))
    }

    @Sendable func updateTenant(request: Request, context: ProvHookRequestContext) async throws -> TenantWithSecret {
        let id = context.parameters.get("tenant") ?? ""
        let body = try await Self.decode(
            TenantPatch.self, request,
            expected:
                "{\"name\"?, \"url_template\"?, \"allow_bearer\"?, \"rotate_secret\"?, \"mac_prefixes\"?, \"accounts\"?, \"drop_accounts\"?, \"vendor_url_templates\"?}"
        )
        let template = try body.urlTemplate.map(Self.template)
        let accounts = (body.account.map { [$0] } ?? []) + (body.accounts ?? [])
        var dropped: [Vendor] = []
        for name in body.dropAccounts ?? [] { dropped.append(try Self.vendor(name)) }
        var vendorTemplates: [Vendor: URLTemplate?] = [:]
        for (name, text) in body.vendorURLTemplates ?? [:] {
            vendorTemplates[try Self.vendor(name)] = try text.map(Self.template)
        }
        let update = try await Self.answer {
            let ranges: MACRanges?? = try body.macPrefixes.map { list throws(StoreError) in try MACRanges(list) }
            return try await self.store.updateTenant(
                id: id, name: body.name, urlTemplate: template, allowBearer: body.allowBearer, macRanges: ranges,
                rotateSecret: body.rotateSecret ?? false, accounts: accounts, dropAccounts: dropped,
                vendorURLTemplates: vendorTemplates, actor: context.adminActor)
        }
        return TenantWithSecret(
            tenant: update.tenant, webhookSecret: update.newSecret, repointedDevices: update.repointedDevices,
            movingDevices: accounts.isEmpty && dropped.isEmpty ? nil : update.movingDevices)
    }

    @Sendable func reconcile(request: Request, context: ProvHookRequestContext) async throws -> ReconcileReport {
        let buffer = try await Self.body(request)
        let body: ReconcileRequest
        do {
            body =
                buffer.readableBytes == 0
                ? ReconcileRequest()
                : try JSONDecoder().decode(ReconcileRequest.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest("invalid_json", "expected {\"tenant\"?, \"dry_run\"?, \"prune\"?}")
        }
        do {
            return ReconcileReport(
                try await Reconciler.runPerAccount(
                    store: self.store, makeService: self.makeService, concurrency: self.concurrency,
                    actor: JournalActor.reconcile(by: context.peer).rawValue, logger: self.logger,
                    tenantID: body.tenant,
                    dryRun: body.dryRun ?? false, prune: body.prune ?? false))
        } catch let error as StoreError {
            throw APIError(error)
        } catch {
            throw APIError.unavailable("reconcile failed: \(error)")
        }
    }

    // MARK: - Input and errors

    private static func invalidQuery(_ message: String) -> APIError { .badRequest("invalid_query", message) }

    /// The `include_removed` query parameter: `true` or `false` (the default).
    static func includeRemoved(_ request: Request) throws(APIError) -> Bool {
        switch request.uri.queryParameters["include_removed"] {
        case nil, "false": return false
        case "true": return true
        default: throw Self.invalidQuery("include_removed must be true or false")
        }
    }

    private static func limit(_ query: Parameters, default value: Int, maximum: Int) throws(APIError) -> Int {
        guard let text = query["limit"] else { return value }
        guard let number = Int(String(text)), (1...maximum).contains(number) else {
            throw Self.invalidQuery("limit must be an integer from 1 to \(maximum)")
        }
        return number
    }

    /// The `tenant` query parameter: a tenant id as tenants are named (no id with another character exists, and the
    /// database would refuse some, such as U+0000), or a 400.
    static func tenant(_ query: Parameters) throws(APIError) -> String? {
        guard let text = query["tenant"].map(String.init) else { return nil }
        do {
            try Tenant.validate(id: text)
        } catch {
            throw Self.invalidQuery(error.description)
        }
        return text
    }

    private static func mac(_ query: Parameters) throws(APIError) -> String? {
        guard let text = query["mac"] else { return nil }
        guard let mac = MACAddress(String(text)) else { throw Self.invalidQuery("mac is not a MAC address") }
        return mac.canonical
    }

    /// A vendor named in a request: its slug, or a brand such as `Polycom`.
    private static func vendor(_ text: String) throws(APIError) -> Vendor {
        guard let vendor = Vendor(brand: text) else {
            throw .badRequest(
                "invalid_vendor",
                "a vendor is 1 to 32 letters, digits or '-', like snom or yealink; got \(String(text.prefix(40)).debugDescription)"
            )
        }
        return vendor
    }

    private static func template(_ text: String) throws(APIError) -> URLTemplate {
        do {
            return try URLTemplate(text)
        } catch {
            throw .badRequest("invalid_url_template", error.description)
        }
    }

    /// The whole body, or 413 when it is larger than `maxBodyBytes`: never a truncated or empty stand-in.
    static func body(_ request: Request) async throws(APIError) -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, code: "too_large", message: "the body exceeds \(Self.maxBodyBytes) bytes")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ request: Request, expected: String) async throws -> T {
        let buffer = try await Self.body(request)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest("invalid_json", "expected \(expected)")
        }
    }

    /// Runs a store operation, answering its refusal as the matching HTTP error.
    static func answer<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            throw APIError(error)
        }
    }
}

extension APIError {
    /// A store refusal as an HTTP answer: 400, 404, 409, 500 when the secret key cannot seal or open a secret
    /// (a misconfiguration the message names), or 503 while the database is unavailable.
    init(_ error: StoreError) {
        switch error {
        case .invalid(let message): self.init(.badRequest, code: "invalid", message: message)
        case .notFound(let message): self.init(.notFound, code: "not_found", message: message)
        case .conflict(let message): self.init(.conflict, code: "conflict", message: message)
        case .database: self.init(.serviceUnavailable, code: "unavailable", message: "the database is unavailable")
        case .secretKey(let message): self.init(.internalServerError, code: "secret_key", message: message)
        }
    }
}
