import Logging
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import YealinkStyleRPS

/// Accounts of kind `htek` and `akuvox`: Htek's and Akuvox's RPS, copies of Yealink's XML-RPC API with named
/// servers, called with basic auth. The account's user and password are its RPS login; its URL, when unset, is the
/// vendor's published endpoint (Akuvox's is plain `http://`, refused unless `PROVHOOK_REDIRECT_ALLOW_HTTP`);
/// `--override` lets it take MACs another account holds.
enum YealinkStyleRPSAccounts {
    /// Each account gets a client with its own HTTP connection pool and the installation's timeouts (`base`, from
    /// `PROVHOOK_REDIRECT_*`). An `http://` URL is refused unless `allowsPlainHTTP`.
    static func factory(
        _ dialect: RPSDialect, base: RedirectConfiguration, allowsPlainHTTP: Bool, logger: Logger
    ) -> ServiceRegistry.Factory {
        { account in
            let configuration = try account.yealinkStyleRPSConfiguration(
                dialect, base: base, allowsPlainHTTP: allowsPlainHTTP)
            return AccountService(try YealinkStyleRPSClient.withOwnPool(configuration: configuration, logger: logger))
        }
    }
}

extension AccountCredentials {
    /// The client's settings for this account of `dialect`'s service: its login, URL, CA file, override and
    /// concurrency, with the installation's timeouts and, where it sets none, its concurrency.
    public func yealinkStyleRPSConfiguration(
        _ dialect: RPSDialect, base: RedirectConfiguration, allowsPlainHTTP: Bool
    ) throws(StoreError) -> YealinkStyleRPSConfiguration {
        guard let user = self.user, let password = self.password else {
            throw .invalid("account \(self.name) of kind \(dialect.kind) has no login (--user, --password-file)")
        }
        let configuration = YealinkStyleRPSConfiguration(
            dialect: dialect, endpoint: self.url, user: user, password: password, override: self.override,
            connection: self.connection(base: base, allowsPlainHTTP: allowsPlainHTTP))
        return try self.checked(configuration) { try $0.validate() }
    }
}
