import Fanvil
import Gigaset
import Logging
import Panasonic
import PolyZTP
import ProvHookCore
import ProvisioningModel
import SnomSRAPS
import SnomXMLRPC
import VendorHTTP
import YealinkRPS
import YealinkStyleRPS
import YealinkYMCS

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
            .gigasetGRAPE: SnomSRAPSAccounts.factory(
                .grape, base: snomXMLRPC, allowsPlainHTTP: allowsPlainHTTP, logger: logger),
            .yealinkRPS: YealinkRPSAccounts.factory(base: snomXMLRPC, allowsPlainHTTP: allowsPlainHTTP, logger: logger),
            .yealinkYMCS: YealinkYMCSAccounts.factory(
                base: snomXMLRPC, allowsPlainHTTP: allowsPlainHTTP, logger: logger),
            .polyZTP: PolyZTPAccounts.factory(base: snomXMLRPC, allowsPlainHTTP: allowsPlainHTTP, logger: logger),
            .panasonic: XMLRPCLoginAccounts.factory(
                PanasonicClient.self, base: snomXMLRPC, allowsPlainHTTP: allowsPlainHTTP, logger: logger),
            .gigaset: XMLRPCLoginAccounts.factory(
                GigasetClient.self, base: snomXMLRPC, allowsPlainHTTP: allowsPlainHTTP, logger: logger),
            .htek: YealinkStyleRPSAccounts.factory(
                .htek, base: snomXMLRPC, allowsPlainHTTP: allowsPlainHTTP, logger: logger),
            .akuvox: YealinkStyleRPSAccounts.factory(
                .akuvox, base: snomXMLRPC, allowsPlainHTTP: allowsPlainHTTP, logger: logger),
            .fanvil: XMLRPCLoginAccounts.factory(
                FanvilClient.self, base: snomXMLRPC, allowsPlainHTTP: allowsPlainHTTP, logger: logger),
        ])
    }

    /// What each kind of `standard` is: its service's descriptor (batch size, listing, whether it has an override
    /// flag), known without making a client.
    public static let standardDescriptors: [ServiceKind: ServiceDescriptor] = Dictionary(
        uniqueKeysWithValues: [
            RedirectClient.descriptor, SRAPSClient.descriptor, SRAPSClient.grapeDescriptor, YealinkRPSClient.descriptor,
            YMCSClient.descriptor,
            PolyZTPClient.descriptor, PanasonicClient.descriptor, YealinkStyleRPSClient.htekDescriptor,
            YealinkStyleRPSClient.akuvoxDescriptor, FanvilClient.descriptor, GigasetClient.descriptor,
        ].map { ($0.kind, $0) })

    /// Checks what an account of `kind` sets against its service: a URL ends with '/' where the service's own does,
    /// and `override`, `serial_required` and `profile` only for a service that has such a thing (a conflict with the
    /// account's kind otherwise).
    public static func check(kind: ServiceKind, changes: AccountChanges, adding: Bool = false) throws(StoreError) {
        guard let descriptor = Self.standardDescriptors[kind] else { return }
        if adding, descriptor.needsIdentity, changes.user == nil {
            throw .invalid("an account of kind \(kind) needs its identity at the service (a user, key id or client id)")
        }
        if !descriptor.needsIdentity, changes.user != nil {
            throw .invalid("an account of kind \(kind) has no user: its API key is the whole credential")
        }
        let url = changes.url ?? nil
        if adding, descriptor.defaultURL == nil, url == nil {
            throw .invalid("an account of kind \(kind) needs the service's URL (--region or --url)")
        }
        // A service's root ends with '/' unless its own production endpoint does not (Yealink RPS's).
        if let url, descriptor.defaultURL?.hasSuffix("/") ?? true, let path = try? ServiceURL(url).path,
            !path.hasSuffix("/")
        {
            throw .invalid(
                "an account's URL must end with '/', as the service's does (\(descriptor.defaultURL ?? "…/"))")
        }
        let asked: [(AccountOptions, String, Bool)] = [
            (.override, "override", changes.override == true),
            (.serialRequired, "serial-required", changes.serialRequired == true),
            (.profile, "profile", (changes.profile ?? nil) != nil),
        ]
        for (option, name, isSet) in asked where isSet && !descriptor.accountOptions.contains(option) {
            let kinds = Self.standardDescriptors.values.filter { $0.accountOptions.contains(option) }
                .map(\.kind.rawValue).sorted()
            throw .conflict(
                "an account of kind \(kind) cannot set \(name): its service has no such thing (only \(kinds.joined(separator: ", ")))"
            )
        }
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
    /// What `body` makes of this account's settings; what it throws, as this account's refusal (`invalid`, naming
    /// the account).
    func attributing<T>(_ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch {
            throw .invalid("account \(self.name): \(error)")
        }
    }

    /// How this account's client reaches its service: its own CA file and concurrency, the installation's timeouts
    /// and, where it sets no concurrency, the installation's (`base`, from `PROVHOOK_REDIRECT_*`); `http://` only if
    /// `allowsPlainHTTP`.
    func connection(base: RedirectConfiguration, allowsPlainHTTP: Bool) -> VendorConnection {
        VendorConnection(
            caFile: self.caFile, allowsPlainHTTP: allowsPlainHTTP, connectTimeout: base.connection.connectTimeout,
            readTimeout: base.connection.readTimeout,
            maxConnections: self.concurrency ?? base.connection.maxConnections)
    }

    /// `configuration` once `validate` accepts it; its refusal as this account's.
    func checked<Settings>(
        _ configuration: Settings, _ validate: (Settings) throws -> Void
    ) throws(StoreError) -> Settings {
        try self.attributing { try validate(configuration) }
        return configuration
    }

    /// Where the account's calls go: its own URL, else its kind's default (`PROVHOOK_REDIRECT_URL` for Snom
    /// XML-RPC, SRAPS's production API root for SRAPS). A URL is not a secret.
    public func serviceURL(base: RedirectConfiguration) -> String {
        switch self.kind {
        case .snomSRAPS: self.url ?? SRAPSService.snom.defaultBaseURL
        case .gigasetGRAPE: self.url ?? SRAPSService.grape.defaultBaseURL
        case .yealinkRPS: self.url ?? YealinkRPSConfiguration.defaultEndpoint
        case .yealinkYMCS: self.url ?? "(no region)"
        case .polyZTP: self.url ?? PolyZTPConfiguration.defaultBaseURL
        case .panasonic: self.url ?? PanasonicClient.defaultEndpoint
        case .gigaset: self.url ?? GigasetClient.defaultEndpoint
        case .htek: self.url ?? RPSDialect.htek.defaultEndpoint
        case .akuvox: self.url ?? RPSDialect.akuvox.defaultEndpoint
        case .fanvil: self.url ?? FanvilClient.defaultEndpoint
        default: self.redirectConfiguration(base: base).endpoint
        }
    }
}
