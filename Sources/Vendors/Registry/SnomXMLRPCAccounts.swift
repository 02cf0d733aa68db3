import Logging
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import VendorHTTP

/// Accounts of kind `snom`: Snom's XML-RPC redirection service, called with basic auth.
enum SnomXMLRPCAccounts {
    /// Each account gets a client with its own HTTP connection pool, its own user, password, URL, CA file and
    /// concurrency, and the installation's settings (`base`) for what it does not set. An `http://` URL is refused
    /// unless `allowsPlainHTTP`, as for the installation's own: basic auth would send the password in clear.
    static func factory(
        base: RedirectConfiguration, allowsPlainHTTP: Bool, logger: Logger
    ) -> ServiceRegistry.Factory {
        { account in
            let settings = account.redirectConfiguration(base: base)
            if settings.isPlainHTTP, !allowsPlainHTTP {
                throw StoreError.invalid(
                    "the URL of account \(account.name) is http://, which would send its password in clear; use https://, or set PROVHOOK_REDIRECT_ALLOW_HTTP=1 for a local stand-in"
                )
            }
            return AccountService(try RedirectClient.withOwnPool(configuration: settings, logger: logger))
        }
    }
}

extension AccountCredentials {
    /// The redirection client's settings for this account: its own user, password, URL and CA file where it has
    /// them, and the installation's (`base`, from `PROVHOOK_REDIRECT_*`) for the rest.
    public func redirectConfiguration(base: RedirectConfiguration) -> RedirectConfiguration {
        guard !self.isDefault, let user = self.user, let password = self.password else { return base }
        var configuration = base
        configuration.user = user
        configuration.password = password
        if let url = self.url { configuration.endpoint = url }
        if let caFile = self.caFile { configuration.connection.caFile = caFile }
        if let concurrency = self.concurrency { configuration.connection.maxConnections = concurrency }
        return configuration
    }
}
