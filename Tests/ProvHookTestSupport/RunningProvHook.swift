import AsyncHTTPClient
import BenchSupport
import Deadlines
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ProvHookCore
import ProvHookServer
import ProvisioningModel
import ServiceLifecycle
import SnomXMLRPC
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import VendorHTTP
import WebhookSignature
import XMLRPC

/// provhook's application (both listeners and the worker) running in the test process on free ports, against a
/// test database and a stand-in, stopped with a graceful shutdown as SIGTERM would.
public final class RunningProvHook: Sendable {
    /// The webhook listener's port.
    public let port: Int
    /// The admin listener's port: the admin API, `/metrics`, `/readyz`, `/openapi.yaml`.
    public let adminPort: Int
    public let metrics: ProvHookMetrics
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(ports: ListeningPorts, metrics: ProvHookMetrics, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = ports.webhook
        self.adminPort = ports.admin
        self.metrics = metrics
        self.group = group
        self.task = task
    }

    public static func start(
        database: DatabaseURL, secrets: SecretKeyring, redirectEndpoint: String, user: String = StandInAccounts.user,
        password: String = StandInAccounts.password, concurrency: Int = 4, instance: String = "test",
        retryBase: Duration = .milliseconds(20), retryMaximum: Duration = .milliseconds(400),
        giveUpAfter: Duration = .seconds(600), vendors: VendorPrefixes = .defaults,
        readTimeout: Duration = .seconds(5),
        databaseDeadline: Duration = .seconds(5),
        isDryRun: Bool = false, adminToken: String? = nil, idleWake: Duration = .seconds(5), log: CapturedLog? = nil,
        logLevel: Logger.Level = .warning, bodyTimeout: Duration = .seconds(30),
        maxConnections: Int = ServeConfiguration.defaultMaxConnections, registry: ServiceRegistry? = nil
    ) async throws -> RunningProvHook {
        // With `log`, what provhook logs at `logLevel` (warning unless told) and above is kept there for the test to
        // read.
        var logger =
            log?.logger(level: .warning) ?? Logger(label: "provhook-\(instance)-\(UInt16.random(in: 0...UInt16.max))")
        logger.logLevel =
            ProcessInfo.processInfo.environment["PROVHOOK_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            ?? logLevel
        let redirect = RedirectConfiguration(
            endpoint: redirectEndpoint, user: user, password: password,
            connection: VendorConnection(
                connectTimeout: .seconds(2), readTimeout: readTimeout, maxConnections: concurrency))
        let configuration = ServeConfiguration(
            database: database, databasePoolSize: 8, databaseDeadline: databaseDeadline, host: "127.0.0.1", port: 0,
            adminPort: 0,
            redirect: redirect,
            delivery: DeliveryConfiguration(
                concurrency: concurrency, lease: .seconds(30), callDeadline: redirect.connection.callDeadline,
                retry: RetryPolicy(base: retryBase, maximum: retryMaximum, giveUpAfter: giveUpAfter),
                instance: instance,
                idleWake: idleWake, isDryRun: isDryRun),
            vendors: vendors, adminToken: adminToken, secrets: secrets, bodyTimeout: bodyTimeout,
            maxConnections: maxConnections)
        let metrics = ProvHookMetrics()
        let (ports, continuation) = AsyncStream.makeStream(of: ListeningPorts.self)
        let app = try buildApplication(configuration, logger: logger, metrics: metrics, registry: registry) { bound in
            continuation.yield(bound)
            continuation.finish()
        }
        var groupConfiguration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(15)
        let group = ServiceGroup(configuration: groupConfiguration)
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        guard let bound = await ports.first(where: { _ in true }) else {
            try await task.value
            throw CancellationError()
        }
        return RunningProvHook(ports: bound, metrics: metrics, group: group, task: task)
    }

    /// Runs `body` with this provhook, then stops it, whether `body` returned or threw.
    public func whileRunning<T>(_ body: (RunningProvHook) async throws -> T) async throws -> T {
        let result: Result<T, any Error>
        do { result = .success(try await body(self)) } catch { result = .failure(error) }
        await self.stop()
        return try result.get()
    }

    /// Stops as on SIGTERM: the listener closes, in-flight calls finish, then everything stops. Past 15 s the
    /// group cancels its services; past 30 s this stops waiting and says so loudly, rather than hang the suite.
    public func stop() async {
        await self.group.triggerGracefulShutdown()
        let finished = await waitForTask(self.task, atMost: .seconds(30))
        if !finished {
            FileHandle.standardError.write(
                Data("WARNING: provhook did not stop within 30 s of a graceful shutdown\n".utf8))
        }
    }

    public struct Answer: Sendable {
        public var status: Int
        public var body: String
        public var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(self.body.utf8)) as? [String: Any]) ?? [:]
        }
        public var errorCode: String? { (self.json["error"] as? [String: Any])?["code"] as? String }

        public init(status: Int, body: String) { (self.status, self.body) = (status, body) }
    }

    /// Sends a signed webhook (or a raw request when `secret` is nil).
    public func send(
        tenant: String, body: String, secret: String?, id: String = "msg_" + UUID().uuidString.lowercased(),
        timestamp: Date = Date(), extraHeaders: [(String, String)] = []
    ) async throws -> Answer {
        var request: HTTPClientRequest
        if let secret {
            request = SignedWebhook.request(
                baseURL: "http://127.0.0.1:\(self.port)", tenant: tenant, id: id, body: Array(body.utf8),
                secret: secret,
                timestamp: timestamp)
        } else {
            request = HTTPClientRequest(url: "http://127.0.0.1:\(self.port)/v1/tenants/\(tenant)/events")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        for (name, value) in extraHeaders { request.headers.replaceOrAdd(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        return try await self.request(request)
    }

    /// A GET on the admin listener, or on the webhook listener with `onWebhookPort`.
    public func get(_ path: String, token: String? = nil, onWebhookPort: Bool = false) async throws -> Answer {
        var request = HTTPClientRequest(
            url: "http://127.0.0.1:\(onWebhookPort ? self.port : self.adminPort)\(path)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return try await self.request(request)
    }

    /// Sends JSON with a bearer token to the admin listener (or to the webhook listener with `onWebhookPort`).
    public func call(
        _ method: HTTPMethod, _ path: String, token: String?, json: String? = nil, onWebhookPort: Bool = false
    ) async throws -> Answer {
        var request = HTTPClientRequest(
            url: "http://127.0.0.1:\(onWebhookPort ? self.port : self.adminPort)\(path)")
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        return try await self.request(request)
    }

    /// Sends `body` as `contentType` with a bearer token to the admin listener.
    public func call(
        _ method: HTTPMethod, _ path: String, token: String?, body: String, contentType: String
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(self.adminPort)\(path)")
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(string: body))
        return try await self.request(request)
    }

    private func request(_ request: HTTPClientRequest) async throws -> Answer {
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 22)
        return Answer(status: Int(response.status.code), body: String(buffer: body))
    }
}

/// A test database with a tenant, a stand-in, and provhook running against both.
public struct EndToEnd: Sendable {
    public let database: TestDatabase
    public let standIn: RunningFakeRedirect
    public let provhook: RunningProvHook
    public let secret: String
    public let template: URLTemplate

    public var state: FakeRedirectState { self.standIn.state }
    public var store: Store { self.database.store }

    public static let tenant = "acme"

    public static func run(
        allowBearer: Bool = false, concurrency: Int = 4, idleWake: Duration = .seconds(5),
        password: String = StandInAccounts.password, readTimeout: Duration = .seconds(5), isDryRun: Bool = false,
        adminToken: String? = nil, retryMaximum: Duration = .milliseconds(400), giveUpAfter: Duration = .seconds(600),
        databaseDeadline: Duration = .seconds(5), log: CapturedLog? = nil, logLevel: Logger.Level = .warning,
        bodyTimeout: Duration = .seconds(30), maxConnections: Int = ServeConfiguration.defaultMaxConnections,
        _ body: (EndToEnd) async throws -> Void
    ) async throws {
        try await TestDatabase.with { database in
            let template = try URLTemplate("https://pbx.example.com/prov/<mac>.xml?brand=snom&v={mac}")
            let (_, secret) = try await database.store.addTenant(
                id: Self.tenant, name: "ACME", urlTemplate: template, allowBearer: allowBearer, actor: "cli:test")
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { standIn in
                try await RunningProvHook.start(
                    database: database.url, secrets: database.secrets, redirectEndpoint: standIn.endpoint,
                    password: password, concurrency: concurrency, retryMaximum: retryMaximum, giveUpAfter: giveUpAfter,
                    readTimeout: readTimeout, databaseDeadline: databaseDeadline,
                    isDryRun: isDryRun, adminToken: adminToken, idleWake: idleWake, log: log, logLevel: logLevel,
                    bodyTimeout: bodyTimeout, maxConnections: maxConnections
                ).whileRunning { provhook in
                    let run = EndToEnd(
                        database: database, standIn: standIn, provhook: provhook, secret: secret, template: template)
                    try await body(run)
                }
            }
        }
    }

    public func send(
        _ body: String, id: String = "msg_" + UUID().uuidString.lowercased()
    ) async throws -> RunningProvHook.Answer {
        try await self.provhook.send(tenant: Self.tenant, body: body, secret: self.secret, id: id)
    }

    public func calls(for mac: String) async -> [FakeRedirectState.Call] {
        await self.state.calls.filter { call in
            call.params.contains { param in
                param.stringValue?.uppercased() == mac
                    || (param.arrayValue?.contains { $0.stringValue?.uppercased() == mac } ?? false)
            }
        }
    }

    public func device(_ mac: String) async throws -> Device? {
        try await self.store.device(MACAddress(mac)!)
    }
}
