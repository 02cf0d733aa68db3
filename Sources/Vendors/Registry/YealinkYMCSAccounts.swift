import Logging
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import YealinkYMCS

/// Accounts of kind `yealink-ymcs`: Yealink's YMCS, REST with OAuth client credentials. The account's user is the
/// client id (YMCS's AccessKey ID) and its secret the client secret; its URL, which `--region` sets, is the region's
/// API root.
enum YealinkYMCSAccounts {
    /// Each account gets a client with its own HTTP connection pool and the installation's timeouts (`base`). An
    /// `http://` URL is refused unless `allowsPlainHTTP` (a local stand-in).
    static func factory(
        base: RedirectConfiguration, allowsPlainHTTP: Bool, logger: Logger
    ) -> ServiceRegistry.Factory {
        { account in
            guard let clientID = account.user, let secret = account.password else {
                throw StoreError.invalid(
                    "account \(account.name) of kind yealink-ymcs has no client (--client-id, --client-secret-file)")
            }
            guard let url = account.url else {
                throw StoreError.invalid(
                    "account \(account.name) of kind yealink-ymcs has no region (--region or --url)")
            }
            let configuration = YMCSConfiguration(
                baseURL: url, clientID: clientID, clientSecret: secret, serialRequired: account.serialRequired,
                connection: account.connection(base: base, allowsPlainHTTP: allowsPlainHTTP))
            return try account.attributing {
                AccountService(try YMCSClient.withOwnPool(configuration: configuration, logger: logger))
            }
        }
    }
}

extension ServiceRegistry {
    /// The API root of a YMCS region (`us`, `eu`, `au`), for `account add --region`; nil for another name.
    public static func ymcsRegionURL(_ region: String) -> String? { YMCSConfiguration.regions[region.lowercased()] }
}
