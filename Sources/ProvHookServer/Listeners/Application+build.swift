import AsyncHTTPClient
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Integrations
import Logging
import PostgresNIO
import ProvHookCore
import ProvisioningModel
import ServiceLifecycle
import SnomXMLRPC
import Synchronization
import VendorRegistry

/// The ports provhook's two listeners are bound to (useful when they were asked for port 0).
public struct ListeningPorts: Sendable, Equatable {
    /// The webhook listener: webhooks and `/healthz`.
    public var webhook: Int
    /// The admin listener: the admin API, `/metrics`, `/readyz` and `/openapi.yaml`.
    public var admin: Int

    public init(webhook: Int, admin: Int) {
        self.webhook = webhook
        self.admin = admin
    }
}

/// Builds provhook's application: the webhook listener (HTTPS when `configuration.tls` is set), the admin
/// listener, and as services the PostgreSQL pool, the HTTP client, the delivery worker, the journal sealer and
/// the event retention. Used by `provhook serve` and by the tests alike.
///
/// The webhook listener is the one a PBX reaches, often over the internet, so it answers nothing but webhooks and
/// `/healthz`. Everything an operator uses is on the admin listener, which binds to loopback unless told otherwise.
///
/// - Parameters:
///   - redirectService: the service to call; nil makes a `RedirectClient` from the configuration.
///   - registry: the provisioning services accounts may be of; nil: `ServiceRegistry.standard` (tests add kinds).
///   - directories: the PBX API clients of the sources' lookups (tests may give stand-ins of their own).
///   - onServerRunning: called once both listeners accept connections, with their ports.
public func buildApplication(
    _ configuration: ServeConfiguration, logger: Logger, metrics: ProvHookMetrics = ProvHookMetrics(),
    redirectService: (any ProvisioningService)? = nil, registry: ServiceRegistry? = nil,
    directories: DirectoryCache = DirectoryCache(factory: Platforms.makeDirectory),
    onServerRunning: @escaping @Sendable (ListeningPorts) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let postgres = PostgresClient(
        configuration: try configuration.database.clientConfiguration(
            maxConnections: configuration.databasePoolSize, lockTimeout: configuration.databaseDeadline),
        backgroundLogger: logger.forPostgres)
    let store = Store(
        client: postgres, logger: logger, deadline: configuration.databaseDeadline, secrets: configuration.secrets,
        ingestBatch: configuration.ingestBatch)
    var services: [any Service] = [postgres]

    let redirect: any ProvisioningService
    if let redirectService {
        redirect = redirectService
    } else if configuration.delivery.isDryRun {
        redirect = DryRunProvisioningService()
    } else {
        let httpClient = try RedirectClient.makeHTTPClient(configuration: configuration.redirect)
        services.append(HTTPClientService(client: httpClient))
        redirect = RedirectClient(configuration: configuration.redirect, httpClient: httpClient, logger: logger)
    }

    // Each redirection account has its own worker and client; `default` uses the one made above.
    let base = configuration.redirect
    let isDryRun = configuration.delivery.isDryRun
    let clients = AccountService.factory(
        default: redirect,
        registry: registry
            ?? ServiceRegistry.standard(
                snomXMLRPC: base, allowsPlainHTTP: Settings().allowsPlainHTTPRedirect, logger: logger))
    let makeService: AccountServiceFactory = { account in
        if isDryRun, !account.isDefault { return AccountService(service: DryRunProvisioningService()) }
        return try clients(account)
    }
    let delivery = AccountDelivery(
        store: store, configuration: configuration.delivery, metrics: metrics, listenURL: configuration.database,
        logger: logger, makeService: makeService)
    services.append(delivery)
    services.append(JournalSealer(chain: JournalChain(store: store), logger: logger))
    services.append(EventRetention(store: store, retention: configuration.eventRetention, logger: logger))
    let planner = EventPlanner(prefixes: configuration.vendors)
    let lookupSignal = WorkSignal()
    services.append(
        LookupWorker(
            store: store, planner: planner, signal: lookupSignal, deliverySignal: delivery.signal, metrics: metrics,
            configuration: configuration.lookups, directories: directories, logger: logger))
    services.append(
        SyncScheduler(
            store: store, planner: planner, metrics: metrics, factory: Platforms.makeDirectory,
            concurrency: configuration.syncConcurrency,
            limits: configuration.syncLimits, logger: logger))

    let ports = PortReport(onBoth: onServerRunning)
    let webhookListener = WebhookListenerAddress(
        scheme: configuration.tls == nil ? "http" : "https", host: configuration.host)
    // A keep-alive connection idle for a minute is closed: a PBX reconnects, and idle sockets cannot pile up. A request
    // must arrive whole within the body timeout of its head, on both listeners: a slow sender is cut off rather than
    // kept for as long as it trickles. Only the webhook listener, which faces the PBXs (and the internet), has a cap
    // on its connections: the admin listener stays reachable to an operator while the webhook listener is flooded.
    let adminHTTP1 = HTTPServerBuilder.provHookHTTP1(
        idleTimeout: .seconds(60), bodyTimeout: configuration.bodyTimeout, limiter: nil, metrics: nil, logger: logger)
    let http1 = HTTPServerBuilder.provHookHTTP1(
        idleTimeout: .seconds(60), bodyTimeout: configuration.bodyTimeout,
        limiter: ConnectionLimiter(maximum: configuration.maxConnections), metrics: metrics, logger: logger)

    let recording = RecordingHealth()
    let adminRouter = buildAdminRouter(
        operations: OperationsController(
            store: store, health: { delivery.health }, metrics: metrics, recording: recording),
        admin: AdminController(
            store: store, makeService: makeService, concurrency: configuration.delivery.concurrency, planner: planner,
            webhookListener: webhookListener, logger: logger),
        token: configuration.adminToken)
    // The admin listener serves HTTPS when it has a certificate of its own, reloaded like the webhook listener's.
    var adminServer = adminHTTP1
    if let files = configuration.adminTLS {
        let certificate = try ReloadableCertificate(files: files)
        adminServer = try .tls(adminHTTP1, tlsConfiguration: certificate.serverConfiguration())
        services.append(CertificateReloadService(certificate: certificate, logger: logger))
    }
    services.append(
        Application(
            router: adminRouter, server: adminServer,
            configuration: .init(
                address: .hostname(configuration.adminHost, port: configuration.adminPort), serverName: nil),
            onServerRunning: { channel in await ports.admin(channel.localAddress?.port ?? configuration.adminPort) },
            logger: logger))

    // Every webhook is answered within its database deadline (plus 1 s), even on a connection that died silently.
    let webhookStore = store.answeringWebhooks
    let intake = Intake(
        store: webhookStore, planner: planner, metrics: metrics, deliverySignal: delivery.signal,
        lookupSignal: lookupSignal, recording: recording)
    let router = buildWebhookRouter(
        webhooks: WebhookController(
            store: webhookStore, intake: intake, platform: Platforms.native, metrics: metrics, logger: logger),
        sources: SourceWebhookController(store: webhookStore, intake: intake, metrics: metrics, logger: logger))

    let server: HTTPServerBuilder
    if let files = configuration.tls {
        let certificate = try ReloadableCertificate(files: files)
        server = try .tls(http1, tlsConfiguration: certificate.serverConfiguration())
        services.append(CertificateReloadService(certificate: certificate, logger: logger))
    } else {
        server = http1
    }
    return Application(
        router: router, server: server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: services,
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            webhookListener.port.withLock { $0 = port }
            await ports.webhook(port)
        },
        logger: logger
    )
}

/// Where the webhook listener answers, for the OpenAPI document that the admin listener serves: its webhook paths
/// name this server, so that a client made from the document calls the right listener.
final class WebhookListenerAddress: Sendable {
    let scheme: String
    let host: String
    /// Known once the listener is bound (`PROVHOOK_LISTEN` may ask for port 0).
    let port = Mutex<Int?>(nil)

    init(scheme: String, host: String) {
        self.scheme = scheme
        self.host = host
    }

    /// The listener's URL as seen by a client that reached the admin listener at `requestHost` (its `Host` header):
    /// a listener bound to every address is reached at the host the client used.
    func url(requestHost: String?) -> String? {
        guard let port = self.port.withLock({ $0 }) else { return nil }
        var host = self.host
        if ["0.0.0.0", "::", "[::]", ""].contains(host), let requestHost, !requestHost.isEmpty {
            // The Host header's host, without its port: "[::1]:9090" → "[::1]", "a.example:9090" → "a.example".
            host =
                requestHost.hasPrefix("[")
                ? String(requestHost.prefix { $0 != "]" }) + "]" : String(requestHost.prefix { $0 != ":" })
        }
        if host.contains(":"), !host.hasPrefix("[") { host = "[\(host)]" }
        return "\(self.scheme)://\(host):\(port)"
    }
}

/// Calls back once both listeners have reported their ports.
private actor PortReport {
    let onBoth: @Sendable (ListeningPorts) async -> Void
    private var webhookPort: Int?
    private var adminPort: Int?

    init(onBoth: @escaping @Sendable (ListeningPorts) async -> Void) {
        self.onBoth = onBoth
    }

    func webhook(_ port: Int) async {
        self.webhookPort = port
        await self.reportIfBoth()
    }

    func admin(_ port: Int) async {
        self.adminPort = port
        await self.reportIfBoth()
    }

    private func reportIfBoth() async {
        guard let webhook = self.webhookPort, let admin = self.adminPort else { return }
        await self.onBoth(ListeningPorts(webhook: webhook, admin: admin))
    }
}

/// Shuts the process's HTTP client down once the service group stops.
struct HTTPClientService: NamedService {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await self.client.shutdown()
    }
}
