import Foundation

/// The YMCS stand-in's data: OAuth clients and their organisations, tokens, devices, and a log of every request.
public actor FakeYMCSState {
    /// One OAuth client, in an organisation.
    public struct Client: Sendable, Hashable {
        public var secret: String
        public var organisation: String
        public init(secret: String, organisation: String) { (self.secret, self.organisation) = (secret, organisation) }
    }

    /// One device, held by an organisation.
    public struct Device: Sendable, Hashable {
        public var id: String
        public var organisation: String
        public var url: String?
        public var serial: String?
        public var pin: String
    }

    /// One request the stand-in received.
    public struct Call: Sendable {
        public var path: String
        /// The organisation whose token or credentials it carried, when valid.
        public var organisation: String?
        public var status: Int
        /// The MACs the request named.
        public var macs: [String]
    }

    public private(set) var clients: [String: Client]
    /// Organisations that may register by MAC alone; the others need each phone's serial number.
    public var macOnlyOrganisations: Set<String>
    /// Devices by MAC (12 lowercase hex digits).
    public private(set) var devices: [String: Device] = [:]
    public private(set) var calls: [Call] = []
    /// Tokens handed out: organisation and expiry.
    private var tokens: [String: (organisation: String, expires: Date)] = [:]
    private var seenNonces: Set<String> = []
    /// How long a new token lives.
    public var tokenLifetime: TimeInterval = 7200
    private var pendingFailures: [(status: Int, code: String)] = []
    /// How long `addDevicesByMac` waits, once it has added the devices, before it answers: a client killed in that
    /// time leaves the devices added without knowing it.
    public private(set) var addAnswerDelay: Duration = .zero
    private var nextID = 1

    /// The PIN a device gets when it is added, from its MAC (12 lowercase hex digits).
    private let pinForMAC: @Sendable (String) -> String

    /// `pins` gives each device its PIN; by default six digits derived from the MAC, as YMCS's look.
    public init(
        clients: [String: Client], macOnlyOrganisations: Set<String>,
        pins: @escaping @Sendable (String) -> String = FakeYMCSState.pin(for:)
    ) {
        self.clients = clients
        self.macOnlyOrganisations = macOnlyOrganisations
        self.pinForMAC = pins
    }

    // MARK: - Setup and inspection

    /// Puts a device in an organisation directly.
    public func setDevice(_ mac: String, organisation: String?, url: String? = nil, serial: String? = nil) {
        let key = mac.lowercased()
        guard let organisation else {
            self.devices[key] = nil
            return
        }
        self.devices[key] = Device(
            id: self.newID(), organisation: organisation, url: url, serial: serial, pin: self.pinForMAC(key))
    }

    public func device(_ mac: String) -> Device? { self.devices[mac.lowercased()] }

    /// Makes every token handed out so far expired, as if the service had revoked them.
    public func expireTokens() { self.tokens = self.tokens.mapValues { ($0.organisation, .distantPast) } }

    public func setTokenLifetime(_ seconds: TimeInterval) { self.tokenLifetime = seconds }

    public func setMACOnly(_ organisation: String, _ enabled: Bool) {
        if enabled {
            self.macOnlyOrganisations.insert(organisation)
        } else {
            self.macOnlyOrganisations.remove(organisation)
        }
    }

    /// Makes `addDevicesByMac` answer `delay` after it has added the devices.
    public func delayAddAnswers(_ delay: Duration) { self.addAnswerDelay = delay }

    /// The next `count` API requests (not token requests) are answered with this status and YMCS code.
    public func failNext(_ count: Int, status: Int, code: String) {
        self.pendingFailures.append(contentsOf: repeatElement((status: status, code: code), count: count))
    }

    func takeFailure() -> (status: Int, code: String)? {
        self.pendingFailures.isEmpty ? nil : self.pendingFailures.removeFirst()
    }

    func record(_ call: Call) { self.calls.append(call) }

    // MARK: - Authentication

    /// Whether `nonce` is new (a replayed nonce is refused).
    func useNonce(_ nonce: String) -> Bool { self.seenNonces.insert(nonce).inserted }

    /// A token for the client, when its secret is right.
    func issueToken(clientID: String, secret: String) -> String? {
        guard let client = self.clients[clientID], client.secret == secret else { return nil }
        let token = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        self.tokens[token] = (client.organisation, Date().addingTimeInterval(self.tokenLifetime))
        return token
    }

    /// The organisation of a valid, unexpired token.
    func organisation(ofToken token: String) -> String? {
        guard let entry = self.tokens[token], entry.expires > Date() else { return nil }
        return entry.organisation
    }

    // MARK: - The service

    /// `addDevicesByMac` for one organisation: the error info of each MAC that failed.
    func addByMAC(_ entries: [(mac: String, url: String?)], organisation: String) -> [(mac: String, info: String)] {
        var errors: [(String, String)] = []
        for (mac, url) in entries {
            guard Self.isMAC(mac) else {
                errors.append((mac, "Invalid MAC"))
                continue
            }
            let key = mac.lowercased()
            if let held = self.devices[key] {
                errors.append(
                    (
                        mac,
                        held.organisation == organisation
                            ? "Resource already exists" : "Device already managed by another organization"
                    ))
                continue
            }
            self.devices[key] = Device(
                id: self.newID(), organisation: organisation, url: url, serial: nil, pin: self.pinForMAC(key))
        }
        return errors
    }

    /// `POST v2/rps/devices`: nil when added, else the code and message of the refusal.
    func addWithSerial(mac: String, serial: String, url: String?, organisation: String) -> (String, String)? {
        guard Self.isMAC(mac) else { return ("800001", "Invalid MAC") }
        guard serial.count <= 32, !serial.isEmpty, serial.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return ("800002", "Invalid SN") }
        let key = mac.lowercased()
        if let held = self.devices[key] {
            return held.organisation == organisation
                ? ("800003", "Resource already exists") : ("800004", "Device already managed by another organization")
        }
        self.devices[key] = Device(
            id: self.newID(), organisation: organisation, url: url, serial: serial, pin: self.pinForMAC(key))
        return nil
    }

    /// `delDevices` by MAC: the MACs not deleted, with why.
    func delete(_ macs: [String], organisation: String) -> [(field: String, msg: String)] {
        var errors: [(String, String)] = []
        for mac in macs {
            let key = mac.lowercased()
            guard Self.isMAC(mac), let held = self.devices[key], held.organisation == organisation else {
                errors.append((mac, "Resource not found"))
                continue
            }
            self.devices[key] = nil
        }
        return errors
    }

    /// A page of the organisation's devices, by MAC, and how many there are.
    func list(organisation: String, skip: Int, limit: Int, mac: String?) -> (page: [(String, Device)], total: Int) {
        let all = self.devices.filter { $0.value.organisation == organisation && (mac == nil || $0.key == mac) }
            .sorted { $0.key < $1.key }
        let page = all.dropFirst(max(0, skip)).prefix(max(0, limit))
        return (Array(page).map { ($0.key, $0.value) }, all.count)
    }

    private func newID() -> String {
        defer { self.nextID += 1 }
        return String(format: "dev%08d", self.nextID)
    }

    /// 12 hex digits, either case, no separators: what YMCS's clients send (falconieri and fspbx lowercase).
    static func isMAC(_ text: String) -> Bool { text.utf8.count == 12 && text.allSatisfy(\.isHexDigit) }

    /// Six digits derived from `mac`.
    public static func pin(for mac: String) -> String {
        String(mac.unicodeScalars.reduce(7) { ($0 &* 31 &+ Int($1.value)) % 1_000_000 }).leftPadded(to: 6)
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - self.count)) + self
    }
}
