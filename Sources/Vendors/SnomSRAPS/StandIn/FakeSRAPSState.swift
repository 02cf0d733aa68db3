import Foundation
import Hawk

/// The SRAPS stand-in's data: API keys, companies, settings, endpoints, injected failures and a log of every call.
///
/// Tests change it directly, for example to give a MAC to another company or to skew the service's clock.
public actor FakeSRAPSState {
    /// One API key, and the company it acts for.
    public struct APIKey: Sendable, Hashable {
        public var secret: String
        /// The uuid of the key's company.
        public var company: String

        /// A key with its secret, acting for `company`.
        public init(secret: String, company: String) { (self.secret, self.company) = (secret, company) }
    }

    /// One entry of `settings/`.
    public struct Setting: Sendable, Hashable {
        public var uuid: String
        public var paramName: String
        public var section: String
        public var name: String
        public var fieldType: String

        /// A setting as `settings/` lists it.
        public init(uuid: String, paramName: String, section: String, name: String, fieldType: String) {
            (self.uuid, self.paramName, self.section, self.name, self.fieldType) =
                (uuid, paramName, section, name, fieldType)
        }
    }

    /// One endpoint (a phone's record), owned by one company.
    public struct Endpoint: Sendable, Hashable {
        /// The owner company's uuid.
        public var company: String
        public var autoprovisioningEnabled: Bool
        /// The values of its settings, by setting uuid.
        public var settings: [String: String]

        /// A record of `company`, with setting values by setting uuid.
        public init(company: String, autoprovisioningEnabled: Bool = true, settings: [String: String] = [:]) {
            (self.company, self.autoprovisioningEnabled, self.settings) = (company, autoprovisioningEnabled, settings)
        }
    }

    /// One request the stand-in received over HTTP. It carries no key secret.
    public struct Call: Sendable, Hashable {
        public var method: String
        /// The path and query as received.
        public var resource: String
        /// The key id that signed it, when Hawk accepted it.
        public var keyID: String?
        /// Whether its Hawk header carried a payload hash.
        public var hadPayloadHash: Bool
        /// The HTTP status answered.
        public var status: Int
        /// The Hawk refusal, such as `Bad mac`, when there was one.
        public var hawkError: String?
        public var startedAt: Date
    }

    /// An injected failure, answered before authentication, like a broken load balancer in front of the service.
    public enum Failure: Sendable, Hashable {
        /// Answer with this HTTP status, and a `Retry-After` header when given.
        case status(Int, retryAfter: String? = nil)
    }

    /// The `setting_server` a phone reads: section `phone-settings`, field type `text` (ngcp f1e00a0408).
    public static let urlSettingUUID = "0c1f6a9e-3f56-4e53-9d6b-5e1b9d4c7a21"
    /// The other `setting_server`, in section `global` (field type `url`): the wrong one to set.
    public static let globalServerSettingUUID = "7d2e4b10-8a3c-4f0e-b5a7-2c9e61f0d3b4"

    /// The API keys, by key id.
    public private(set) var keys: [String: APIKey]
    /// Company names, by uuid.
    public private(set) var companies: [String: String]
    /// Every setting, in the order `settings/` lists them.
    public private(set) var settings: [Setting]
    /// Endpoints by MAC (12 lowercase hex digits).
    public private(set) var endpoints: [String: Endpoint] = [:]
    /// The largest page a client may ask for (`page_size`); lower it to make a client read several pages.
    public var maxPageSize = 1000
    /// Seconds added to the stand-in's clock, to test a client whose clock is off.
    public var clockSkewSeconds: Int64 = 0
    /// When set, the origin (`scheme://host:port`) written into the company and endpoints links instead of the
    /// stand-in's own, to test that a client refuses links to another origin.
    public var linkOrigin: String?
    private var pendingFailures: [Failure] = []
    /// Every request received, in order.
    public private(set) var calls: [Call] = []
    /// The nonces seen, refused when seen again within the skew window.
    let replayCache = HawkReplayCache(timestampSkew: 60)

    /// The `param_name` of the setting a phone reads its provisioning URL from: `setting_server` at Snom's SRAPS,
    /// `ProvisioningServer` at Gigaset's GRAPE (falconieri `libs/grape`).
    public let urlParamName: String

    /// A stand-in with these keys and companies, the two `setting_server` settings and `fillerSettings` others, so
    /// that the settings span more than one default page of 20. With `grape`, it plays Gigaset's GRAPE: the URL
    /// setting is `ProvisioningServer` (section `provisioning`), and the `setting_server` of `global` stays as a decoy.
    public init(keys: [String: APIKey], companies: [String: String], fillerSettings: Int = 30, grape: Bool = false) {
        self.urlParamName = grape ? "ProvisioningServer" : "setting_server"
        self.keys = keys
        self.companies = companies
        var settings = (0..<fillerSettings).map { index in
            Setting(
                uuid: String(format: "00000000-0000-4000-8000-%012d", index), paramName: "filler_\(index)",
                section: index.isMultiple(of: 2) ? "phone-settings" : "global", name: "Filler \(index)",
                fieldType: "text")
        }
        // The global one first, so that a client matching the name only picks the wrong one; the right one on the
        // second default page.
        settings.insert(
            Setting(
                uuid: Self.globalServerSettingUUID, paramName: "setting_server", section: "global",
                name: "Setting server", fieldType: "url"), at: min(3, settings.count))
        settings.insert(
            Setting(
                uuid: Self.urlSettingUUID, paramName: self.urlParamName,
                section: grape ? "provisioning" : "phone-settings",
                name: grape ? "Provisioning server" : "Setting server", fieldType: "text"), at: min(24, settings.count))
        self.settings = settings
    }

    // MARK: - Setup and inspection

    /// Adds or replaces an API key.
    public func addKey(_ id: String, _ key: APIKey) { self.keys[id] = key }

    /// Adds or renames a company.
    public func addCompany(_ uuid: String, name: String) { self.companies[uuid] = name }

    /// Sets an endpoint directly, bypassing the API (for a MAC another company holds, or drift).
    public func setEndpoint(_ mac: String, _ endpoint: Endpoint?) { self.endpoints[mac.lowercased()] = endpoint }

    /// The endpoint of `mac`, in either case.
    public func endpoint(_ mac: String) -> Endpoint? { self.endpoints[mac.lowercased()] }

    /// The URL an endpoint's `setting_server` (phone-settings) holds.
    public func url(of mac: String) -> String? { self.endpoints[mac.lowercased()]?.settings[Self.urlSettingUUID] }

    /// Sets the largest page a client may ask for (at least 1).
    public func setMaxPageSize(_ size: Int) { self.maxPageSize = max(1, size) }

    /// Moves the stand-in's clock by `seconds` (negative: behind the real one).
    public func setClockSkew(seconds: Int64) { self.clockSkewSeconds = seconds }

    /// Writes `origin` into the company and endpoints links (nil: the stand-in's own).
    public func setLinkOrigin(_ origin: String?) { self.linkOrigin = origin }

    /// Answers the next requests with these failures, one each, before anything else.
    public func injectFailures(_ failures: [Failure]) { self.pendingFailures += failures }

    /// Gives the company a new uuid, so that its old links (and endpoints collection) answer 404: a stale cache.
    public func moveCompany(_ uuid: String, to newUUID: String) {
        guard let name = self.companies.removeValue(forKey: uuid) else { return }
        self.companies[newUUID] = name
        for (id, key) in self.keys where key.company == uuid { self.keys[id]?.company = newUUID }
        for (mac, endpoint) in self.endpoints where endpoint.company == uuid { self.endpoints[mac]?.company = newUUID }
    }

    /// Gives the URL setting a new uuid, so that a PUT naming the old one is refused with 400: a stale cache.
    public func renameURLSetting(to newUUID: String) {
        guard let index = self.settings.firstIndex(where: { $0.uuid == Self.urlSettingUUID }) else { return }
        self.settings[index].uuid = newUUID
    }

    /// The uuid of the URL setting (`setting_server` in section `phone-settings`, or GRAPE's `ProvisioningServer`) now.
    public func currentURLSettingUUID() -> String? {
        self.settings.first { $0.paramName == self.urlParamName && $0.section != "global" }?.uuid
    }

    // MARK: - Used by the server

    func takeFailure() -> Failure? { self.pendingFailures.isEmpty ? nil : self.pendingFailures.removeFirst() }

    func record(_ call: Call) { self.calls.append(call) }

    /// The stand-in's clock: the real one plus the skew.
    func now() -> Date { Date().addingTimeInterval(TimeInterval(self.clockSkewSeconds)) }

    func putEndpoint(_ mac: String, _ endpoint: Endpoint) { self.endpoints[mac] = endpoint }

    func removeEndpoint(_ mac: String) { self.endpoints[mac] = nil }

    /// The company's endpoints, by MAC.
    func endpoints(of company: String) -> [(mac: String, endpoint: Endpoint)] {
        self.endpoints.filter { $0.value.company == company }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The `HawkServer` credentials of a key id.
    func credentials(_ id: String) -> HawkCredentials? {
        self.keys[id].map { HawkCredentials(id: id, key: $0.secret) }
    }
}
