/// What a phone vendor's provisioning (redirection) service can do for provhook: the one protocol each vendor under
/// `Sources/Vendors/` conforms to, and all that delivery and reconcile know of a vendor.
///
/// Each call is made with one account's credentials and answers for that account. Transport failures throw
/// `RedirectError`; the service's own refusals come back as outcomes, which the worker journals.
public protocol ProvisioningService: Sendable {
    /// Which service this is, what it needs beyond a MAC, and how it batches and lists.
    var descriptor: ServiceDescriptor { get }

    /// Points `mac` at the provisioning `url`.
    func register(_ mac: MACAddress, at url: String) async throws(RedirectError) -> RedirectOutcome
    /// Removes `mac`'s redirection.
    func deregister(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome
    /// Points every MAC of `macs` at `url` in one call; called only with at most `descriptor.maxBatchSize` MACs.
    func register(_ macs: [MACAddress], at url: String) async throws(RedirectError) -> ListOutcome
    /// `register(_:at:)` with the serial numbers the PBX gave, for a service that may need them
    /// (`DeviceRequirements.serialNumber`); a phone the service cannot take without one is `serialRequired`. For a
    /// service that needs the code printed on the phone instead (`DeviceRequirements.deviceCode`), `serials` holds
    /// those codes, and a phone without one is `codeRequired`.
    func register(
        _ macs: [MACAddress], serials: [MACAddress: String], at url: String
    ) async throws(RedirectError) -> ListOutcome
    /// `register(_:at:)` for one MAC with its serial number when the PBX gave one.
    func register(_ mac: MACAddress, serial: String?, at url: String) async throws(RedirectError) -> RedirectOutcome
    /// Removes the redirections of `macs` in one call; called only with at most `descriptor.maxBatchSize` MACs.
    func deregister(_ macs: [MACAddress]) async throws(RedirectError) -> ListOutcome
    /// Where the service points `mac`, and which account holds it.
    func redirection(of mac: MACAddress) async throws(RedirectError) -> PhoneRedirection
    /// `.ok` when this account holds `mac`; otherwise the service's reason (`noSuchMAC`, `ownedByOtherUser`).
    func ownership(of mac: MACAddress) async throws(RedirectError) -> RedirectOutcome
    /// The MACs this account holds of `model` (as `descriptor.listing` says the service names models), only those
    /// pointed at `url` when given: what reconcile compares with the database.
    func registeredMACs(model: String, url: String?) async throws(RedirectError) -> [MACAddress]
    /// Every MAC this account holds, with the URL each points at: what reconcile compares with the database when
    /// `descriptor.listing` is `.everything`.
    func registrations() async throws(RedirectError) -> [AccountRegistration]
    /// Checks that the service takes this account's credentials, with the cheapest call it has (`status`): throws
    /// `authenticationFailed` when it does not, and any other `RedirectError` when the service cannot be asked.
    func checkCredentials() async throws(RedirectError)
    /// What `registrations()` and `redirection(of:)` report for `mac` once it is registered at `url`: what reconcile
    /// compares them with. `url` itself, except for a service that holds less than a URL per phone (Poly ZTP holds
    /// a profile, whose server address is `url`'s directory when `url` names the phone's file).
    func heldURL(for url: String, of mac: MACAddress) -> String
    /// The PIN the service keeps for each of `macs` that has one (Yealink YMCS's `listDevicePins`), asked after it
    /// registered them when `descriptor.keepsDevicePINs`; called only with at most `descriptor.maxBatchSize` MACs.
    func devicePINs(_ macs: [MACAddress]) async throws(RedirectError) -> [MACAddress: String]
}

extension ProvisioningService {
    /// By default, one ownership question about a MAC nobody holds: any answer of the service means it took the
    /// credentials.
    public func checkCredentials() async throws(RedirectError) {
        _ = try await self.ownership(of: MACAddress("000413000000")!)
    }

    /// For services that need no serial number: `register(_:at:)`, the serials unused.
    public func register(
        _ macs: [MACAddress], serials: [MACAddress: String], at url: String
    ) async throws(RedirectError) -> ListOutcome {
        try await self.register(macs, at: url)
    }

    /// For services that need no serial number: `register(_:at:)`, the serial unused.
    public func register(
        _ mac: MACAddress, serial: String?, at url: String
    ) async throws(RedirectError) -> RedirectOutcome {
        try await self.register(mac, at: url)
    }

    /// By default a service holds the URL itself.
    public func heldURL(for url: String, of mac: MACAddress) -> String { url }

    /// By default a service keeps no PINs (`descriptor.keepsDevicePINs` is false).
    public func devicePINs(_ macs: [MACAddress]) async throws(RedirectError) -> [MACAddress: String] { [:] }

    /// For services that cannot list everything an account holds (`descriptor.listing` is not `.everything`): refused
    /// as a request this service cannot make, so that a caller that forgets to check the listing fails loudly.
    public func registrations() async throws(RedirectError) -> [AccountRegistration] {
        throw .invalidRequest("\(self.descriptor.name) cannot list every registration of an account")
    }
}

/// One MAC an account holds, and where the service points it.
public struct AccountRegistration: Sendable, Hashable {
    /// The phone's MAC.
    public var mac: MACAddress
    /// The provisioning URL the service holds for it, or nil when it holds none.
    public var url: String?

    /// A registration of `mac` at `url`.
    public init(mac: MACAddress, url: String?) { (self.mac, self.url) = (mac, url) }
}

/// A provisioning service, as delivery, reconcile and the operator see it.
public struct ServiceDescriptor: Sendable, Hashable {
    /// How reconcile can list what an account holds.
    public enum Listing: Sendable, Hashable {
        /// By model name, one call per model (Snom XML-RPC's `listPhones`).
        case byModel
        /// Every registration of the account at once, whatever the model, with its URL (Snom SRAPS's paginated
        /// `GET endpoints/`): `registrations()` answers it.
        case everything
        /// No listing: each device is looked up on its own.
        case unavailable
    }

    /// Which service, as accounts and the registry name it.
    public var kind: ServiceKind
    /// A name for operators, such as "Snom redirection service (XML-RPC)".
    public var name: String
    /// What a registration needs besides the MAC.
    public var requirements: DeviceRequirements
    /// The most MACs one batch call may carry: nil when the service states no cap (then `PROVHOOK_LIST_SIZE` alone
    /// bounds it), 1 when it has no batch call.
    public var maxBatchSize: Int?
    /// How the account's registrations can be listed.
    public var listing: Listing
    /// What an account of the service may set besides its login (`account --override`, `--serial-required`,
    /// `--profile`); an account of another kind is refused them.
    public var accountOptions: AccountOptions
    /// Whether an account has an identity besides its secret (a user, a key id, a client id); false for a service
    /// that takes a key alone (Poly ZTP's API key).
    public var needsIdentity: Bool
    /// The service's production URL, which an account of the kind calls when it names none. An account's own URL
    /// ends with '/' when this one does (Snom's XML-RPC service answers an error without its trailing slash).
    public var defaultURL: String?
    /// Whether the service keeps a PIN for each phone it registered that the phone may ask for on first boot
    /// (Yealink YMCS): provhook then fetches it after each registration with `devicePINs(_:)` and keeps it sealed.
    public var keepsDevicePINs: Bool
    /// Whether the service can say, for one MAC, whether the account holds it (`ownership(of:)`,
    /// `redirection(of:)`). False for a service with no such call (Fanvil FDPS): reconcile then reports the account
    /// as not checkable instead of checking its devices, and its lookups throw `invalidRequest`.
    public var canCheckDevices: Bool

    public init(
        kind: ServiceKind, name: String, requirements: DeviceRequirements = [], maxBatchSize: Int?,
        listing: Listing, accountOptions: AccountOptions = [], needsIdentity: Bool = true, defaultURL: String? = nil,
        keepsDevicePINs: Bool = false, canCheckDevices: Bool = true
    ) {
        self.keepsDevicePINs = keepsDevicePINs
        self.canCheckDevices = canCheckDevices
        self.needsIdentity = needsIdentity
        self.accountOptions = accountOptions
        self.defaultURL = defaultURL
        self.kind = kind
        self.name = name
        self.requirements = requirements
        self.maxBatchSize = maxBatchSize
        self.listing = listing
    }

    /// MACs per batch call: the installation's `limit`, capped by the service's own.
    public func batchSize(within limit: Int) -> Int {
        max(1, min(limit, self.maxBatchSize ?? limit))
    }
}

/// Which provisioning service: the key a vendor registers under.
public struct ServiceKind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Snom's redirection service over XML-RPC (`secure-provisioning.snom.com:8083/xmlrpc/`): an account of kind
    /// `snom`, every account's kind before there were others.
    public static let snomXMLRPC = ServiceKind(rawValue: "snom")
    /// Snom's provisioning service SRAPS, REST signed with Hawk (`api.sraps.snom.com/api/v1/`): an account of kind
    /// `snom-sraps`.
    public static let snomSRAPS = ServiceKind(rawValue: "snom-sraps")
    /// Yealink's RPS over XML-RPC (`api-dm.yealink.com:8443/xmlrpc`), basic auth: an account of kind `yealink-rps`.
    public static let yealinkRPS = ServiceKind(rawValue: "yealink-rps")
    /// Yealink's device management cloud YMCS, REST with OAuth client credentials (`{us,eu,au}-api.ymcs.yealink.com`):
    /// an account of kind `yealink-ymcs`.
    public static let yealinkYMCS = ServiceKind(rawValue: "yealink-ymcs")
    /// Poly's Zero Touch Provisioning (`api.ztp.poly.com/v1`), REST with an `API-KEY` header: an account of kind
    /// `poly-ztp`.
    public static let polyZTP = ServiceKind(rawValue: "poly-ztp")
    /// Panasonic's redirection service (`provisioning.e-connecting.net/redirect/xmlrpc`), `ipredirect.*` over
    /// XML-RPC with basic auth: an account of kind `panasonic`.
    public static let panasonic = ServiceKind(rawValue: "panasonic")
    /// Gigaset's provisioning service GRAPE (`api.grape.gigaset.net/api/v1/`), SRAPS's API with Hawk: an account of
    /// kind `gigaset-grape`.
    public static let gigasetGRAPE = ServiceKind(rawValue: "gigaset-grape")
    /// Gigaset's auto-provisioning service (`prov.gigaset.net/apxml/rpc.do`), `autoprov.*` over XML-RPC with basic
    /// auth, each MAC sent with the code printed on the phone: an account of kind `gigaset`.
    public static let gigaset = ServiceKind(rawValue: "gigaset")
    /// Htek's RPS, a copy of Yealink's XML-RPC API with named servers (`rps.htek.com/index.php/xmlrpc`), basic auth:
    /// an account of kind `htek`.
    public static let htek = ServiceKind(rawValue: "htek")
    /// Akuvox's RPS, the same API at a plain-HTTP endpoint (`58.96.188.87/fcgi/do?id=1`), basic auth: an account of
    /// kind `akuvox`.
    public static let akuvox = ServiceKind(rawValue: "akuvox")
    /// Fanvil's FDPS (`fdps.fanvil.com/xmlrpc.php`), `redirect.*` over XML-RPC with basic auth whose password is the
    /// hex md5 of the hex md5 of the account's: an account of kind `fanvil`.
    public static let fanvil = ServiceKind(rawValue: "fanvil")

    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { self.rawValue }

    /// The vendor whose phones the service provisions: a kind is named `VENDOR` or `VENDOR-SERVICE` (`snom`,
    /// `snom-sraps`), so its first word is the vendor's slug. A tenant has one account per vendor.
    public var vendor: Vendor? {
        Vendor(rawValue: String(self.rawValue.prefix { $0 != "-" }))
    }
}

/// What an account of a service may set besides its login, where the service has such a thing.
public struct AccountOptions: OptionSet, Sendable, Hashable {
    public let rawValue: Int

    public init(rawValue: Int) { self.rawValue = rawValue }

    /// An override flag, with which the account takes a MAC another account of the service holds; services without
    /// one refuse such a registration, always (a conflict).
    public static let override = AccountOptions(rawValue: 1 << 0)
    /// Registration by serial number, for an account the service has not enabled for MAC-only registration.
    public static let serialRequired = AccountOptions(rawValue: 1 << 1)
    /// A service-side profile the account's phones are assigned to, named by the operator.
    public static let profile = AccountOptions(rawValue: 1 << 2)
}

/// What a service needs to register a phone besides its MAC (Yealink's and Grandstream GDMS's calls take the
/// serial number, for example).
public struct DeviceRequirements: OptionSet, Sendable, Hashable {
    public let rawValue: Int

    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The phone's serial number.
    public static let serialNumber = DeviceRequirements(rawValue: 1 << 0)
    /// The phone's model, as the vendor names it.
    public static let model = DeviceRequirements(rawValue: 1 << 1)
    /// The code printed on the phone beside its MAC (Gigaset's 4 characters, `GigasetCode`), which the service takes
    /// in place of a serial number: the worker passes it where it would pass the serial.
    public static let deviceCode = DeviceRequirements(rawValue: 1 << 2)
}

/// A service with no batch call (`maxBatchSize` 1): its list calls are one call per MAC in turn, each registration
/// with the serial (or code) the PBX gave for that MAC; refusals become a partial outcome, errors stop the list.
public protocol OneMACPerCallService: ProvisioningService {}

extension OneMACPerCallService {
    /// One registration per MAC, none with a serial.
    public func register(_ macs: [MACAddress], at url: String) async throws(RedirectError) -> ListOutcome {
        try await self.register(macs, serials: [:], at: url)
    }

    /// One registration per MAC, each with its serial from `serials` (`register(_:serial:at:)`).
    public func register(
        _ macs: [MACAddress], serials: [MACAddress: String], at url: String
    ) async throws(RedirectError) -> ListOutcome {
        try await ListOutcome.applyingEach(macs) { (mac: MACAddress) throws(RedirectError) in
            try await self.register(mac, serial: serials[mac], at: url)
        }
    }

    /// One deregistration per MAC.
    public func deregister(_ macs: [MACAddress]) async throws(RedirectError) -> ListOutcome {
        try await ListOutcome.applyingEach(macs) { (mac: MACAddress) throws(RedirectError) in
            try await self.deregister(mac)
        }
    }
}

/// A service that says whether the account holds a MAC but not where it points (Yealink's RPS, Panasonic's and
/// Gigaset's services): `redirection(of:)` is `.held` when `ownership(of:)` is `.ok`, else the service's refusal.
/// Reconcile cannot see a URL drift there.
public protocol OwnershipOnlyLookups: ProvisioningService {}

extension OwnershipOnlyLookups {
    public func redirection(of mac: MACAddress) async throws(RedirectError) -> PhoneRedirection {
        switch try await self.ownership(of: mac) {
        case .ok: .held
        case .error(let code): .error(code)
        }
    }
}

/// A value that holds a secret (a service's settings, an account's credentials): its `description` names what it
/// holds except the secret, and its `debugDescription` is the same, so that neither a log line, an error message nor
/// `String(reflecting:)` carries the secret along.
public protocol SecretHolding: CustomStringConvertible, CustomDebugStringConvertible {}

extension SecretHolding {
    public var debugDescription: String { self.description }
}
