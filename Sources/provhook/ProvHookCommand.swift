import ArgumentParser
import Foundation

/// The `provhook` command line. Exit codes follow the contract: 0 success, 1 the service answered `Error:…`,
/// 2 usage, configuration or input error (nothing was sent), 3 transport, TLS or authentication failure.
@main
struct ProvHookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provhook",
        abstract:
            "Provisions Snom phones through the Snom redirection service when a PBX adds, changes or removes them.",
        version: ProvHookVersion.description,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, TenantCommand.self, DeviceCommand.self, JournalCommand.self,
            ReconcileCommand.self, SourceCommand.self, AccountCommand.self, StatusCommand.self,
            RedirectCommand.self,
        ]
    )

    /// Runs the command, mapping ArgumentParser's usage errors (64) to the contract's 2.
    static func main() async {
        do {
            var command = try Self.parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let failure as CLIFailure {
            FileHandle.standardError.write(Data("provhook: \(failure.message)\n".utf8))
            Foundation.exit(failure.exitCode)
        } catch {
            let code = Self.exitCode(for: error)
            if code == .success {
                Self.exit(withError: error)
            }
            FileHandle.standardError.write(Data((Self.fullMessage(for: error) + "\n").utf8))
            Foundation.exit(code == .validationFailure ? CLIFailure.inputExitCode : code.rawValue)
        }
    }
}

/// A command's failure, with the contract's exit code and a message that holds no secret.
struct CLIFailure: Error {
    static let serviceErrorExitCode: Int32 = 1
    static let inputExitCode: Int32 = 2
    static let transportExitCode: Int32 = 3

    var message: String
    var exitCode: Int32

    static func input(_ message: String) -> CLIFailure { CLIFailure(message: message, exitCode: Self.inputExitCode) }
}
