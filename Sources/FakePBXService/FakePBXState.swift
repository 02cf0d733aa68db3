import Foundation

/// The data of the PBX API stand-ins: Kazoo accounts with their API keys and devices, Wazo users and devices, the
/// tokens handed out, and every request seen (paths and statuses only, never a credential).
public actor FakePBXState {
    /// A Kazoo account: its API key, its parent (a reseller), and its devices' documents by id.
    public struct KazooAccount: Sendable {
        public var apiKey: String
        public var parent: String?
        public var devices: [String: KazooDevice]

        public init(apiKey: String, parent: String? = nil, devices: [String: KazooDevice] = [:]) {
            (self.apiKey, self.parent, self.devices) = (apiKey, parent, devices)
        }
    }

    /// The fields of a crossbar device document that the stand-in keeps.
    public struct KazooDevice: Sendable, Hashable {
        /// As crossbar stores it: 12 lowercase hex digits, or "" when unset.
        public var macAddress: String
        public var brand: String?
        public var model: String?
        public var enabled: Bool

        public init(macAddress: String, brand: String? = nil, model: String? = nil, enabled: Bool = true) {
            (self.macAddress, self.brand, self.model, self.enabled) = (macAddress, brand, model, enabled)
        }
    }

    /// A Wazo device, as confd stores it.
    public struct WazoDevice: Sendable, Hashable {
        /// `aa:bb:cc:dd:ee:ff`, lowercase, or nil.
        public var mac: String?
        public var vendor: String?
        public var model: String?
        public var tenantUUID: String

        public init(mac: String?, vendor: String? = nil, model: String? = nil, tenantUUID: String) {
            (self.mac, self.vendor, self.model, self.tenantUUID) = (mac, vendor, model, tenantUUID)
        }
    }

    /// One request, as the tests check it.
    public struct Request: Sendable, Hashable {
        public var method: String
        public var path: String
        public var status: Int
    }

    public private(set) var kazooAccounts: [String: KazooAccount]
    /// Wazo users: password and the tenant they belong to.
    public private(set) var wazoUsers: [String: (password: String, tenantUUID: String)]
    public private(set) var wazoDevices: [String: WazoDevice]
    private var kazooTokens: [String: String] = [:]
    private var wazoTokens: [String: (tenantUUID: String, expires: Date)] = [:]
    public private(set) var requests: [Request] = []
    /// Added before every answer: a slow PBX.
    public private(set) var latency: Duration = .zero
    /// Listing requests answered so far, and the one (counting from 1) answered 500 instead: a page that fails.
    public private(set) var listings = 0
    public private(set) var failingListing: Int?

    public init(
        kazooAccounts: [String: KazooAccount] = [:], wazoUsers: [String: (password: String, tenantUUID: String)] = [:],
        wazoDevices: [String: WazoDevice] = [:]
    ) {
        self.kazooAccounts = kazooAccounts
        self.wazoUsers = wazoUsers
        self.wazoDevices = wazoDevices
    }

    public func setLatency(_ latency: Duration) { self.latency = latency }

    /// Answers the `number`th listing request from now with 500 (nil: none).
    public func failListing(_ number: Int?) {
        self.failingListing = number.map { self.listings + $0 }
    }

    /// Counts a listing request; false when it is the one to fail.
    func listing() -> Bool {
        self.listings += 1
        return self.listings != self.failingListing
    }

    public func setKazooDevice(_ device: KazooDevice?, id: String, account: String) {
        self.kazooAccounts[account]?.devices[id] = device
    }

    public func setWazoDevice(_ device: WazoDevice?, id: String) {
        self.wazoDevices[id] = device
    }

    /// Makes every token handed out so far invalid, as an expiry or a restart of the PBX does.
    public func revokeTokens() {
        self.kazooTokens.removeAll()
        self.wazoTokens.removeAll()
    }

    func record(_ method: String, _ path: String, _ status: Int) {
        self.requests.append(Request(method: method, path: path, status: status))
    }

    // MARK: Kazoo

    func kazooLogin(apiKey: String) -> String? {
        guard let account = self.kazooAccounts.first(where: { $0.value.apiKey == apiKey })?.key else { return nil }
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        self.kazooTokens[token] = account
        return token
    }

    func kazooAccount(ofToken token: String) -> String? { self.kazooTokens[token] }

    func kazooAccount(_ id: String) -> KazooAccount? { self.kazooAccounts[id] }

    /// Whether `account` is `ancestor` or one of its descendants.
    func kazooAccount(_ account: String, isWithin ancestor: String) -> Bool {
        var current: String? = account
        var steps = 0
        while let id = current, steps < 16 {
            if id == ancestor { return true }
            current = self.kazooAccounts[id]?.parent
            steps += 1
        }
        return false
    }

    // MARK: Wazo

    func wazoLogin(user: String, password: String, expiration: Int) -> (token: String, expires: Date)? {
        guard let known = self.wazoUsers[user], known.password == password else { return nil }
        let token = UUID().uuidString.lowercased()
        let expires = Date().addingTimeInterval(TimeInterval(expiration))
        self.wazoTokens[token] = (known.tenantUUID, expires)
        return (token, expires)
    }

    func wazoTenant(ofToken token: String) -> String? {
        guard let entry = self.wazoTokens[token], entry.expires > Date() else { return nil }
        return entry.tenantUUID
    }
}
