import ProvisioningModel

/// A PBX's API, asked for what its webhooks leave out: the MAC, model, brand and serial number of a device known only
/// by its id.
public protocol DeviceDirectory: Sendable {
    /// The device `id`, in the PBX account `account` where the PBX has accounts (Kazoo) and the event said which.
    func device(id: String, account: String?) async throws(DirectoryError) -> DirectoryDevice
    /// Closes the client's connections; it is not used after.
    func shutdown() async
}

/// What a PBX's API says about one device.
public struct DirectoryDevice: Sendable, Hashable {
    /// The device's MAC; nil when the PBX has none for it (a softphone, a device added without one).
    public var mac: MACAddress?
    /// The phone's model, as the PBX names it (at most 64 characters).
    public var model: String?
    /// The phone's brand, as the PBX names it (at most 64 characters), passed on as text: the planner decides the
    /// vendor from it.
    public var brand: String?
    /// The phone's serial number, when the PBX keeps one that is a serial number (`DeviceSerial.lenient`).
    public var serial: String?

    public init(mac: MACAddress?, model: String?, brand: String?, serial: String? = nil) {
        (self.mac, self.model, self.brand, self.serial) = (mac, model, brand, serial)
    }
}

/// Why a lookup gave no device. Only `notFound` is final: everything else can pass and is tried again.
public enum DirectoryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The PBX answered that it has no such device (deleted since, or never there).
    case notFound(String)
    /// The PBX refused the source's credentials.
    case unauthorized(String)
    /// The PBX could not be reached, was too slow, or failed.
    case unavailable(String)
    /// The PBX answered something this client does not understand.
    case invalidAnswer(String)

    /// Whether the same lookup may succeed later.
    public var isTransient: Bool {
        if case .notFound = self { return false }
        return true
    }

    /// A stable code, for the journal and the metrics; a lookup that fails for good is rejected with it.
    public var code: EventRejection.Code {
        switch self {
        case .notFound: .deviceNotFound
        case .unauthorized: .lookupUnauthorized
        case .unavailable: .lookupUnavailable
        case .invalidAnswer: .lookupInvalidAnswer
        }
    }

    public var description: String {
        switch self {
        case .notFound(let text), .unauthorized(let text), .unavailable(let text), .invalidAnswer(let text): text
        }
    }
}

/// Where a PBX's API is, and how provhook authenticates to it. The secret never appears in a description.
public struct DirectoryConfiguration: Sendable, Hashable {
    /// The API's base URL: Kazoo's crossbar including `/v2` (`https://kazoo.example.com:8443/v2`), or the Wazo host
    /// (`https://wazo.example.com`, under which `/api/auth/0.1` and `/api/confd/1.1` are).
    public var baseURL: String
    /// The Wazo user (a web-service user) whose password is `secret`; nil for Kazoo.
    public var user: String?
    /// The Kazoo API key, or the Wazo user's password.
    public var secret: String
    /// A PEM file of CAs trusted besides the system's, for a PBX with a private CA.
    public var caFile: String?
    /// The Wazo tenant to act in (`Wazo-Tenant`), for a user that sees several.
    public var tenant: String?
    /// How long to wait for a connection, and then for the whole answer.
    public var connectTimeout: Duration
    public var readTimeout: Duration

    public init(
        baseURL: String, user: String? = nil, secret: String, caFile: String? = nil, tenant: String? = nil,
        connectTimeout: Duration = .seconds(5), readTimeout: Duration = .seconds(10)
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.user = user
        self.secret = secret
        self.caFile = caFile
        self.tenant = tenant
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }
}

/// A PBX's API read whole, a page at a time, for a sync: every device of an account (Kazoo) or of the user's
/// tenant (Wazo).
public protocol DeviceListing: Sendable {
    /// One page of devices from `cursor` (nil: the first), and the cursor of the next page (nil after the last).
    func devices(
        account: String?, after cursor: String?, pageSize: Int
    ) async throws(DirectoryError) -> (devices: [ListedDevice], next: String?)
}

/// One device of a PBX's listing.
public struct ListedDevice: Sendable, Hashable {
    /// The PBX's id of the device.
    public var id: String
    /// Its MAC; nil when it has none (a softphone) or one provhook cannot read (counted, never guessed).
    public var mac: MACAddress?
    /// False when the PBX keeps the device but has it disabled.
    public var enabled: Bool
    /// Its model, when the listing gives it (Wazo does; Kazoo's listing does not).
    public var model: String?
    /// Its brand, when the listing gives it (as for `model`).
    public var brand: String?
    /// Its serial number, when the listing gives one (Wazo's `sn`, FusionPBX's `device_serial_number`).
    public var serial: String?

    public init(id: String, mac: MACAddress?, enabled: Bool, model: String?, brand: String?, serial: String? = nil) {
        (self.id, self.mac, self.enabled, self.model, self.brand, self.serial) = (
            id, mac, enabled, model, brand, serial
        )
    }
}
