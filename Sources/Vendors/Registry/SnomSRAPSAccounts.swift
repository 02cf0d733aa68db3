import Logging
import ProvHookCore
import ProvisioningModel
import SnomSRAPS
import SnomXMLRPC

/// Accounts of kind `snom-sraps` (Snom SRAPS) and `gigaset-grape` (Gigaset GRAPE, the same API): REST signed with
/// Hawk. The account's user is the API key's Access Key ID and its secret the Access Key Secret; its URL, when unset,
/// is the service's production API root (not `PROVHOOK_REDIRECT_URL`, which is Snom's XML-RPC service's).
enum SnomSRAPSAccounts {
    /// Each account gets a client of `service` with its own HTTP connection pool and the installation's timeouts
    /// (`base`, from `PROVHOOK_REDIRECT_*`). An `http://` URL is refused unless `allowsPlainHTTP` (a local stand-in).
    static func factory(
        _ service: SRAPSService = .snom, base: RedirectConfiguration, allowsPlainHTTP: Bool, logger: Logger
    ) -> ServiceRegistry.Factory {
        { account in
            let configuration = try account.srapsConfiguration(
                service, base: base, allowsPlainHTTP: allowsPlainHTTP)
            return AccountService(try SRAPSClient.withOwnPool(configuration: configuration, logger: logger))
        }
    }
}

extension AccountCredentials {
    /// The SRAPS client's settings for this account: its key, URL, CA file and concurrency, with the installation's
    /// timeouts and, where it sets none, its concurrency.
    public func srapsConfiguration(
        _ service: SRAPSService = .snom, base: RedirectConfiguration, allowsPlainHTTP: Bool
    ) throws(StoreError) -> SRAPSConfiguration {
        guard let keyID = self.user, let keySecret = self.password else {
            throw .invalid("account \(self.name) of kind \(self.kind) has no API key (--key-id, --key-secret-file)")
        }
        let configuration = SRAPSConfiguration(
            service: service, baseURL: self.url, keyID: keyID, keySecret: keySecret,
            connection: self.connection(base: base, allowsPlainHTTP: allowsPlainHTTP))
        return try self.checked(configuration) { try $0.validate() }
    }
}
