import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import PostgresNIO
import ProvHookCore
import ProvHookServer
import ProvisioningModel
import ServiceLifecycle
import SnomXMLRPC
import UnixSignals
import VendorRegistry

/// `provhook serve`: the webhook listener and the delivery worker, in one process.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the webhook listener and the delivery worker (SIGTERM stops cleanly).")

    @Option(help: "postgres://user:password@host:port/database (PROVHOOK_DATABASE_URL).") var databaseURL: String?
    @Option(help: "host:port of the webhook listener (PROVHOOK_LISTEN; default 127.0.0.1:8080).") var listen: String?
    @Option(help: "host:port of the admin listener (PROVHOOK_ADMIN_LISTEN; default 127.0.0.1:9090).")
    var adminListen: String?
    @Option(help: "XML-RPC endpoint, trailing slash included (PROVHOOK_REDIRECT_URL).") var redirectURL: String?
    @Option(help: "Basic-auth user (PROVHOOK_REDIRECT_USER).") var redirectUser: String?
    @Option(help: "File holding the password (PROVHOOK_REDIRECT_PASSWORD_FILE).") var redirectPasswordFile: String?
    @Option(help: "Extra PEM trust roots (PROVHOOK_REDIRECT_CA_FILE).") var redirectCAFile: String?
    @Option(help: "Calls in flight at most (PROVHOOK_REDIRECT_CONCURRENCY; default 8).") var concurrency: Int?
    @Option(help: "Comma-separated MAC prefixes provhook may send (PROVHOOK_VENDOR_PREFIXES).") var vendorPrefixes:
        String?
    @Option(help: "trace … critical (PROVHOOK_LOG_LEVEL; default info).") var logLevel: String?
    @Option(help: "text or json (PROVHOOK_LOG_FORMAT; default text).") var logFormat: String?
    @Flag(help: "Send nothing; journal each call that would have been made (PROVHOOK_DRY_RUN=1).") var dryRun = false

    func run() async throws {
        var flags = ServeFlags()
        flags.databaseURL = self.databaseURL
        flags.listen = self.listen
        flags.adminListen = self.adminListen
        flags.redirectURL = self.redirectURL
        flags.redirectUser = self.redirectUser
        flags.redirectPasswordFile = self.redirectPasswordFile
        flags.redirectCAFile = self.redirectCAFile
        flags.concurrency = self.concurrency
        flags.vendorPrefixes = self.vendorPrefixes
        flags.logLevel = self.logLevel
        flags.logFormat = self.logFormat
        flags.isDryRun = self.dryRun
        let configuration: ServeConfiguration
        do {
            configuration = try Settings().serveConfiguration(flags)
        } catch {
            throw CLIFailure.input(error.description)
        }

        let level = configuration.logLevel
        if configuration.logFormat == "json" {
            LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
        } else {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let metrics = ProvHookMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        let logger = Logger(label: "provhook")

        try await Self.checkDatabase(configuration.database, secrets: configuration.secrets, logger: logger)
        let scheme = configuration.tls == nil ? "http" : "https"
        let app: any Service
        do {
            app = try buildApplication(configuration, logger: logger, metrics: metrics) { ports in
                logger.info(
                    "provhook listening",
                    metadata: [
                        "webhooks": "\(scheme)://\(configuration.host):\(ports.webhook)",
                        "admin": "http://\(configuration.adminHost):\(ports.admin)",
                        "redirect": "\(configuration.redirect.endpoint)",
                        "concurrency": "\(configuration.delivery.concurrency)",
                        "instance": "\(configuration.delivery.instance)",
                        "dry_run": "\(configuration.delivery.isDryRun)",
                    ])
            }
        } catch let error as CertificateError {
            throw CLIFailure.input(error.description)
        }
        // SIGTERM or SIGINT: the listener stops, in-flight calls finish and record their outcomes. Whatever
        // happens, the process ends: past 45 s the services are cancelled, and past 15 s more it stops waiting.
        var groupConfiguration = ServiceGroupConfiguration(
            services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(45)
        groupConfiguration.maximumCancellationDuration = .seconds(15)
        try await ServiceGroup(configuration: groupConfiguration).run()
    }

    /// Fails fast, with a clear message, when the database is unreachable or not migrated.
    static func checkDatabase(_ url: DatabaseURL, secrets: SecretKeyring, logger: Logger) async throws {
        let expected = Migration.embedded.last?.version ?? 0
        let applied: Int
        let ownsJournal: Bool
        do {
            (applied, ownsJournal) = try await Database.withConnection(url, timeout: .seconds(10), logger: logger) {
                connection in
                let rows = try await connection.query(
                    """
                    SELECT coalesce(max(version), -1),
                           (SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class
                            WHERE oid = to_regclass('journal'))
                    FROM schema_migrations
                    """, logger: logger)
                for try await (version, owns) in rows.decode((Int, Bool?).self) { return (version, owns ?? false) }
                return (-1, false)
            }
        } catch {
            let failure = DatabaseError("cannot use \(url)", error)
            if failure.sqlState == "42P01" {
                throw CLIFailure.input("the database \(url) has no provhook schema yet; run `provhook migrate` first")
            }
            throw CLIFailure(message: failure.description, exitCode: CLIFailure.transportExitCode)
        }
        guard applied >= expected else {
            throw CLIFailure.input(
                "the database \(url) is at migration \(applied), this provhook needs \(expected); run `provhook migrate`"
            )
        }
        try await Self.checkSecrets(url, secrets: secrets, logger: logger)
        if ownsJournal {
            logger.warning(
                "provhook serve runs as the owner of the journal, which could disable its append-only triggers; run migrate as the owner and serve as a login in provhook_app (sql/roles.sql)",
                metadata: ["database": "\(url)"])
        }
    }

    /// Refuses to start while a webhook secret is in clear, or sealed under a key this process lacks: either would
    /// turn every webhook of those tenants away; and while a secret that leaves provhook is not bound to where it may
    /// be sent.
    static func checkSecrets(_ url: DatabaseURL, secrets: SecretKeyring, logger: Logger) async throws {
        let inventory: SecretsInventory
        do {
            inventory = try await Database.withConnection(url, timeout: .seconds(10), logger: logger) { connection in
                try await Store.secretsInventory(on: connection, logger: logger)
            }
        } catch {
            throw CLIFailure(
                message: DatabaseError("cannot use \(url)", error).description, exitCode: CLIFailure.transportExitCode)
        }
        let unbound = inventory.unbound
        guard unbound == 0 else {
            throw CLIFailure.input(
                "\(unbound) account password(s) or PBX API secret(s) are not bound to where they are sent (stored before migration 0016); run `provhook migrate` with PROVHOOK_SECRET_KEY_FILE set to bind them"
            )
        }
        guard inventory.inClear == 0 else {
            throw CLIFailure.input(
                "\(inventory.inClear) webhook secret(s) are still in clear; run `provhook migrate` with PROVHOOK_SECRET_KEY_FILE set to seal them"
            )
        }
        for (keyID, count) in inventory.sealedByKey.sorted(by: { $0.key < $1.key }) {
            guard secrets.keyIDs.contains(keyID) else {
                throw CLIFailure.input(
                    "\(count) webhook secret(s) are sealed under key \(keyID), which is neither PROVHOOK_SECRET_KEY_FILE (\(secrets.current.id)) nor PROVHOOK_PREVIOUS_SECRET_KEY_FILE"
                )
            }
        }
    }
}
