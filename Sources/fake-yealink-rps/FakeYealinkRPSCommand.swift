import ArgumentParser
import StandInCommand
import YealinkRPSStandIn

/// Runs the strict stand-in of Yealink's RPS over XML-RPC, for local runs and manual checks.
@main
struct FakeYealinkRPSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-yealink-rps",
        abstract: "A strict stand-in of Yealink's RPS over XML-RPC (basic auth, at /xmlrpc).",
        discussion: "SIGTERM or SIGINT stops it.")

    @OptionGroup var standIn: StandInOptions

    @Option(name: .customLong("account"), help: "USER:PASSWORD of an RPS account; repeat for several.")
    var accounts: [String] = []

    func run() async throws {
        var accounts: [String: String] = [:]
        for account in self.accounts {
            let fields = try StandInOptions.fields(of: account, option: "--account", form: "USER:PASSWORD")
            accounts[fields[0]] = fields[1]
        }
        guard !accounts.isEmpty else { throw ValidationError("give at least one --account USER:PASSWORD") }
        try await self.standIn.serve(FakeYealinkRPSState(accounts: accounts), label: "fake-yealink-rps")
    }
}
