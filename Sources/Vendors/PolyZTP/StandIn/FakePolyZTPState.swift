import Foundation

/// The Poly ZTP stand-in's data: API keys and their organisations, profiles, devices, injected failures and a log of
/// every call. Tests change it directly, for example to have another organisation claim a MAC or to lose a device.
public actor FakePolyZTPState {
    /// One device (a phone's MAC), held by one organisation and assigned to one of its profiles.
    public struct Device: Sendable, Hashable {
        public var organization: String
        public var profile: String

        public init(organization: String, profile: String) {
            (self.organization, self.profile) = (organization, profile)
        }
    }

    /// One profile of one organisation: what provhook reads of it, and its template as sent, to answer it back.
    public struct Profile: Sendable, Hashable {
        public var organization: String
        public var name: String
        public var enabled: Bool
        /// `template.provisioning.server.address`.
        public var address: String?
        /// The `template` object as the client sent it (JSON), or nil.
        public var template: Data?

        public init(organization: String, name: String, enabled: Bool = true, address: String?, template: Data? = nil) {
            (self.organization, self.name, self.enabled, self.address, self.template) =
                (organization, name, enabled, address, template)
        }
    }

    /// One request the stand-in received. It never holds the API key.
    public struct Call: Sendable, Hashable {
        public var method: String
        /// The path, without the query.
        public var path: String
        /// The query as received.
        public var query: String
        /// The organisation whose key was given, when the key was accepted.
        public var organization: String?
        /// Whether the request carried an `API-KEY` header at all.
        public var hadKey: Bool
        /// The HTTP status answered.
        public var status: Int
    }

    /// Organisations by API key.
    public private(set) var keys: [String: String]
    /// Devices by MAC (12 lowercase hex digits).
    public private(set) var devices: [String: Device] = [:]
    /// Profiles by id.
    public private(set) var profiles: [String: Profile] = [:]
    public private(set) var calls: [Call] = []
    /// HTTP statuses the next requests are answered with, before the key is checked (a broken front end).
    private var pendingStatuses: [Int] = []
    private var profileCounter = 0

    /// A stand-in whose keys act for the organisations given (`[key: organization]`).
    public init(keys: [String: String]) { self.keys = keys }

    public func addKey(_ key: String, organization: String) { self.keys[key] = organization }

    /// Sets or removes a device directly, bypassing the API.
    public func setDevice(_ mac: String, _ device: Device?) { self.devices[mac.lowercased()] = device }

    public func device(_ mac: String) -> Device? { self.devices[mac.lowercased()] }

    /// Adds a profile directly, as an operator on Poly's portal would: its id.
    @discardableResult
    public func addProfile(_ profile: Profile) -> String {
        let id = self.newProfileID()
        self.profiles[id] = profile
        return id
    }

    /// Changes or removes a profile directly, bypassing the API.
    public func setProfile(_ id: String, _ profile: Profile?) { self.profiles[id] = profile }

    /// The profiles of `organization`, by id.
    public func profiles(of organization: String) -> [String: Profile] {
        self.profiles.filter { $0.value.organization == organization }
    }

    /// The next `count` requests are answered with HTTP `status`.
    public func failNext(_ count: Int, status: Int) {
        self.pendingStatuses.append(contentsOf: repeatElement(status, count: count))
    }

    // MARK: - Used by the server

    func takeFailure() -> Int? { self.pendingStatuses.isEmpty ? nil : self.pendingStatuses.removeFirst() }

    func record(_ call: Call) { self.calls.append(call) }

    func organization(forKey key: String) -> String? { self.keys[key] }

    /// A fresh profile id, shaped like a UUID.
    func newProfileID() -> String {
        self.profileCounter += 1
        return String(format: "6f1c2a3e-0000-4000-8000-%012d", self.profileCounter)
    }

    func putDevice(_ mac: String, _ device: Device) { self.devices[mac] = device }

    func removeDevice(_ mac: String) { self.devices[mac] = nil }
}
