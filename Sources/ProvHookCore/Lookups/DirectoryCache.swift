import Foundation

/// The PBX API clients of the sources, made on first use and kept (with their tokens) until the source's API
/// settings change.
public actor DirectoryCache {
    /// Makes a client for a source's API, by the source's kind: `Platforms.makeDirectory` in `Integrations`, or a
    /// test's stand-in.
    public typealias Factory =
        @Sendable (SourceKind, DirectoryConfiguration) throws(DirectoryError) -> any DeviceDirectory

    private let factory: Factory
    private var clients: [String: (settings: DirectoryConfiguration, client: any DeviceDirectory)] = [:]

    public init(factory: @escaping Factory) {
        self.factory = factory
    }

    /// The client of `source`'s API, or nil when it has none.
    func directory(
        for source: String, store: Store, _ configuration: LookupWorker.Configuration
    ) async throws -> (any DeviceDirectory)? {
        guard let (kind, api, secret) = try await store.sourceAPI(name: source) else {
            await self.drop(source)
            return nil
        }
        let settings = DirectoryConfiguration(
            baseURL: api.url, user: api.user, secret: secret, caFile: api.caFile, tenant: api.tenant,
            connectTimeout: configuration.connectTimeout, readTimeout: configuration.readTimeout)
        // Lookups of several sources, or several of one source, run at once: dropping an old client suspends, and
        // another lookup may have made the new one meanwhile, which must be used rather than replaced (a client
        // replaced is never shut down).
        while let cached = self.clients[source] {
            if cached.settings == settings { return cached.client }
            await self.drop(source)
        }
        let client = try self.factory(kind, settings)
        self.clients[source] = (settings, client)
        return client
    }

    private func drop(_ source: String) async {
        if let old = self.clients.removeValue(forKey: source) { await old.client.shutdown() }
    }

    func shutdown() async {
        for source in Array(self.clients.keys) { await self.drop(source) }
    }
}
