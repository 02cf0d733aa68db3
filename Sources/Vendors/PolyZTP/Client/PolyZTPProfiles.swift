import Foundation
import Logging
import NIOHTTP1
import ProvisioningModel

/// What the client found out about the account's profiles, kept between calls: profile ids by server address (only
/// provhook's own), addresses by profile id (every profile seen), and the lookups under way, so that phones of a new
/// server registered at once make one profile, not one each.
actor PolyZTPProfileCache {
    private var idsByAddress: [String: String] = [:]
    private var addressesByID: [String: String] = [:]
    private var lookups: [String: Task<PolyZTPClient.ProfileResolution, any Error>] = [:]

    /// The profile for `address`: from the cache, from a lookup under way, or from `lookUp`, whose id is cached.
    func resolve(
        _ address: String, _ lookUp: @escaping @Sendable () async throws -> PolyZTPClient.ProfileResolution
    ) async throws -> PolyZTPClient.ProfileResolution {
        if let id = self.idsByAddress[address] { return .id(id) }
        if let lookup = self.lookups[address] { return try await lookup.value }
        let lookup = Task { try await lookUp() }
        self.lookups[address] = lookup
        defer { self.lookups[address] = nil }
        let resolution = try await lookup.value
        if case .id(let id) = resolution { self.remember(id: id, address: address) }
        return resolution
    }

    func remember(id: String, address: String) {
        self.idsByAddress[address] = id
        self.addressesByID[id] = address
    }

    /// Records the addresses of every profile a listing showed.
    func learn(_ profiles: [PolyZTPProfile]) {
        for profile in profiles { self.addressesByID[profile.id] = profile.address }
    }

    /// Drops the profile cached for `address`: the service said it is gone.
    func forget(address: String) {
        if let id = self.idsByAddress.removeValue(forKey: address) { self.addressesByID[id] = nil }
    }

    func address(ofProfile id: String) -> String? { self.addressesByID[id] }
}

extension PolyZTPClient {
    /// The profile a phone is assigned to, or why the service would not have it.
    enum ProfileResolution: Sendable, Hashable {
        case id(String)
        case refused(RedirectErrorCode)
    }

    /// The longest profile name fspbx's form lets through.
    public static let maxProfileNameLength = 100

    /// The provisioning server a Poly phone needs for `url`, the URL provhook's template gives it.
    ///
    /// A Poly phone asks its profile's server for `<MAC>.cfg` (and `000000000000.cfg`) itself, so the profile holds a
    /// server address, not a file per phone. A URL without the MAC (the template a Poly phone should have, such as
    /// `https://prov.example.com/poly/`) is the address as it is. A URL that holds the MAC, as a template shared with
    /// other vendors does (`https://prov.example.com/<mac>.cfg`), is cut at the last `/` before the MAC
    /// (`https://prov.example.com/`): the server the phone then asks for its own file, and one profile for every
    /// phone of the tenant rather than one each.
    public static func serverAddress(for url: String, mac: MACAddress) -> String {
        guard let found = url.range(of: mac.canonical, options: .caseInsensitive),
            let scheme = url.range(of: "://")
        else { return url }
        let pathStart = url[scheme.upperBound...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        // Hex digits in the host are not the template's MAC (a template cannot put `<mac>` there).
        guard found.lowerBound >= pathStart else { return url }
        if let slash = url[pathStart..<found.lowerBound].lastIndex(of: "/") { return String(url[...slash]) }
        // The MAC in the query of a URL without a path: the origin is the server.
        return String(url[..<pathStart]) + "/"
    }

    /// The name of provhook's profile for `address`: `provhook ` and the address without its scheme (so that an
    /// operator recognises it on Poly's portal), cut to fit `maxProfileNameLength`, then ` #` and 12 hex digits of
    /// the address's hash, which tells apart two addresses the cut made alike. provhook finds its profile again by
    /// this name.
    public static func profileName(for address: String) -> String {
        var shown = Substring(address)
        if let scheme = shown.range(of: "://") { shown = shown[scheme.upperBound...] }
        let tag = " #" + Self.hashTag(address)
        let budget = Self.maxProfileNameLength - "provhook ".count - tag.count
        let cut = shown.count > budget ? String(shown.prefix(budget - 3)) + "..." : String(shown)
        return "provhook " + cut + tag
    }

    /// 48 bits of FNV-1a 64 of `text`, as 12 lowercase hex digits: stable across runs and machines.
    static func hashTag(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash >> 16, radix: 16)
        return String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    }

    /// The profile for phones whose provisioning server is `address`: the account's own (`--profile`), else
    /// provhook's for that address, from the cache or looked up (`lookUpProfile`).
    func profile(for address: String) async throws(RedirectError) -> ProfileResolution {
        if let fixed = self.configuration.profile { return .id(fixed) }
        do {
            return try await self.cache.resolve(address) { try await self.lookUpProfile(address) }
        } catch let error as RedirectError {
            throw error
        } catch {
            throw .cancelled
        }
    }

    /// Lists the profiles and takes the one named `profileName(for: address)` (the first by id, should there be
    /// several), corrects its address with `PUT` when someone changed it, and creates it when there is none.
    private func lookUpProfile(_ address: String) async throws(RedirectError) -> ProfileResolution {
        let name = Self.profileName(for: address)
        let profiles = try await self.listProfiles()
        let body = try PolyZTPAnswers.profileBody(name: name, address: address)
        if let existing = profiles.filter({ $0.name == name }).min(by: { $0.id < $1.id }) {
            guard existing.address != address else { return .id(existing.id) }
            let answer = try await self.send(.PUT, "/profiles/\(PolyZTPClient.queryValue(existing.id))", body: body)
            guard answer.isSuccess else { return .refused(PolyZTPAnswers.refusal(answer)) }
            self.logger.notice(
                "Poly ZTP profile's server address corrected",
                metadata: ["profile": "\(existing.id)", "name": "\(name)"])
            return .id(existing.id)
        }
        let answer = try await self.send(.POST, "/profiles", body: body)
        guard answer.isSuccess else { return .refused(PolyZTPAnswers.refusal(answer)) }
        let created = try PolyZTPAnswers.profile(try PolyZTPAnswers.object(answer))
        self.logger.notice("Poly ZTP profile created", metadata: ["profile": "\(created.id)", "name": "\(name)"])
        return .id(created.id)
    }

    /// Every profile of the account (`GET /profiles`; its `next` cursor followed should it name one), whose
    /// addresses the cache learns.
    func listProfiles() async throws(RedirectError) -> [PolyZTPProfile] {
        var profiles: [PolyZTPProfile] = []
        try await self.readPages("/profiles", limit: nil) {
            (results: [[String: Any]]) throws(RedirectError) in
            profiles += try results.map { (item: [String: Any]) throws(RedirectError) in
                try PolyZTPAnswers.profile(item)
            }
        }
        await self.cache.learn(profiles)
        return profiles
    }

    /// The server address of profile `id`: from the cache, else `GET /profiles/{id}`; nil when the profile is gone.
    func address(ofProfile id: String) async throws(RedirectError) -> String? {
        if let known = await self.cache.address(ofProfile: id) { return known }
        let answer = try await self.send(.GET, "/profiles/\(PolyZTPClient.queryValue(id))")
        if answer.status == 404 { return nil }
        guard answer.status == 200 else { throw PolyZTPAnswers.unexpected(answer, what: "profile \(id)") }
        let profile = try PolyZTPAnswers.profile(try PolyZTPAnswers.object(answer))
        await self.cache.learn([profile])
        return profile.address
    }
}
