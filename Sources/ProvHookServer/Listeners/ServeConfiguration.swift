import Foundation
import Logging
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import VendorHTTP
import VendorRegistry

/// Everything `provhook serve` needs, from flags and `PROVHOOK_*` variables.
public struct ServeConfiguration: Sendable {
    public var database: DatabaseURL
    /// Connections in the pool.
    public var databasePoolSize: Int
    /// The longest a database operation may take before the webhook answers 503.
    public var databaseDeadline: Duration
    /// The most one-MAC events recorded in one call and one COMMIT (`PROVHOOK_INGEST_BATCH`); 1 commits each
    /// event alone.
    public var ingestBatch: Int
    /// The webhook listener's address (`PROVHOOK_LISTEN`): webhooks and `/healthz` only.
    public var host: String
    public var port: Int
    /// The admin listener's address (`PROVHOOK_ADMIN_LISTEN`, default `127.0.0.1:9090`): the admin API,
    /// `/metrics`, `/readyz` and `/openapi.yaml`.
    public var adminHost: String
    public var adminPort: Int
    /// The webhook listener's certificate and key (`PROVHOOK_TLS_CERT_FILE`, `PROVHOOK_TLS_KEY_FILE`); nil
    /// serves plain HTTP, for a listener behind a TLS-terminating proxy or on loopback.
    public var tls: TLSFiles?
    /// The admin listener's certificate and key (`PROVHOOK_ADMIN_TLS_CERT_FILE`, `PROVHOOK_ADMIN_TLS_KEY_FILE`), so
    /// that the admin token never crosses a network in clear; nil serves plain HTTP (on loopback, the default).
    public var adminTLS: TLSFiles?
    public var redirect: RedirectConfiguration
    public var delivery: DeliveryConfiguration
    /// Which vendor a MAC's prefix names when the PBX gives no brand (`PROVHOOK_VENDOR_PREFIXES` over the defaults).
    public var vendors: VendorPrefixes
    public var logLevel: Logger.Level
    /// `text` or `json`.
    public var logFormat: String
    /// The admin API's bearer token (`PROVHOOK_ADMIN_TOKEN`); nil turns the admin API off.
    public var adminToken: String?
    /// How long webhook events' idempotency keys are kept (`PROVHOOK_EVENT_RETENTION_DAYS`).
    public var eventRetention: Duration
    /// Opens the tenants' webhook secrets and seals rotated ones (`PROVHOOK_SECRET_KEY_FILE`, required).
    public var secrets: SecretKeyring
    /// How the sources' lookups in PBX APIs are paced (`PROVHOOK_LOOKUP_TIMEOUT_SECONDS`,
    /// `PROVHOOK_LOOKUP_RETRY_SECONDS`, `PROVHOOK_LOOKUP_RETRY_MAX_SECONDS`, `PROVHOOK_LOOKUP_CONCURRENCY`,
    /// `PROVHOOK_LOOKUP_PER_SOURCE`, `PROVHOOK_LOOKUP_GIVE_UP_SECONDS`).
    public var lookups: LookupWorker.Configuration
    /// What bounds each periodic sync (`PROVHOOK_SYNC_STALL_SECONDS`, `PROVHOOK_SYNC_MAX_SECONDS`,
    /// `PROVHOOK_SYNC_MAX_DEVICES`, `PROVHOOK_SYNC_READ_TIMEOUT_SECONDS`).
    public var syncLimits: SourceSync.Limits
    /// The most periodic syncs of different sources run at once (`PROVHOOK_SYNC_CONCURRENCY`).
    public var syncConcurrency: Int
    /// How long a request may take to arrive whole, from its head to the last byte of its body
    /// (`PROVHOOK_BODY_TIMEOUT_SECONDS`, default 30 s), on both listeners. Past it the connection is closed and nothing
    /// of the request is used: without it a sender trickling a byte now and then held its connection for ever, as each
    /// byte restarted the 60 s idle time.
    public var bodyTimeout: Duration
    /// The most connections the webhook listener keeps open at once (`PROVHOOK_MAX_CONNECTIONS`, default 4,096); one
    /// more is answered 503 with `Retry-After` and closed without its request being read.
    public var maxConnections: Int

    /// The default of `maxConnections`: well under the 65,536 descriptors `contrib/provhook.service` allows.
    public static let defaultMaxConnections = 4096

    public init(
        database: DatabaseURL, databasePoolSize: Int = 16, databaseDeadline: Duration = .seconds(5),
        ingestBatch: Int = GroupCommit.defaultMaxBatch, host: String = "127.0.0.1", port: Int = 8080,
        adminHost: String = "127.0.0.1", adminPort: Int = 9090,
        tls: TLSFiles? = nil, adminTLS: TLSFiles? = nil, redirect: RedirectConfiguration,
        delivery: DeliveryConfiguration,
        vendors: VendorPrefixes = .defaults,
        logLevel: Logger.Level = .info, logFormat: String = "text", adminToken: String? = nil,
        eventRetention: Duration = .seconds(30 * 86_400), secrets: SecretKeyring,
        lookups: LookupWorker.Configuration = LookupWorker.Configuration(),
        syncLimits: SourceSync.Limits = SourceSync.Limits(), syncConcurrency: Int = 4,
        bodyTimeout: Duration = .seconds(30), maxConnections: Int = ServeConfiguration.defaultMaxConnections
    ) {
        self.syncLimits = syncLimits
        self.syncConcurrency = syncConcurrency
        self.bodyTimeout = bodyTimeout
        self.maxConnections = maxConnections
        self.secrets = secrets
        self.lookups = lookups
        self.eventRetention = eventRetention
        self.database = database
        self.databasePoolSize = databasePoolSize
        self.databaseDeadline = databaseDeadline
        self.ingestBatch = ingestBatch
        self.host = host
        self.port = port
        self.adminHost = adminHost
        self.adminPort = adminPort
        self.tls = tls
        self.adminTLS = adminTLS
        self.redirect = redirect
        self.delivery = delivery
        self.vendors = vendors
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.adminToken = adminToken
    }
}

/// Flags of `serve`; each falls back to its `PROVHOOK_*` variable.
public struct ServeFlags: Sendable {
    public var databaseURL: String?
    public var listen: String?
    public var adminListen: String?
    public var redirectURL: String?
    public var redirectUser: String?
    public var redirectPasswordFile: String?
    public var redirectCAFile: String?
    public var concurrency: Int?
    public var vendorPrefixes: String?
    public var logLevel: String?
    public var logFormat: String?
    public var isDryRun = false

    public init() {}
}

extension Settings {
    /// Resolves `serve`'s configuration; every error names the variable to fix and holds no secret.
    public func serveConfiguration(_ flags: ServeFlags) throws(ConfigurationError) -> ServeConfiguration {
        guard let database = try self.databaseURL(flags.databaseURL) else {
            throw .missing("PROVHOOK_DATABASE_URL (or --database-url)")
        }
        let (host, port) = try Self.listenAddress(
            self.value(flags.listen, "PROVHOOK_LISTEN") ?? "127.0.0.1:8080", variable: "PROVHOOK_LISTEN")
        let (adminHost, adminPort) = try Self.listenAddress(
            self.value(flags.adminListen, "PROVHOOK_ADMIN_LISTEN") ?? "127.0.0.1:9090",
            variable: "PROVHOOK_ADMIN_LISTEN")
        if (adminHost, adminPort) == (host, port), port != 0 {
            throw .invalid(variable: "PROVHOOK_ADMIN_LISTEN", reason: "must differ from PROVHOOK_LISTEN")
        }
        let tls = try self.tlsFiles("PROVHOOK_TLS")
        let adminTLS = try self.tlsFiles("PROVHOOK_ADMIN_TLS")
        let isDryRun = self.flag(flags.isDryRun, "PROVHOOK_DRY_RUN")
        var redirect: RedirectConfiguration
        if isDryRun, self.value(flags.redirectUser, "PROVHOOK_REDIRECT_USER") == nil {
            // Nothing is sent in a dry run, so credentials are optional.
            redirect = RedirectConfiguration(
                endpoint: self.value(flags.redirectURL, "PROVHOOK_REDIRECT_URL")
                    ?? RedirectConfiguration.defaultEndpoint,
                user: "dry-run", password: "",
                connection: VendorConnection(
                    maxConnections: try self.integer(
                        flags.concurrency, "PROVHOOK_REDIRECT_CONCURRENCY", default: 8, in: 1...256)))
        } else {
            redirect = try self.redirectConfiguration(
                url: flags.redirectURL, user: flags.redirectUser, passwordFile: flags.redirectPasswordFile,
                caFile: flags.redirectCAFile, concurrency: flags.concurrency)
        }
        let retry = RetryPolicy(
            base: .milliseconds(try self.integer(nil, "PROVHOOK_RETRY_BASE_MS", default: 1000, in: 1...3_600_000)),
            maximum: .seconds(try self.integer(nil, "PROVHOOK_RETRY_MAX_SECONDS", default: 3600, in: 1...86_400)),
            giveUpAfter: .seconds(
                try self.integer(nil, "PROVHOOK_GIVE_UP_AFTER_SECONDS", default: 86_400, in: 1...31_536_000)))
        let instance = self.value(nil, "PROVHOOK_INSTANCE") ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let delivery = DeliveryConfiguration(
            concurrency: redirect.connection.maxConnections,
            maxListSize: try self.integer(nil, "PROVHOOK_LIST_SIZE", default: 100, in: 1...1000),
            callDeadline: redirect.connection.callDeadline, retry: retry, instance: instance, isDryRun: isDryRun)
        let vendors = try self.vendorPrefixes(flag: flags.vendorPrefixes)
        let levelText = self.value(flags.logLevel, "PROVHOOK_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else {
            throw .invalid(
                variable: "PROVHOOK_LOG_LEVEL", reason: "must be trace, debug, info, notice, warning, error or critical"
            )
        }
        let format = self.value(flags.logFormat, "PROVHOOK_LOG_FORMAT") ?? "text"
        guard format == "text" || format == "json" else {
            throw .invalid(variable: "PROVHOOK_LOG_FORMAT", reason: "must be text or json")
        }
        let secrets = try self.requiredSecretKeyring()
        let adminToken = try self.secret(nil, "PROVHOOK_ADMIN_TOKEN")
        if let adminToken, adminToken.utf8.count < 16 {
            throw .invalid(variable: "PROVHOOK_ADMIN_TOKEN", reason: "must be at least 16 characters")
        }
        return ServeConfiguration(
            database: database,
            databasePoolSize: try self.integer(nil, "PROVHOOK_DATABASE_POOL", default: 16, in: 2...200),
            databaseDeadline: .milliseconds(
                try self.integer(nil, "PROVHOOK_DATABASE_TIMEOUT_MS", default: 5000, in: 100...600_000)),
            ingestBatch: try self.integer(
                nil, "PROVHOOK_INGEST_BATCH", default: GroupCommit.defaultMaxBatch, in: 1...GroupCommit.maxBatch),
            host: host, port: port, adminHost: adminHost, adminPort: adminPort, tls: tls, adminTLS: adminTLS,
            redirect: redirect,
            delivery: delivery, vendors: vendors, logLevel: level,
            logFormat: format, adminToken: adminToken,
            eventRetention: .seconds(
                86_400 * Int64(try self.integer(nil, "PROVHOOK_EVENT_RETENTION_DAYS", default: 30, in: 1...3650))),
            secrets: secrets,
            lookups: LookupWorker.Configuration(
                readTimeout: .seconds(
                    try self.integer(nil, "PROVHOOK_LOOKUP_TIMEOUT_SECONDS", default: 10, in: 1...300)),
                firstDelay: .seconds(try self.integer(nil, "PROVHOOK_LOOKUP_RETRY_SECONDS", default: 5, in: 1...3600)),
                maxDelay: .seconds(
                    try self.integer(nil, "PROVHOOK_LOOKUP_RETRY_MAX_SECONDS", default: 600, in: 1...86_400)),
                concurrency: try self.integer(nil, "PROVHOOK_LOOKUP_CONCURRENCY", default: 4, in: 1...64),
                perSource: try self.integer(nil, "PROVHOOK_LOOKUP_PER_SOURCE", default: 1, in: 1...16),
                giveUpAfter: .seconds(
                    try self.integer(nil, "PROVHOOK_LOOKUP_GIVE_UP_SECONDS", default: 3600, in: 1...2_592_000))),
            syncLimits: try self.syncLimits(),
            syncConcurrency: try self.integer(nil, "PROVHOOK_SYNC_CONCURRENCY", default: 4, in: 1...64),
            bodyTimeout: .seconds(try self.integer(nil, "PROVHOOK_BODY_TIMEOUT_SECONDS", default: 30, in: 1...600)),
            maxConnections: try self.integer(
                nil, "PROVHOOK_MAX_CONNECTIONS", default: ServeConfiguration.defaultMaxConnections, in: 1...1_000_000))
    }

    /// Parses `host:port` or `[v6]:port`.
    static func listenAddress(_ text: String, variable: String) throws(ConfigurationError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw .invalid(variable: variable, reason: "must be host:port, for example 127.0.0.1:8080")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else {
            throw .invalid(variable: variable, reason: "must name a host, for example 0.0.0.0:8080")
        }
        return (host, port)
    }
}

extension Settings {
    /// A listener's certificate and key from `<prefix>_CERT_FILE` and `<prefix>_KEY_FILE`: both or neither.
    func tlsFiles(_ prefix: String) throws(ConfigurationError) -> TLSFiles? {
        switch (self.value(nil, "\(prefix)_CERT_FILE"), self.value(nil, "\(prefix)_KEY_FILE")) {
        case (nil, nil): return nil
        case (let certificate?, let key?): return TLSFiles(certificatePath: certificate, keyPath: key)
        case (nil, _?): throw .missing("\(prefix)_CERT_FILE (\(prefix)_KEY_FILE is set)")
        case (_?, nil): throw .missing("\(prefix)_KEY_FILE (\(prefix)_CERT_FILE is set)")
        }
    }
}

/// The paths of a listener's PEM certificate chain and private key.
public struct TLSFiles: Sendable, Equatable {
    public var certificatePath: String
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}
