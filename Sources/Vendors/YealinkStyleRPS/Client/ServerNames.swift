import Crypto

/// The server objects an account holds at the service, one per distinct provisioning URL, each named from its URL.
///
/// A name is `provhook-` and the first 11 hex digits of the URL's SHA-256: 20 characters, which clients of these
/// services keep server names within (ngcp-panel names them by 20 hex digits of the URL's md5), of the characters
/// the service takes (`A-z 0-9 - _ .` and space). The same URL always has the same name, so a server another
/// provhook process added is found again, and reused, under it.
enum ServerNames {
    static func name(for url: String) -> String {
        let digest = SHA256.hash(data: Array(url.utf8))
        let hex = digest.map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined()
        return "provhook-" + hex.prefix(11)
    }
}

/// The server names this client added, or found already there, so that each is added once per process and not
/// before every registration. A name the service says it no longer knows is forgotten and added again.
actor KnownServers {
    private var names: Set<String> = []

    func contains(_ name: String) -> Bool { self.names.contains(name) }
    func insert(_ name: String) { self.names.insert(name) }
    func remove(_ name: String) { self.names.remove(name) }
}
