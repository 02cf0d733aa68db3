extension Settings {
    /// How to make a key, for messages.
    public static let secretKeyHowTo =
        "make one with `(umask 077; openssl rand -base64 32 > /etc/provhook/secret.key)` and set PROVHOOK_SECRET_KEY_FILE to it"

    /// The keyring from `PROVHOOK_SECRET_KEY_FILE` and, during a rotation, `PROVHOOK_PREVIOUS_SECRET_KEY_FILE`;
    /// nil when the first is unset. `PROVHOOK_SECRETS_DIR` (default `/etc/provhook`) is the only directory whose
    /// files an account may name as its password file. Every error is one line that names the variable and says what to do.
    public func secretKeyring() throws(ConfigurationError) -> SecretKeyring? {
        guard let path = self.value(nil, "PROVHOOK_SECRET_KEY_FILE") else { return nil }
        let current = try Self.key(path, "PROVHOOK_SECRET_KEY_FILE")
        let previous = try self.value(nil, "PROVHOOK_PREVIOUS_SECRET_KEY_FILE").map {
            path throws(ConfigurationError) in try Self.key(path, "PROVHOOK_PREVIOUS_SECRET_KEY_FILE")
        }
        let directory = self.value(nil, "PROVHOOK_SECRETS_DIR") ?? SecretKeyring.defaultSecretsDirectory
        guard directory.hasPrefix("/") else {
            throw .invalid(variable: "PROVHOOK_SECRETS_DIR", reason: "must be an absolute path")
        }
        return SecretKeyring(current: current, previous: previous.map { [$0] } ?? [], secretsDirectory: directory)
    }

    /// The keyring, or a one-line error saying how to make a key: for the commands that store or use a secret.
    public func requiredSecretKeyring() throws(ConfigurationError) -> SecretKeyring {
        guard let keyring = try self.secretKeyring() else {
            throw .invalid(
                variable: "PROVHOOK_SECRET_KEY_FILE",
                reason: "is required: it encrypts the tenants' webhook secrets; \(Self.secretKeyHowTo)")
        }
        return keyring
    }

    private static func key(_ path: String, _ variable: String) throws(ConfigurationError) -> SecretKey {
        do {
            return try SecretKey(contentsOfFile: path)
        } catch {
            throw .invalid(variable: variable, reason: "cannot be used: \(error)")
        }
    }
}
