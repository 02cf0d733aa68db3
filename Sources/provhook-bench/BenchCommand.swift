import ArgumentParser

/// `provhook-bench`: the measuring half of `contrib/bench.sh`, which starts the processes and runs pgbench.
/// Each measuring subcommand prints one JSON object on stdout; `report` turns them into the table and
/// `bench-results.json`.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provhook-bench",
        abstract: "Measures provhook: HTTP load, queue drain and memory. Driven by contrib/bench.sh.",
        subcommands: [
            LoadCommand.self, FillCommand.self, DrainCommand.self, SeedCommand.self, ClaimCommand.self,
            MemoryCommand.self, WakeCommand.self, ReportCommand.self,
        ])
}
