import ArgumentParser

/// `provhook-faults`: the client and the checker of `contrib/faults.sh`, which starts, kills and restarts the
/// processes. Each subcommand prints one JSON object on stdout.
@main
struct FaultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provhook-faults",
        abstract:
            "Sends webhook bursts like a PBX and checks that nothing acknowledged was lost. Driven by contrib/faults.sh.",
        subcommands: [BurstCommand.self, CheckCommand.self, CallsCommand.self, HostileCommand.self, AbuseCommand.self])
}
