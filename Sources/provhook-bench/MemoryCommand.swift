import ArgumentParser
import BenchSupport
import Foundation
import ProvHookCore

/// `provhook-bench memory`: the peak RSS of a process over a quiet period.
struct MemoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory", abstract: "Peak RSS of a process over a period.")

    @Option(help: "The process to watch.") var pid: Int32
    @Option(help: "How long to watch, in seconds.") var seconds = 2.0

    func run() async throws {
        let sampler = MemorySampler(pid: self.pid)
        sampler.start()
        try await Task.sleep(for: .milliseconds(Int(self.seconds * 1000)))
        printJSON(["peak_rss_mib": JSONValue.number(sampler.stop())])
    }
}
