import Foundation
import StandInSupport

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
        /// The serial number (`sn`), free text as confd keeps it.
        public var sn: String?

        public init(mac: String?, vendor: String? = nil, model: String? = nil, tenantUUID: String, sn: String? = nil) {
            (self.mac, self.vendor, self.model, self.tenantUUID, self.sn) = (mac, vendor, model, tenantUUID, sn)
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
    /// Each Kazoo account's device ids in order, and each Wazo tenant's, kept for the listings (a listing of 100,000
    /// devices would otherwise sort them all for every page); dropped whenever the devices change.
    private var kazooOrder: [String: [String]] = [:]
    private var wazoOrder: [String: [String]] = [:]
    private var wazoTokens: [String: (tenantUUID: String, expires: Date)] = [:]
    public private(set) var requests: [Request] = []
    /// Added before every answer: a slow PBX.
    public private(set) var latency: Duration = .zero
    /// Holds requests for a test, after the latency, and counts them as they arrive (`requests` lists only the
    /// answered ones).
    public nonisolated let hold = RequestHold()
    /// Listing requests answered so far, and the one (counting from 1) answered 500 instead: a page that fails.
    public private(set) var listings = 0
    public private(set) var failingListing: Int?
    /// Listing requests from this one on (counting from 1) are held this long before they are answered, for this
    /// Kazoo account only (nil: every listing): a PBX that stops answering midway.
    public private(set) var heldListings: (from: Int, delay: Duration, account: String?)?
    /// Whether crossbar's listing answers the same `next_start_key` on every page after the first: broken paging,
    /// which a client that trusts it reads for ever.
    public private(set) var repeatsNextStartKey = false

    /// What the stand-in does with one listing request.
    enum ListingFault: Sendable, Hashable {
        case none
        /// Answers 500.
        case fail
        /// Waits this long, then answers.
        case hold(Duration)
    }

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

    /// Holds the `number`th listing request from now, and every one after it, for `delay` before answering it;
    /// only the Kazoo `account`'s when given (nil: none held).
    public func holdListings(from number: Int?, for delay: Duration = .seconds(3600), account: String? = nil) {
        self.heldListings = number.map { (self.listings + $0, delay, account) }
    }

    /// Makes crossbar's listing answer the same `next_start_key` on every page (or stop doing so).
    public func repeatNextStartKey(_ repeats: Bool) {
        self.repeatsNextStartKey = repeats
    }

    /// Counts a listing request (of the Kazoo `account`, if any); says whether it fails or is held.
    func listing(account: String? = nil) -> ListingFault {
        self.listings += 1
        if self.listings == self.failingListing { return .fail }
        if let held = self.heldListings, self.listings >= held.from, held.account == nil || held.account == account {
            return .hold(held.delay)
        }
        return .none
    }

    public func setKazooDevice(_ device: KazooDevice?, id: String, account: String) {
        self.kazooAccounts[account]?.devices[id] = device
        self.kazooOrder[account] = nil
    }

    public func setWazoDevice(_ device: WazoDevice?, id: String) {
        self.wazoDevices[id] = device
        self.wazoOrder.removeAll()
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

    /// A page of `account`'s devices in id order: up to `size` from the first id at or after `key`, and the id that
    /// starts the next page, if any.
    func kazooPage(
        account: String, from key: String?, size: Int
    ) -> (page: [(id: String, device: KazooDevice)], next: String?) {
        let devices = self.kazooAccounts[account]?.devices ?? [:]
        let ids = self.kazooOrder[account] ?? devices.keys.sorted()
        self.kazooOrder[account] = ids
        let start = key.map { Self.firstIndex(in: ids, atOrAfter: $0) } ?? 0
        let page = ids[start...].prefix(size)
        return (page.map { ($0, devices[$0]!) }, page.endIndex < ids.endIndex ? ids[page.endIndex] : nil)
    }

    /// The index of the first of the sorted `ids` that is not below `key`.
    private static func firstIndex(in ids: [String], atOrAfter key: String) -> Int {
        var (low, high) = (0, ids.count)
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: Wazo

    func wazoLogin(user: String, password: String, expiration: Int) -> (token: String, expires: Date)? {
        guard let known = self.wazoUsers[user], known.password == password else { return nil }
        let token = UUID().uuidString.lowercased()
        let expires = Date().addingTimeInterval(TimeInterval(expiration))
        self.wazoTokens[token] = (known.tenantUUID, expires)
        return (token, expires)
    }

    /// A page of `tenant`'s devices in id order, from `offset`, and how many the tenant has.
    func wazoPage(
        tenant: String, offset: Int, limit: Int
    ) -> (page: [(id: String, device: WazoDevice)], total: Int) {
        let ids = self.wazoOrder[tenant] ?? self.wazoDevices.filter { $0.value.tenantUUID == tenant }.keys.sorted()
        self.wazoOrder[tenant] = ids
        return (ids.dropFirst(offset).prefix(limit).map { ($0, self.wazoDevices[$0]!) }, ids.count)
    }

    func wazoTenant(ofToken token: String) -> String? {
        guard let entry = self.wazoTokens[token], entry.expires > Date() else { return nil }
        return entry.tenantUUID
    }
}
