import Foundation
import SnomXMLRPCStandIn
import StandInSupport

/// What a test of several vendors' services through the real binary starts from: a database, the `default` account's
/// Snom XML-RPC stand-in (`StandInAccounts`), files holding what the test hands provhook (secrets, a CA certificate,
/// a CSV), and provhook's command line on all of them, logging at debug level. The files are removed afterwards.
public struct FleetRig: Sendable {
    /// A file the rig writes: its text and the end of its name.
    public struct File: Sendable {
        public var text: String
        public var suffix: String

        /// `text` and a newline, as an operator's secret file holds it.
        public static func line(_ text: String) -> File { File(text: text + "\n", suffix: "") }
        /// A PEM file (a CA certificate).
        public static func pem(_ text: String) -> File { File(text: text, suffix: ".pem") }
        /// A CSV file.
        public static func csv(_ text: String) -> File { File(text: text, suffix: ".csv") }
    }

    public let database: TestDatabase
    /// The `default` account's stand-in.
    public let xmlrpc: RunningFakeRedirect
    /// The files written: first the `default` account's password, then those the test gave, in its order.
    public let files: [String]
    /// provhook's environment: the database, the `default` account, debug logging, run by alice.
    public let environment: [String: String]
    /// provhook's command line in `environment`.
    public var cli: CommandLineRunner { CommandLineRunner(environment: self.environment) }

    /// Makes the database, the `default` account's stand-in and the `files`, runs `body`, and removes them all,
    /// whether `body` returns or throws.
    public static func with<T>(files: [File], _ body: (FleetRig) async throws -> T) async throws -> T {
        try await TestDatabase.with { database in
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { xmlrpc in
                var paths: [String] = []
                defer { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
                for file in [File.line(StandInAccounts.password)] + files {
                    paths.append(try TemporaryFile.write(file.text, suffix: file.suffix))
                }
                let environment = StandInAccounts.environment(
                    database: database, standIn: xmlrpc, passwordFile: paths[0])
                return try await body(
                    FleetRig(database: database, xmlrpc: xmlrpc, files: paths, environment: environment))
            }
        }
    }
}
