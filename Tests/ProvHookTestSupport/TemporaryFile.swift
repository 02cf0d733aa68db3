import Foundation

/// Files that tests write, in the temporary directory.
public enum TemporaryFile {
    /// Writes `text` to a new file in the temporary directory and returns its path.
    public static func write(_ text: String, suffix: String = "") throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("provhook-test-\(UUID().uuidString)\(suffix)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `body` with the path of a new file holding `text`, and removes the file afterwards.
    public static func with<T>(
        _ text: String, suffix: String = "", _ body: (String) async throws -> T
    ) async throws -> T {
        let path = try Self.write(text, suffix: suffix)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }
}
