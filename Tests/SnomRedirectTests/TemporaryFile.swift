import Foundation

enum TemporaryFile {
    /// Writes `text` to a new file in the temporary directory and returns its path.
    static func write(_ text: String, suffix: String = "") throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("provhook-test-\(UUID().uuidString)\(suffix)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
