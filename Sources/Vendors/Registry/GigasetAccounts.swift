import Gigaset
import Logging
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import VendorHTTP

/// Accounts of kind `gigaset`: Gigaset's auto-provisioning service over XML-RPC, called with basic auth. The
/// account's user and password are its login there; its URL, when unset, is the service's production endpoint.
enum GigasetAccounts {
    /// Each account gets a client with its own HTTP connection pool and the installation's timeouts (`base`, from
    /// `PROVHOOK_REDIRECT_*`). An `http://` URL is refused unless `allowsPlainHTTP` (a local stand-in).
    static func factory(
        base: RedirectConfiguration, allowsPlainHTTP: Bool, logger: Logger
    ) -> ServiceRegistry.Factory {
        { account in
            let login = try account.xmlrpcLogin(
                defaultURL: GigasetClient.defaultEndpoint, base: base, allowsPlainHTTP: allowsPlainHTTP)
            do {
                let (client, close) = try GigasetClient.withOwnPool(login: login, logger: logger)
                return AccountService(service: client, close: close)
            } catch {
                throw StoreError.invalid("account \(account.name): \(error)")
            }
        }
    }
}
