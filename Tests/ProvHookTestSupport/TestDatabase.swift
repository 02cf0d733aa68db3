import Deadlines
import Foundation
import Logging
import PostgresNIO
import ProvHookCore
import SnomXMLRPCStandIn

/// A fresh database per test, created in the throwaway cluster that `contrib/test.sh` starts.
///
/// Without `PROVHOOK_TEST_DATABASE_URL` a database test fails and says how to run it; it is never skipped.
public struct TestDatabase: Sendable {
    public static let logger = Logger(label: "test-db")

    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "PROVHOOK_TEST_DATABASE_URL is not set: database tests need PostgreSQL. Run them with contrib/test.sh, which starts a throwaway cluster."
        }
    }

    /// The admin URL of the cluster.
    public static func adminURL() throws -> DatabaseURL {
        guard let text = ProcessInfo.processInfo.environment["PROVHOOK_TEST_DATABASE_URL"], !text.isEmpty else {
            throw NotConfigured()
        }
        return try DatabaseURL(text)
    }

    /// Who a test connects as. provhook runs as `app`, as docs/operating.md tells operators to deploy it: a login of
    /// `provhook_app` (`sql/roles.sql`) on a database that `owner` owns and migrated.
    public enum Role: Sendable {
        /// The cluster's superuser: for tampering and for what no role of provhook's may do.
        case superuser
        /// The tables' owner, which runs `provhook migrate`.
        case owner
        /// A login in `provhook_app`: `serve` and the CLI.
        case app
        /// A login in `provhook_auditor`.
        case auditor

        var login: String? {
            switch self {
            case .superuser: nil
            case .owner: "provhook_test_owner"
            case .app: "provhook_test_app"
            case .auditor: "provhook_test_auditor"
            }
        }
    }

    /// The database as the app login: what provhook under test uses.
    public let url: DatabaseURL
    /// The store on `url`, with `secrets`.
    public let store: Store
    /// This database's own secret key, as provhook under test gets it.
    public let secrets: SecretKeyring
    /// A file holding `secrets`' key (mode 600), for `PROVHOOK_SECRET_KEY_FILE` of a provhook process.
    public let secretKeyFile: String
    private let superuserURL: DatabaseURL

    /// The environment a provhook process needs for this database: its URL as `role`, and its secret key.
    public func environment(as role: Role = .app) -> [String: String] {
        ["PROVHOOK_DATABASE_URL": self.urlString(as: role), "PROVHOOK_SECRET_KEY_FILE": self.secretKeyFile]
    }

    /// The database's URL for `role`.
    public func url(as role: Role) -> DatabaseURL {
        var url = self.superuserURL
        if let login = role.login { url.user = login }
        return url
    }

    /// `url(as:)` as text, for `PROVHOOK_DATABASE_URL`.
    public func urlString(as role: Role = .app) -> String {
        let url = self.url(as: role)
        return "postgres://\(url.user)@\(url.host):\(url.port)/\(url.database)"
    }

    /// The app login's URL as text.
    public var urlString: String { self.urlString(as: .app) }

    /// Creates a database owned by the owner role, optionally migrates it as the owner and applies `sql/roles.sql`,
    /// runs `body` with a store as the app login, and drops the database.
    public static func with<T>(
        migrated: Bool = true, _ body: (TestDatabase) async throws -> T
    ) async throws -> T {
        let admin = try Self.adminURL()
        try await Self.createRoles(admin)
        let name = "provhook_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try await Self.on(admin) { connection in
            try await connection.query(
                "CREATE DATABASE \(unescaped: String(name)) OWNER \(unescaped: Role.owner.login!)", logger: Self.logger)
        }
        var superuserURL = admin
        superuserURL.database = String(name)
        var ownerURL = superuserURL
        ownerURL.user = Role.owner.login!
        var appURL = superuserURL
        appURL.user = Role.app.login!
        if migrated {
            try await Self.on(ownerURL) { connection in
                _ = try await Migrator().migrate(on: connection, logger: Self.logger)
            }
            try await Self.applyRoles(superuserURL)
        }
        let keyFile = try SecretKeyFile.write()
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        let secrets = try SecretKeyring(
            current: SecretKey(contentsOfFile: keyFile), secretsDirectory: TemporaryFile.secretsDirectory)
        let pool = try RunningStore(url: appURL, logger: Self.logger, secrets: secrets)
        let database = TestDatabase(
            url: appURL, store: pool.store, secrets: secrets, secretKeyFile: keyFile, superuserURL: superuserURL)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(database))
        } catch {
            result = .failure(error)
        }
        await pool.stop()
        await Self.drop(String(name), admin: admin)
        return try result.get()
    }

    /// Grants the app and auditor roles their rights, as an operator does after `provhook migrate`.
    public func applyRoles() async throws {
        try await Self.applyRoles(self.superuserURL)
    }

    /// Applies `sql/roles.sql` (which creates the group roles when missing), then the tests' logins in those groups.
    /// Roles belong to the cluster: tests apply them one at a time, under a lock held on the admin database.
    private static func applyRoles(_ url: DatabaseURL) async throws {
        try await Self.underRolesLock { admin in
            try await Self.on(url) { connection in
                try await Migrator.run(
                    script: Migration.embeddedFile("roles.sql")!, on: connection, logger: Self.logger)
            }
            for (login, group) in [(Role.app.login!, "provhook_app"), (Role.auditor.login!, "provhook_auditor")] {
                let exists =
                    try await admin.query(
                        "SELECT 1 FROM pg_roles WHERE rolname = \(login)", logger: Self.logger
                    ).collect().isEmpty == false
                if !exists {
                    try await admin.query(
                        "CREATE ROLE \(unescaped: login) LOGIN IN ROLE \(unescaped: group)", logger: Self.logger)
                }
            }
        }
    }

    /// Runs `body` on a new connection to this test's database, as `role` (by default the cluster's superuser).
    public func withConnection<T>(
        as role: Role = .superuser, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await Database.withConnection(self.url(as: role), logger: Self.logger, body)
    }

    /// The owner's login, created by whichever test comes first.
    private static func createRoles(_ admin: DatabaseURL) async throws {
        try await Self.underRolesLock { connection in
            let login = Role.owner.login!
            let exists =
                try await connection.query(
                    "SELECT 1 FROM pg_roles WHERE rolname = \(login)", logger: Self.logger
                ).collect().isEmpty == false
            if !exists { try await connection.query("CREATE ROLE \(unescaped: login) LOGIN", logger: Self.logger) }
        }
    }

    /// Runs `body` on the admin database under the lock that puts the tests' role changes in line.
    private static func underRolesLock(_ body: (PostgresConnection) async throws -> Void) async throws {
        try await Self.on(try Self.adminURL()) { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.rolesLock))", logger: Self.logger)
            // If `body` throws, closing the connection releases the lock.
            try await body(connection)
            try await connection.query("SELECT pg_advisory_unlock(\(Self.rolesLock))", logger: Self.logger)
        }
    }

    private static let rolesLock: Int64 = 0x7465_7374_726F_6C65  // "testrole"

    private static func on(_ url: DatabaseURL, _ body: (PostgresConnection) async throws -> Void) async throws {
        try await Database.withConnection(url, logger: Self.logger, body)
    }

    private static func drop(_ name: String, admin: DatabaseURL) async {
        try? await Self.on(admin) { connection in
            try await connection.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: Self.logger)
        }
    }
}

/// Waits for `task` at most `seconds`, then goes on, saying so: teardown must never hang the suite.
public func boundedWait(for task: Task<Void, Never>, _ what: String, seconds: Int = 15) async {
    if await !waitForTask(task, atMost: .seconds(seconds)) {
        FileHandle.standardError.write(Data("WARNING: \(what) did not stop within \(seconds) s\n".utf8))
    }
}
