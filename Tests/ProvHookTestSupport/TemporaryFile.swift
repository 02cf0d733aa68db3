import Foundation

/// Files that tests write, in the temporary directory.
public enum TemporaryFile {
    /// The directory where tests keep their files, which they give provhook as `PROVHOOK_SECRETS_DIR`, the only place
    /// an account's password file may be.
    public static var secretsDirectory: String { FileManager.default.temporaryDirectory.path }

    /// Writes `text` to a new file in the temporary directory, readable by its owner only (as a password file must
    /// be), and returns its path.
    public static func write(_ text: String, suffix: String = "") throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("provhook-test-\(UUID().uuidString)\(suffix)").path
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
        chmod(path, 0o600)
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

/// Secret key files for tests, written the way an operator makes one (`openssl rand -base64 32`, mode 600).
public enum SecretKeyFile {
    /// Writes 32 random bytes, in base64 (or raw), to a new file of `mode` and returns its path.
    public static func write(base64: Bool = true, mode: mode_t = 0o600) throws -> String {
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("provhook-test-\(UUID().uuidString).key").path
        let contents = base64 ? Data((Data(bytes).base64EncodedString() + "\n").utf8) : Data(bytes)
        guard FileManager.default.createFile(atPath: path, contents: contents, attributes: [.posixPermissions: mode])
        else { throw CocoaError(.fileWriteUnknown) }
        chmod(path, mode)
        return path
    }
}
