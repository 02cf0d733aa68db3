import Logging
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import YealinkRPS

/// Accounts of kind `yealink-rps`: Yealink's RPS over XML-RPC, called with basic auth. The account's user and
/// password are its RPS login; its URL, when unset, is RPS's production endpoint; `--override` lets it take MACs
/// another RPS account holds.
enum YealinkRPSAccounts {
    /// Each account gets a client with its own HTTP connection pool and the installation's timeouts (`base`, from
    /// `PROVHOOK_REDIRECT_*`). An `http://` URL is refused unless `allowsPlainHTTP` (a local stand-in).
    static func factory(
        base: RedirectConfiguration, allowsPlainHTTP: Bool, logger: Logger
    ) -> ServiceRegistry.Factory {
        { account in
            let configuration = try account.yealinkRPSConfiguration(base: base, allowsPlainHTTP: allowsPlainHTTP)
            return AccountService(try YealinkRPSClient.withOwnPool(configuration: configuration, logger: logger))
        }
    }
}

extension AccountCredentials {
    /// The RPS client's settings for this account: its login, URL, CA file, override and concurrency, with the
    /// installation's timeouts and, where it sets none, its concurrency.
    public func yealinkRPSConfiguration(
        base: RedirectConfiguration, allowsPlainHTTP: Bool
    ) throws(StoreError) -> YealinkRPSConfiguration {
        guard let user = self.user, let password = self.password else {
            throw .invalid("account \(self.name) of kind yealink-rps has no login (--user, --password-file)")
        }
        let configuration = YealinkRPSConfiguration(
            endpoint: self.url ?? YealinkRPSConfiguration.defaultEndpoint, user: user, password: password,
            override: self.override, connection: self.connection(base: base, allowsPlainHTTP: allowsPlainHTTP))
        return try self.checked(configuration) { try $0.validate() }
    }
}
