import Logging
import ProvisioningModel
import SnomXMLRPC

/// The phone vendors' provisioning services provhook can call, by kind: the one place where a new vendor (a folder
/// under `Sources/Vendors/`) is made known.
public enum ServiceRegistry {
    /// Makes the service an account calls, from its credentials and the installation's settings (`base`, from
    /// `PROVHOOK_REDIRECT_*`) for what it does not set.
    public typealias Factory =
        @Sendable (_ account: AccountCredentials, _ base: RedirectConfiguration, _ logger: Logger) throws ->
        AccountService

    /// Each service's factory. Every account is Snom XML-RPC's today; an account's kind picks the entry once
    /// accounts have one.
    public static let factories: [ServiceKind: Factory] = [
        .snomXMLRPC: { account, base, logger in
            let (client, close) = try RedirectClient.withOwnPool(
                configuration: account.redirectConfiguration(base: base), logger: logger)
            return AccountService(service: client, close: close)
        }
    ]

    /// The factory of `kind`.
    public static func factory(for kind: ServiceKind) throws(StoreError) -> Factory {
        guard let factory = Self.factories[kind] else {
            throw StoreError.invalid("no provisioning service of kind \(kind) is known to this provhook")
        }
        return factory
    }
}
