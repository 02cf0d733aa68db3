import Logging
import PolyZTP
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC

/// Accounts of kind `poly-ztp`: Poly's Zero Touch Provisioning, REST with an `API-KEY` header. The account's secret
/// is the API key and it has no user; its URL, when unset, is ZTP's production API root; `--profile` names the
/// profile its phones are assigned to (else provhook keeps one of its own per provisioning server).
enum PolyZTPAccounts {
    /// Each account gets a client with its own HTTP connection pool and the installation's timeouts (`base`, from
    /// `PROVHOOK_REDIRECT_*`). An `http://` URL is refused unless `allowsPlainHTTP` (a local stand-in).
    static func factory(
        base: RedirectConfiguration, allowsPlainHTTP: Bool, logger: Logger
    ) -> ServiceRegistry.Factory {
        { account in
            let configuration = try account.polyZTPConfiguration(base: base, allowsPlainHTTP: allowsPlainHTTP)
            return AccountService(try PolyZTPClient.withOwnPool(configuration: configuration, logger: logger))
        }
    }
}

extension AccountCredentials {
    /// The Poly ZTP client's settings for this account: its API key, URL, CA file, profile and concurrency, with the
    /// installation's timeouts and, where it sets none, its concurrency.
    public func polyZTPConfiguration(
        base: RedirectConfiguration, allowsPlainHTTP: Bool
    ) throws(StoreError) -> PolyZTPConfiguration {
        guard let apiKey = self.password else {
            throw .invalid("account \(self.name) of kind poly-ztp has no API key (--api-key-file)")
        }
        let configuration = PolyZTPConfiguration(
            baseURL: self.url ?? PolyZTPConfiguration.defaultBaseURL, apiKey: apiKey, profile: self.profile,
            connection: self.connection(base: base, allowsPlainHTTP: allowsPlainHTTP))
        return try self.checked(configuration) { try $0.validate() }
    }
}
