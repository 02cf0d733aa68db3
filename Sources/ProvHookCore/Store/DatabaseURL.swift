import Foundation
import NIOSSL
import PostgresNIO

/// `PROVHOOK_DATABASE_URL`: `postgres://user:password@host:port/database?sslmode=disable|prefer|require`.
public struct DatabaseURL: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// `disable` (the default on loopback), `prefer`, or `require` (the default elsewhere).
    public var sslMode: String

    public init(_ text: String) throws(ConfigurationError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw .invalid(
                variable: "PROVHOOK_DATABASE_URL", reason: "must look like postgres://user:password@host:port/database")
        }
        guard let user = components.user, !user.isEmpty else {
            throw .invalid(variable: "PROVHOOK_DATABASE_URL", reason: "must name a user")
        }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        self.host = host
        self.port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? self.user : path
        let mode =
            components.queryItems?.first { $0.name == "sslmode" }?.value
            ?? (Self.isLoopback(host) ? "disable" : "require")
        guard ["disable", "prefer", "require"].contains(mode) else {
            throw .invalid(variable: "PROVHOOK_DATABASE_URL", reason: "sslmode must be disable, prefer or require")
        }
        self.sslMode = mode
    }

    /// Whether `host` names this machine's loopback: `localhost`, `::1`, or an IPv4 address literal in 127.0.0.0/8.
    /// A name that merely starts with `127.` (`127.evil.example`) is resolved by DNS, so it is not.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else { return false }
        return UInt32(bigEndian: address.s_addr) >> 24 == 127
    }

    /// The URL with the password hidden, for messages and logs.
    public var description: String {
        "postgres://\(self.user)\(self.password == nil ? "" : ":***")@\(self.host):\(self.port)/\(self.database)"
    }

    private var tls: PostgresConnection.Configuration.TLS {
        get throws {
            switch self.sslMode {
            case "disable": return .disable
            case "prefer": return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            default: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        }
    }

    /// Settings for one connection, used where a failure must surface at once (migrate, CLI, start-up checks).
    public func connectionConfiguration(
        connectTimeout: Duration = .seconds(10)
    ) throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: self.host, port: self.port, username: self.user, password: self.password, database: self.database,
            tls: try self.tls)
        configuration.options.connectTimeout = .nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000)
        return configuration
    }

    /// Settings for the long-lived pool of `serve`. With `lockTimeout`, a statement that waits longer than that for a
    /// lock fails (SQLSTATE 55P03) instead of waiting up to the statement timeout: `serve` passes its database
    /// deadline, so that a webhook held up by another transaction's locks is answered 503 within the deadline.
    public func clientConfiguration(
        maxConnections: Int = 20, statementTimeoutSeconds: Int = 30, lockTimeout: Duration? = nil
    ) throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch self.sslMode {
            case "disable": .disable
            case "prefer": .prefer(.makeClientConfiguration())
            default: .require(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: self.host, port: self.port, username: self.user, password: self.password, database: self.database,
            tls: tls)
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(5)
        // The server bounds every statement, and ends any session left idle inside a transaction, so that no lock
        // can be held forever whatever happens to a client task.
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", "\(statementTimeoutSeconds)s"), ("idle_in_transaction_session_timeout", "30s"),
        ]
        if let lockTimeout {
            let milliseconds =
                lockTimeout.components.seconds * 1000 + lockTimeout.components.attoseconds / 1_000_000_000_000_000
            configuration.options.additionalStartupParameters.append(("lock_timeout", "\(max(1, milliseconds))ms"))
        }
        return configuration
    }
}
