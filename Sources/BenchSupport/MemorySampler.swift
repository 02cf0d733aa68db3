import Foundation
import Synchronization

/// Samples a process's resident set size from `/proc/PID/status` every 50 ms and keeps the peak.
public final class MemorySampler: Sendable {
    private let pid: Int32
    private let peakKiB = Mutex(0)
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init(pid: Int32) {
        self.pid = pid
    }

    /// The resident set size now, in KiB; nil when the process is gone.
    public static func residentKiB(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// Starts sampling in the background.
    public func start() {
        let task = Task { [self] in
            while !Task.isCancelled {
                self.sample()
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        self.task.withLock { $0 = task }
    }

    /// Stops sampling; the peak in MiB.
    public func stop() -> Double {
        self.task.withLock { $0?.cancel() }
        self.sample()
        return Double(self.peakKiB.withLock { $0 }) / 1024
    }

    private func sample() {
        guard let kib = Self.residentKiB(pid: self.pid) else { return }
        self.peakKiB.withLock { $0 = max($0, kib) }
    }
}
