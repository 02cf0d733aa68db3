import ArgumentParser
import Foundation
import ProvHook
import Synchronization

/// Samples a process's resident set size from `/proc/PID/status` every 50 ms and keeps the peak.
final class MemorySampler: Sendable {
    private let pid: Int32
    private let peakKiB = Mutex(0)
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(pid: Int32) {
        self.pid = pid
    }

    /// The resident set size now, in KiB; nil when the process is gone.
    static func residentKiB(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    func start() {
        let task = Task { [self] in
            while !Task.isCancelled {
                self.sample()
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        self.task.withLock { $0 = task }
    }

    /// Stops sampling; the peak in MiB.
    func stop() -> Double {
        self.task.withLock { $0?.cancel() }
        self.sample()
        return Double(self.peakKiB.withLock { $0 }) / 1024
    }

    private func sample() {
        guard let kib = Self.residentKiB(pid: self.pid) else { return }
        self.peakKiB.withLock { $0 = max($0, kib) }
    }
}

/// `provhook-bench memory`: the peak RSS of a process over a quiet period.
struct MemoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "memory", abstract: "Peak RSS of a process over a period.")

    @Option(help: "The process to watch.") var pid: Int32
    @Option(help: "How long to watch, in seconds.") var seconds = 2.0

    func run() async throws {
        let sampler = MemorySampler(pid: self.pid)
        sampler.start()
        try await Task.sleep(for: .milliseconds(Int(self.seconds * 1000)))
        printJSON(["peak_rss_mib": .number(sampler.stop())])
    }
}
