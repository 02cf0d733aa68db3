import Hummingbird
import Integrations
import Logging
import ProvHookCore
import ProvHookTestSupport
import Testing

@testable import ProvHookServer

/// The routes each listener's router registers, as `METHOD /path`, built by the functions `buildApplication` uses.
/// Registering a route never touches the store, so any store does.
enum ServedRoutes {
    /// The two listeners' routers, the admin API on.
    static func routers(
        store: Store
    ) -> (webhook: Router<ProvHookRequestContext>, admin: Router<ProvHookRequestContext>) {
        let logger = Logger(label: "routes")
        let metrics = ProvHookMetrics()
        let planner = EventPlanner()
        let intake = Intake(
            store: store, planner: planner, metrics: metrics, deliverySignal: WorkSignal(), lookupSignal: WorkSignal())
        let webhook = buildWebhookRouter(
            webhooks: WebhookController(
                store: store, intake: intake, platform: Platforms.native, metrics: metrics, logger: logger),
            sources: SourceWebhookController(store: store, intake: intake, metrics: metrics, logger: logger))
        let admin = buildAdminRouter(
            operations: OperationsController(
                store: store, health: { [:] }, metrics: metrics, recording: RecordingHealth()),
            admin: AdminController(
                store: store, makeService: { _ in AccountService(service: DryRunProvisioningService()) },
                concurrency: 1,
                planner: planner, webhookListener: WebhookListenerAddress(scheme: "http", host: "127.0.0.1"),
                logger: logger),
            token: "admin-token-0123456789abcdef")
        return (webhook, admin)
    }

    static func of(store: Store) -> (webhook: Set<String>, admin: Set<String>) {
        let routers = Self.routers(store: store)
        return (Self.names(routers.webhook), Self.names(routers.admin))
    }

    static func names(_ router: Router<ProvHookRequestContext>) -> Set<String> {
        Set(router.routes.map { "\($0.method.rawValue) \($0.path)" })
    }

    /// The document's operations as `METHOD /path`, and the paths it sends to the webhook listener (`servers:`), read
    /// from its `paths:` block (two spaces before a path, four before an operation or `servers`).
    static func documented(_ yaml: String) -> (operations: Set<String>, webhookPaths: Set<String>) {
        var operations = Set<String>()
        var webhookPaths = Set<String>()
        var path: String?
        for line in yaml.split(separator: "\n").drop(while: { $0 != "paths:" }).dropFirst() {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path {
                let key = line.dropFirst(4).prefix { $0 != ":" }
                if ["get", "put", "post", "patch", "delete"].contains(key) {
                    operations.insert("\(key.uppercased()) \(path)")
                } else if key == "servers" {
                    webhookPaths.insert(path)
                }
            } else if !line.hasPrefix(" ") {
                break
            }
        }
        return (operations, webhookPaths)
    }
}

@Suite("Route tables")
struct RouteTableTests {
    @Test("each listener's 405 table is the routes its router registered, path by path")
    func methodNotAllowedTables() async throws {
        try await TestDatabase.with { database in
            let routers = ServedRoutes.routers(store: database.store)
            for router in [routers.webhook, routers.admin] {
                let table = MethodNotAllowedMiddleware<ProvHookRequestContext>(routes: router.routes).routes
                let fromTable = Set(table.flatMap { path, methods in methods.map { "\($0.rawValue) \(path)" } })
                #expect(fromTable == ServedRoutes.names(router))
                #expect(table.values.allSatisfy { Set($0).count == $0.count }, "a method listed twice: \(table)")
            }
        }
    }

    @Test("the OpenAPI document names exactly the routes the two routers serve, webhooks on the webhook listener")
    func openAPIPaths() async throws {
        try await TestDatabase.with { database in
            let served = ServedRoutes.of(store: database.store)
            let documented = ServedRoutes.documented(OpenAPIDocument.yaml)
            #expect(!documented.operations.isEmpty, "the paths block was read")
            #expect(documented.operations == served.webhook.union(served.admin))
            // `/healthz` is on both listeners; every other webhook route names the webhook listener as its server.
            let webhookOnly = Set(served.webhook.subtracting(served.admin).map { String($0.split(separator: " ")[1]) })
            #expect(documented.webhookPaths == webhookOnly)
            #expect(OpenAPIDocument.yaml.contains(OpenAPIDocument.defaultWebhookListener))
        }
    }
}
