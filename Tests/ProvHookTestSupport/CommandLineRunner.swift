import Foundation
import Testing

/// Runs the built `provhook` (or another product) as a separate process, the way an operator would.
public struct CommandLineRunner: Sendable {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var error: String
    }

    /// The products folder: the test bundle sits beside the executables.
    public static var productsDirectory: URL {
        URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0]
        )
        .deletingLastPathComponent()
    }

    public var executable = "provhook"
    /// A full path to run instead of a product.
    public var executablePath: String?
    public var environment: [String: String] = [:]
    /// Ends the command (SIGTERM) when it runs longer: a test of something that must end fails instead of hanging.
    public var timeout: Duration?

    public init(
        executable: String = "provhook", executablePath: String? = nil, environment: [String: String] = [:],
        timeout: Duration? = nil
    ) {
        (self.executable, self.executablePath, self.environment, self.timeout) =
            (executable, executablePath, environment, timeout)
    }

    /// `provhook source add … --json`, expected to succeed; returns its answer, the source's token as `token`.
    public func addSource(
        _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [String: Any] {
        let added = try await self.run(["source", "add"] + arguments + ["--json"])
        #expect(added.status == 0, "\(added.error)", sourceLocation: sourceLocation)
        let json = try JSONSerialization.jsonObject(with: Data(added.output.utf8)) as? [String: Any] ?? [:]
        _ = try #require(json["token"] as? String, "\(added.output) \(added.error)", sourceLocation: sourceLocation)
        return json
    }

    /// `provhook tenant add … --json`, expected to succeed; returns its answer and the tenant's webhook secret.
    public func addTenant(
        _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (answer: [String: Any], secret: String) {
        let added = try await self.run(["tenant", "add"] + arguments + ["--json"])
        #expect(added.status == 0, "\(added.error)", sourceLocation: sourceLocation)
        let json = try JSONSerialization.jsonObject(with: Data(added.output.utf8)) as? [String: Any] ?? [:]
        let secret = try #require(
            json["webhook_secret"] as? String, "\(added.output) \(added.error)", sourceLocation: sourceLocation)
        return (json, secret)
    }

    /// Sends `event` (its JSON) to `tenant`'s webhook at `base`, signed with `secret` by `contrib/send-event.sh`
    /// (independently of provhook's code), and expects it accepted (202).
    public static func sendEvent(
        _ tenant: String, _ secret: String, _ event: String, to base: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let script = ScratchCluster.repositoryRoot + "/contrib/send-event.sh"
        let sent = try await CommandLineRunner(executablePath: script).run([tenant, secret, event, base])
        #expect(sent.output.contains("HTTP 202"), "\(sent.output)\(sent.error)", sourceLocation: sourceLocation)
    }

    /// Runs the command to its end. The process is waited for on a thread of its own, never on Swift's cooperative
    /// pool (which has one thread a core: tests waiting there would starve an in-process stand-in the command talks
    /// to), and its output and error streams are read at the same time, so that neither can fill up and block it.
    /// `started` is given the process's id once it runs (a test that kills it midway sends it a signal).
    public func run(_ arguments: [String], started: @Sendable (Int32) -> Void = { _ in }) async throws -> Result {
        let process = Process()
        process.executableURL =
            self.executablePath.map(URL.init(fileURLWithPath:))
            ?? Self.productsDirectory.appendingPathComponent(self.executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PROVHOOK_") }
        // The tests' password files are in the temporary directory.
        environment["PROVHOOK_SECRETS_DIR"] = TemporaryFile.secretsDirectory
        environment.merge(self.environment) { _, new in new }
        process.environment = environment
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        started(process.processIdentifier)
        if let timeout = self.timeout {
            let seconds = Double(timeout.components.seconds)
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: seconds)
                if process.isRunning { process.terminate() }
            }
        }
        let (outputData, errorData) = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let errors = ErrorStream(error.fileHandleForReading)
                let outputData = output.fileHandleForReading.readDataToEndOfFile()
                let errorData = errors.wait()
                process.waitUntilExit()
                continuation.resume(returning: (outputData, errorData))
            }
        }
        return Result(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            error: String(decoding: errorData, as: UTF8.self))
    }
}

/// Reads a stream to its end on a thread of its own.
private final class ErrorStream: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()

    public init(_ handle: FileHandle) {
        Thread.detachNewThread {
            self.data = handle.readDataToEndOfFile()
            self.done.signal()
        }
    }

    /// The whole stream, once it has ended.
    public func wait() -> Data {
        self.done.wait()
        return self.data
    }
}
