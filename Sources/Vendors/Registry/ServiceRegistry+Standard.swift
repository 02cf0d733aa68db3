import Logging
import ProvHookCore
import ProvisioningModel
import SnomSRAPS
import SnomXMLRPC

extension ServiceRegistry {
    /// Every provisioning service this provhook can call, an entry per vendor's service (a file each in this folder).
    ///
    /// - Parameters:
    ///   - snomXMLRPC: the installation's `PROVHOOK_REDIRECT_*` settings, which a Snom XML-RPC account uses for what
    ///     it does not set, and whose timeouts every service's client takes.
    ///   - allowsPlainHTTP: `PROVHOOK_REDIRECT_ALLOW_HTTP`: whether an account may call an `http://` URL (a local
    ///     stand-in), which would send its secret in clear.
    public static func standard(
        snomXMLRPC: RedirectConfiguration, allowsPlainHTTP: Bool, logger: Logger
    ) -> ServiceRegistry {
        ServiceRegistry([
            .snomXMLRPC: SnomXMLRPCAccounts.factory(base: snomXMLRPC, allowsPlainHTTP: allowsPlainHTTP, logger: logger),
            .snomSRAPS: SnomSRAPSAccounts.factory(base: snomXMLRPC, allowsPlainHTTP: allowsPlainHTTP, logger: logger),
        ])
    }
}

extension ServiceRegistry {
    /// The kinds `standard` can make a client for: what `account add --kind` and the admin API accept. Read from
    /// `standard` itself (making its factories makes no client), so that the two cannot disagree.
    public static let standardKinds: [ServiceKind] = Self.standard(
        snomXMLRPC: RedirectConfiguration(user: "", password: ""), allowsPlainHTTP: false,
        logger: Logger(label: "provhook")
    ).kinds

    /// The kind named `name`, or why it is none that this provhook can call (naming those it can).
    public static func standardKind(named name: String) throws(StoreError) -> ServiceKind {
        guard let kind = Self.standardKinds.first(where: { $0.rawValue == name }) else {
            throw .invalid(
                "kind \(name.debugDescription) is none of \(Self.standardKinds.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return kind
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

extension AccountCredentials {
    /// Where the account's calls go: its own URL, else its kind's default (`PROVHOOK_REDIRECT_URL` for Snom
    /// XML-RPC, SRAPS's production API root for SRAPS). A URL is not a secret.
    public func serviceURL(base: RedirectConfiguration) -> String {
        switch self.kind {
        case .snomSRAPS: self.url ?? SRAPSConfiguration.defaultBaseURL
        default: self.redirectConfiguration(base: base).endpoint
        }
    }
}
