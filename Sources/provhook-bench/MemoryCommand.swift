import ArgumentParser
import BenchSupport
import Foundation
import ProvHookCore

/// `provhook-bench memory`: the peak RSS of a process over a quiet period.
struct MemoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory", abstract: "Peak RSS of a process over a period.")

    @Option(help: "The process to watch.") var pid: Int32
    @Option(help: "How long to watch, in seconds (with --until-exit: at most).") var seconds = 2.0
    @Flag(help: "Stop watching when the process exits, and report how long it ran.") var untilExit = false

    func run() async throws {
        let sampler = MemorySampler(pid: self.pid)
        let started = ContinuousClock.now
        sampler.start()
        if self.untilExit {
            while kill(self.pid, 0) == 0, ContinuousClock.now - started < .milliseconds(Int(self.seconds * 1000)) {
                try await Task.sleep(for: .milliseconds(20))
            }
        } else {
            try await Task.sleep(for: .milliseconds(Int(self.seconds * 1000)))
        }
        let elapsed = ContinuousClock.now - started
        printJSON([
            "peak_rss_mib": JSONValue.number(sampler.stop()),
            "seconds": .number(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18),
        ])
    }
}
