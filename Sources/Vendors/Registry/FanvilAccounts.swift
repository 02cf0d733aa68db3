import Fanvil
import Logging
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import VendorHTTP

/// Accounts of kind `fanvil`: Fanvil's FDPS over XML-RPC, called with basic auth. The account's user and password
/// are its login there (the client sends the password's double md5); its URL, when unset, is the plain-`http://`
/// endpoint falconieri uses, refused unless `PROVHOOK_REDIRECT_ALLOW_HTTP`.
enum FanvilAccounts {
    /// Each account gets a client with its own HTTP connection pool and the installation's timeouts (`base`, from
    /// `PROVHOOK_REDIRECT_*`). An `http://` URL is refused unless `allowsPlainHTTP`.
    static func factory(
        base: RedirectConfiguration, allowsPlainHTTP: Bool, logger: Logger
    ) -> ServiceRegistry.Factory {
        { account in
            let login = try account.xmlrpcLogin(
                defaultURL: FanvilClient.defaultEndpoint, base: base, allowsPlainHTTP: allowsPlainHTTP)
            do {
                let (client, close) = try FanvilClient.withOwnPool(login: login, logger: logger)
                return AccountService(service: client, close: close)
            } catch {
                throw StoreError.invalid("account \(account.name): \(error)")
            }
        }
    }
}
