import Logging
import Panasonic
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import VendorHTTP

/// Accounts of kind `panasonic`: Panasonic's redirection service over XML-RPC, called with basic auth. The account's
/// user and password are its login there; its URL, when unset, is the service's production endpoint.
enum PanasonicAccounts {
    /// Each account gets a client with its own HTTP connection pool and the installation's timeouts (`base`, from
    /// `PROVHOOK_REDIRECT_*`). An `http://` URL is refused unless `allowsPlainHTTP` (a local stand-in).
    static func factory(
        base: RedirectConfiguration, allowsPlainHTTP: Bool, logger: Logger
    ) -> ServiceRegistry.Factory {
        { account in
            let login = try account.xmlrpcLogin(
                defaultURL: PanasonicClient.defaultEndpoint, base: base, allowsPlainHTTP: allowsPlainHTTP)
            do {
                let (client, close) = try PanasonicClient.withOwnPool(login: login, logger: logger)
                return AccountService(service: client, close: close)
            } catch {
                throw StoreError.invalid("account \(account.name): \(error)")
            }
        }
    }
}

extension AccountCredentials {
    /// The login of an account of an XML-RPC service with basic auth: its user, password, URL (else `defaultURL`),
    /// CA file and concurrency, with the installation's timeouts and, where it sets none, its concurrency.
    func xmlrpcLogin(
        defaultURL: String, base: RedirectConfiguration, allowsPlainHTTP: Bool
    ) throws(StoreError) -> XMLRPCLogin {
        guard let user = self.user, let password = self.password else {
            throw .invalid("account \(self.name) of kind \(self.kind) has no login (--user, --password-file)")
        }
        return XMLRPCLogin(
            endpoint: self.url ?? defaultURL, user: user, password: password, caFile: self.caFile,
            allowsPlainHTTP: allowsPlainHTTP, connectTimeout: base.connectTimeout, readTimeout: base.readTimeout,
            maxConnections: self.concurrency ?? base.maxConnections)
    }
}
