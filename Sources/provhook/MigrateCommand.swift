import ArgumentParser
import ProvHookCore

/// `provhook migrate`: applies the migrations of `sql/` that are not applied yet.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the sql/ migrations (idempotent; safe to run concurrently).")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let url = try self.database.url
        let logger = cliLogger()
        let report: Migrator.Report
        do {
            report = try await Database.withConnection(
                url, timeout: .seconds(max(1, self.database.databaseTimeout)), logger: logger
            ) {
                connection in
                try await Migrator().migrate(on: connection, logger: logger)
            }
        } catch let error as MigrationError {
            throw CLIFailure.input(error.description)
        } catch {
            throw CLIFailure(
                message: DatabaseError("migrating \(url)", error).description, exitCode: CLIFailure.transportExitCode)
        }
        for name in report.applied { print("applied  \(name)") }
        print(
            report.applied.isEmpty
                ? "database is up to date (\(report.alreadyApplied.count) migrations applied before)"
                : "applied \(report.applied.count) migration(s); \(report.alreadyApplied.count) were applied before")
    }
}
