import Logging
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC

extension ServiceRegistry {
    /// Every provisioning service this provhook can call, an entry per vendor's service (a file each in this folder).
    ///
    /// - Parameters:
    ///   - snomXMLRPC: the installation's `PROVHOOK_REDIRECT_*` settings, which a Snom XML-RPC account uses for what
    ///     it does not set.
    ///   - allowsPlainHTTP: `PROVHOOK_REDIRECT_ALLOW_HTTP`: whether an account may call an `http://` URL (a local
    ///     stand-in), which would send its secret in clear.
    public static func standard(
        snomXMLRPC: RedirectConfiguration, allowsPlainHTTP: Bool, logger: Logger
    ) -> ServiceRegistry {
        ServiceRegistry([
            .snomXMLRPC: SnomXMLRPCAccounts.factory(base: snomXMLRPC, allowsPlainHTTP: allowsPlainHTTP, logger: logger)
        ])
    }
}

extension AccountService {
    /// The factory `serve` and the commands use: `default` calls `defaultService` (the client made from
    /// `PROVHOOK_REDIRECT_*`, `base`), every other account its kind's client from `ServiceRegistry.standard`.
    public static func standardFactory(
        default defaultService: any ProvisioningService, base: RedirectConfiguration, logger: Logger
    ) -> AccountServiceFactory {
        AccountService.factory(
            default: defaultService,
            registry: ServiceRegistry.standard(
                snomXMLRPC: base, allowsPlainHTTP: Settings().allowsPlainHTTPRedirect, logger: logger))
    }
}
