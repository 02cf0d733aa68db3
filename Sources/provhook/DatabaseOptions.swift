import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import ProvHookCore
import ProvisioningModel

/// `--database-url` (or `PROVHOOK_DATABASE_URL`) and a deadline, shared by the commands that use the database.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "postgres://user:password@host:port/database (PROVHOOK_DATABASE_URL).") var databaseURL: String?
    @Option(help: "Seconds to wait for the database before giving up.") var databaseTimeout = 10

    var url: DatabaseURL {
        get throws {
            let url: DatabaseURL?
            do {
                url = try Settings().databaseURL(self.databaseURL)
            } catch {
                throw CLIFailure.input(error.description)
            }
            guard let url else { throw CLIFailure.input("PROVHOOK_DATABASE_URL (or --database-url) is required") }
            return url
        }
    }

    /// Checks the database answers within the deadline, then runs `body` with a store on a running pool.
    /// `needsSecrets` is for the commands that store or use a webhook secret: they refuse to start without
    /// `PROVHOOK_SECRET_KEY_FILE`, in one line that says how to make a key.
    func withStore<T>(needsSecrets: Bool = false, _ body: (Store) async throws -> T) async throws -> T {
        let url = try self.url
        let secrets: SecretKeyring?
        do {
            secrets = needsSecrets ? try Settings().requiredSecretKeyring() : try Settings().secretKeyring()
        } catch {
            throw CLIFailure.input(error.description)
        }
        let logger = cliLogger()
        let timeout = Duration.seconds(max(1, self.databaseTimeout))
        do {
            // PostgresClient retries forever on a refused password; one plain connection fails fast instead.
            _ = try await Database.withConnection(url, timeout: timeout, logger: logger) { connection in
                try await connection.query("SELECT 1 FROM schema_migrations LIMIT 1", logger: logger)
            }
        } catch {
            let failure = DatabaseError("cannot use \(url)", error)
            if failure.sqlState == "42P01" {
                throw CLIFailure.input("the database \(url) has no provhook schema yet; run `provhook migrate` first")
            }
            throw CLIFailure(message: failure.description, exitCode: CLIFailure.transportExitCode)
        }
        let client = PostgresClient(
            configuration: try url.clientConfiguration(maxConnections: 4), backgroundLogger: logger.forPostgres)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        do {
            return try await body(Store(client: client, logger: logger, secrets: secrets))
        } catch let error as StoreError {
            switch error {
            case .database(let database):
                throw CLIFailure(message: database.description, exitCode: CLIFailure.transportExitCode)
            default:
                throw CLIFailure.input(error.description)
            }
        }
    }
}

/// The logger of one-shot commands: errors on standard error, or what PROVHOOK_LOG_LEVEL asks for.
func cliLogger() -> Logger {
    var logger = Logger(label: "provhook")
    logger.logLevel = Settings().value(nil, "PROVHOOK_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .error
    return logger
}

/// The vendor-prefix table that `PROVHOOK_VENDOR_PREFIXES` sets, for the commands that plan events as `serve` does.
func cliVendorPrefixes() throws -> VendorPrefixes {
    do {
        return try Settings().vendorPrefixes()
    } catch {
        throw CLIFailure.input(error.description)
    }
}

/// Who runs the CLI, as journal rows record it: `cli:<user>`.
var cliActor: String { JournalActor.cli(user: cliUser).rawValue }

/// The user who runs the CLI, as its journal rows name them.
var cliUser: String {
    let environment = ProcessInfo.processInfo.environment
    return environment["SUDO_USER"] ?? environment["USER"] ?? environment["LOGNAME"]
        ?? getpwuid(getuid()).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? "uid\(getuid())"
}

/// Prints `value` as pretty JSON with sorted keys and ISO 8601 dates.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Prints rows as aligned columns under a header.
func printTable(_ header: [String], _ rows: [[String]]) {
    // Cells come from PBXs and operators: a control character (an escape sequence) would drive the terminal.
    let rows = rows.map { $0.map(terminalSafe) }
    var widths = header.map(\.count)
    for row in rows {
        for (index, cell) in row.enumerated() where index < widths.count {
            widths[index] = max(widths[index], cell.count)
        }
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

/// `text` with every control character (C0, DEL, C1) written as a `\u{…}` escape, so that it prints as it is.
func terminalSafe(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
    var safe = ""
    for scalar in text.unicodeScalars {
        if scalar.properties.generalCategory == .control {
            safe += "\\u{" + String(scalar.value, radix: 16) + "}"
        } else {
            safe.unicodeScalars.append(scalar)
        }
    }
    return safe
}

extension Date {
    /// ISO 8601 in UTC, to the second.
    var iso8601: String { ISO8601DateFormatter().string(from: self) }
}
