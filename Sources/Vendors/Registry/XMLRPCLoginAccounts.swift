import Logging
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import VendorHTTP

/// Accounts of an XML-RPC service called with basic auth whose client is an `XMLRPCLoginClient`: kinds `panasonic`
/// (Panasonic's redirection service), `gigaset` (Gigaset's auto-provisioning service) and `fanvil` (Fanvil's FDPS,
/// whose client sends the password's double md5). The account's user and password are its login there; its URL,
/// when unset, is the client's `defaultEndpoint` (Fanvil's is the plain-`http://` one falconieri uses, refused unless
/// `PROVHOOK_REDIRECT_ALLOW_HTTP`).
enum XMLRPCLoginAccounts {
    /// Each account gets a client of `Client` with its own HTTP connection pool and the installation's timeouts
    /// (`base`, from `PROVHOOK_REDIRECT_*`). An `http://` URL is refused unless `allowsPlainHTTP` (a local stand-in).
    static func factory<Client: XMLRPCLoginClient & ProvisioningService>(
        _ client: Client.Type, base: RedirectConfiguration, allowsPlainHTTP: Bool, logger: Logger
    ) -> ServiceRegistry.Factory {
        { account in
            let login = try account.xmlrpcLogin(
                defaultURL: Client.defaultEndpoint, base: base, allowsPlainHTTP: allowsPlainHTTP)
            return try account.attributing { AccountService(try Client.withOwnPool(login: login, logger: logger)) }
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
            endpoint: self.url ?? defaultURL, user: user, password: password,
            connection: self.connection(base: base, allowsPlainHTTP: allowsPlainHTTP))
    }
}
