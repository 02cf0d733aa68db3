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
        let secrets: SecretKeyring?
        do {
            secrets = try Settings().secretKeyring()
        } catch {
            throw CLIFailure.input(error.description)
        }
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
        try await self.sealSecretsInClear(secrets)
        try await self.bindSecrets(secrets)
    }

    /// Binds to where they are sent the accounts' passwords and PBX API secrets sealed before migration 0016, or
    /// says how to.
    func bindSecrets(_ secrets: SecretKeyring?) async throws {
        let unbound = try await self.database.withStore { try await $0.unboundSecrets() }
        guard unbound > 0 else { return }
        guard secrets != nil else {
            throw CLIFailure.input(
                "\(unbound) account password(s) or PBX API secret(s) are not bound to where they are sent; set PROVHOOK_SECRET_KEY_FILE and run `provhook migrate` again to bind them"
            )
        }
        let bound = try await self.database.withStore(needsSecrets: true) {
            try await $0.bindSecretsToDestinations(actor: cliActor)
        }
        print("bound \(bound.count) secret(s) to their URL and CA file: \(bound.joined(separator: ", "))")
    }

    /// Seals the webhook secrets that are still in clear (from before migration 0006), or says how to.
    func sealSecretsInClear(_ secrets: SecretKeyring?) async throws {
        let inClear = try await self.database.withStore { try await $0.secretsInventory().inClear }
        guard inClear > 0 else { return }
        guard secrets != nil else {
            throw CLIFailure.input(
                "\(inClear) webhook secret(s) are stored in clear; set PROVHOOK_SECRET_KEY_FILE and run `provhook migrate` again to seal them (\(Settings.secretKeyHowTo))"
            )
        }
        let sealed = try await self.database.withStore(needsSecrets: true) {
            try await $0.sealSecretsInClear(actor: cliActor)
        }
        print("sealed \(sealed.count) webhook secret(s) under PROVHOOK_SECRET_KEY_FILE")
    }
}
