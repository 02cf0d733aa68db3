import Foundation
import Logging
import ProvHookCore

/// A PostgreSQL cluster of one test's own, which the test may stop and start (the shared test cluster must not be).
/// It uses the same `contrib/lib/postgres.sh` as the scripts.
public struct ScratchCluster: Sendable {
    public let directory: String
    public let port: Int

    public var url: DatabaseURL { try! DatabaseURL("postgres://postgres@127.0.0.1:\(self.port)/postgres") }

    public static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    public static func create() throws -> ScratchCluster {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "provhook-scratch-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        let port = Int(
            try Self.shell("pg_require_binaries && pg_free_port").trimmingCharacters(in: .whitespacesAndNewlines))!
        let cluster = ScratchCluster(directory: directory, port: port)
        _ = try Self.shell("pg_require_binaries && pg_init '\(directory)/pg'")
        try cluster.start()
        return cluster
    }

    /// Migrates the cluster's database to the latest schema, as `provhook migrate` does.
    public func migrate() async throws {
        let logger = Logger(label: "test")
        try await Database.withConnection(self.url, logger: logger) { connection in
            _ = try await Migrator().migrate(on: connection, logger: logger)
        }
    }

    public func start() throws {
        _ = try Self.shell("pg_require_binaries && pg_start '\(self.directory)/pg' \(self.port) -c fsync=off")
    }
    public func stop() throws { _ = try Self.shell("pg_require_binaries && pg_stop '\(self.directory)/pg'") }

    /// Stops the server as a crash would (`pg_crash`): every backend exits at once and finishes nothing. `stop` ends
    /// the backends one at a time, so one that waits for a lock another holds may be granted it, and commit, before
    /// its own turn comes (seen on a loaded machine).
    public func crash() throws { _ = try Self.shell("pg_require_binaries && pg_crash '\(self.directory)/pg'") }

    public func destroy() {
        try? self.stop()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    public struct ShellFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs a script with the helpers of `contrib/lib/postgres.sh` loaded.
    ///
    /// The postmaster that `pg_ctl start` leaves running must not inherit any of this process's descriptors:
    /// Foundation's `Process` learns of a child's exit through one, and would wait until the postmaster exits.
    /// So output goes through files, not pipes, and the script closes every descriptor above 2 first.
    @discardableResult
    public static func shell(_ script: String) throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("provhook-shell-\(UUID().uuidString)")
        let outputPath = base.path + ".out"
        let errorPath = base.path + ".err"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outputPath)
            try? FileManager.default.removeItem(atPath: errorPath)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        let closeInherited =
            "for fd in $(ls /proc/$$/fd); do [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\" 2>/dev/null; done; true"
        process.arguments = [
            "-c", "\(closeInherited); set -e; . '\(Self.repositoryRoot)/contrib/lib/postgres.sh'; \(script)",
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw ShellFailure(
                description: "\(script): \((try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")")
        }
        return text
    }
}
