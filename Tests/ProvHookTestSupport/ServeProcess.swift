import Foundation
import ProvHookServer
import Synchronization
import Testing

/// `provhook serve` in a process of its own, as an operator runs it: arguments, the environment (listeners on free
/// loopback ports unless set), standard error collected; the ports are read from its "provhook listening" line.
public final class ServeProcess: Sendable {
    /// The result of a `serve` that stopped by itself.
    public struct Exit: Sendable {
        public var status: Int32
        public var log: String
    }

    private let process: Process
    /// Standard error so far, and whether it has ended.
    private let errors = Mutex((text: "", ended: false))

    /// Standard error so far.
    public var log: String { self.errors.withLock { $0.text } }
    /// Whether standard error has ended: the process, and whatever shared the pipe, are gone.
    public var logEnded: Bool { self.errors.withLock { $0.ended } }
    public var isRunning: Bool { self.process.isRunning }

    private init(arguments: [String], environment: [String: String]) throws {
        let process = Process()
        process.executableURL = CommandLineRunner.productsDirectory.appendingPathComponent("provhook")
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PROVHOOK_") }
        merged.merge([
            "PROVHOOK_LISTEN": "127.0.0.1:0", "PROVHOOK_ADMIN_LISTEN": "127.0.0.1:0",
            "PROVHOOK_SECRETS_DIR": TemporaryFile.secretsDirectory,
        ]) { _, new in new }
        merged.merge(environment) { _, new in new }
        process.environment = merged
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        self.process = process
        // The handler holds this object until standard error ends.
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil }
            self.errors.withLock {
                $0.text += String(decoding: data, as: UTF8.self)
                $0.ended = $0.ended || data.isEmpty
            }
        }
        try process.run()
    }

    /// Starts `serve` and waits for its "provhook listening" line; throws with the log when it exits instead.
    public static func start(
        _ arguments: [String] = ["serve"], environment: [String: String]
    ) async throws -> ServeProcess {
        let serve = try ServeProcess(arguments: arguments, environment: environment)
        try await eventually("serve listens") { serve.listening != nil || !serve.isRunning }
        guard serve.listening != nil else {
            _ = await serve.terminate()
            throw ServeFailure(log: serve.log)
        }
        return serve
    }

    /// Starts `serve`, runs `body` with it, and stops it afterwards (SIGTERM, then waits), whether `body` returns or
    /// throws.
    public static func with<T>(
        _ arguments: [String] = ["serve"], environment: [String: String], _ body: (ServeProcess) async throws -> T
    ) async throws -> T {
        let serve = try await Self.start(arguments, environment: environment)
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await body(serve))
        } catch {
            outcome = .failure(error)
        }
        _ = await serve.terminate()
        return try outcome.get()
    }

    /// Runs `serve` expecting it to stop by itself (a refusal); if it is still running after the bounded wait, it is
    /// stopped and the test fails, rather than hang.
    public static func runToExit(
        _ arguments: [String] = ["serve"], environment: [String: String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Exit {
        let serve = try ServeProcess(arguments: arguments, environment: environment)
        try await eventually("serve exits by itself", sourceLocation: sourceLocation) { !serve.isRunning }
        let status = await serve.terminate()
        return Exit(status: status, log: await serve.settledLog())
    }

    /// Standard error once the process has exited and the pipe has given its last bytes: at its end, or, when a
    /// process started meanwhile by another test inherited the pipe and keeps it open, once nothing more has come for
    /// a second (the exited process can write nothing more; what it wrote is already in the pipe).
    public func settledLog() async -> String {
        var last = -1
        var quiet = 0
        for _ in 0..<120 where !self.logEnded {
            let length = self.log.utf8.count
            quiet = length == last ? quiet + 1 : 0
            if quiet >= 4 { break }
            last = length
            try? await Task.sleep(for: .milliseconds(250))
        }
        return self.log
    }

    /// The listeners' ports. Only for a `serve` returned by `start`, which has them.
    public var ports: ListeningPorts { self.listening! }

    public func signal(_ number: Int32) {
        kill(self.process.processIdentifier, number)
    }

    /// SIGTERM, and waits for the exit (for `defer`, which cannot await).
    public func stop() {
        if self.isRunning { self.signal(SIGTERM) }
        self.process.waitUntilExit()
    }

    /// SIGTERM if still running, then waits for the exit on a thread of its own (never on Swift's cooperative pool,
    /// which an in-process stand-in needs meanwhile) and answers the exit status.
    public func terminate() async -> Int32 {
        if self.isRunning { self.signal(SIGTERM) }
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                self.process.waitUntilExit()
                continuation.resume(returning: self.process.terminationStatus)
            }
        }
    }

    /// The ports of the "provhook listening" line, once it has been logged.
    private var listening: ListeningPorts? {
        guard let line = self.log.split(separator: "\n").first(where: { $0.contains("provhook listening") }) else {
            return nil
        }
        func port(after key: String) -> Int? {
            guard let range = line.range(of: key) else { return nil }
            let rest = line[range.upperBound...].drop { $0 != ":" }.dropFirst().drop { $0 != ":" }.dropFirst()
            return Int(rest.prefix { $0.isNumber })
        }
        guard let webhook = port(after: "webhooks="), let admin = port(after: "admin=") else { return nil }
        return ListeningPorts(webhook: webhook, admin: admin)
    }
}

public struct ServeFailure: Error, CustomStringConvertible {
    public var log: String
    public var description: String { "provhook serve did not start:\n\(self.log)" }
}
