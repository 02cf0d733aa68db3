import AsyncHTTPClient
import EventSources
import Hummingbird
import Logging
import PostgresNIO
import ProvHookCore
import ServiceLifecycle
import SnomRedirect

/// Builds provhook's application: the webhook listener and operations routes, plus the PostgreSQL pool, the
/// HTTP client and the delivery worker as services. Used by `provhook serve` and by the tests alike.
///
/// - Parameters:
///   - redirectService: the service to call; nil makes a `RedirectClient` from the configuration.
///   - onServerRunning: called with the bound port once the listener accepts connections.
public func buildApplication(
    _ configuration: ServeConfiguration, logger: Logger, metrics: ProvHookMetrics = ProvHookMetrics(),
    redirectService: (any RedirectService)? = nil, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let postgres = PostgresClient(
        configuration: try configuration.database.clientConfiguration(maxConnections: configuration.databasePoolSize),
        backgroundLogger: logger.forPostgres)
    let store = Store(client: postgres, logger: logger, deadline: configuration.databaseDeadline)
    var services: [any Service] = [postgres]

    let redirect: any RedirectService
    if let redirectService {
        redirect = redirectService
    } else if configuration.delivery.isDryRun {
        redirect = DryRunRedirectService()
    } else {
        let httpClient = try RedirectClient.makeHTTPClient(configuration: configuration.redirect)
        services.append(HTTPClientService(client: httpClient))
        redirect = RedirectClient(configuration: configuration.redirect, httpClient: httpClient, logger: logger)
    }

    let delivery = Delivery(
        store: store, redirect: redirect, configuration: configuration.delivery, metrics: metrics,
        listenURL: configuration.database, logger: logger)
    services.append(delivery.worker)
    services.append(JournalSealer(chain: JournalChain(store: store), logger: logger))
    services.append(EventRetention(store: store, retention: configuration.eventRetention, logger: logger))

    let router = Router(context: ProvHookRequestContext.self)
    router.add(middleware: ErrorBodyMiddleware())
    WebhookController(
        store: store, planner: EventPlanner(vendors: configuration.vendors), signal: delivery.signal,
        source: NativeWebhookSource(), metrics: metrics, logger: logger
    ).addRoutes(to: router)
    OperationsController(store: store, health: delivery.health, metrics: metrics).addRoutes(to: router)
    if let token = configuration.adminToken {
        AdminController(
            store: store, redirect: redirect, concurrency: configuration.delivery.concurrency, logger: logger
        ).addRoutes(to: router, token: token)
    }

    return Application(
        router: router,
        // A keep-alive connection idle for a minute is closed: a PBX reconnects, and idle sockets cannot pile up.
        server: .http1(configuration: .init(idleTimeout: .seconds(60))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}

/// Shuts the process's HTTP client down once the service group stops.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await self.client.shutdown()
    }
}
