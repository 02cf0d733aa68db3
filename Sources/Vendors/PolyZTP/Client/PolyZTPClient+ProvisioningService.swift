import Logging
import NIOHTTP1
import ProvisioningModel

/// The Poly ZTP client as delivery and reconcile call it: one MAC per call, a profile per provisioning server.
extension PolyZTPClient: OneMACPerCallService {
    /// Poly ZTP: MAC only, one MAC per call, a listing of every device of the account with its profile; an account
    /// may name the profile its phones go to, and has no user (the API key is the whole credential).
    public static let descriptor = ServiceDescriptor(
        kind: .polyZTP, name: "Poly Zero Touch Provisioning (ZTP)", maxBatchSize: 1, listing: .everything,
        accountOptions: .profile, needsIdentity: false, defaultURL: PolyZTPConfiguration.defaultBaseURL)

    /// `PolyZTPClient.descriptor`.
    public var descriptor: ServiceDescriptor { Self.descriptor }

    /// How `registrations()` and `redirection(of:)` name the profile a phone is in when provhook compares profiles
    /// rather than addresses: with `--profile`, or for a profile whose address is not known.
    public static func profileMarker(_ id: String) -> String { "profile:\(id)" }

    /// What the service holds for a phone registered at `url`: the server address of the profile provhook assigns
    /// it to (`serverAddress(for:mac:)`), or, with `--profile`, that profile (`profileMarker`), whatever its address.
    public func heldURL(for url: String, of mac: MACAddress) -> String {
        if let fixed = self.configuration.profile { return Self.profileMarker(fixed) }
        return Self.serverAddress(for: url, mac: mac)
    }

    /// Assigns `mac` to the profile of `url`'s server with `POST /devices`.
    ///
    /// Whether that call re-points a device this organisation holds already is not recorded. When it is refused for
    /// another reason than "claimed by another organization", `GET /devices/{mac}` tells whether the device is ours:
    /// in the right profile it is done; in another, it is deleted and posted again (which works under either reading;
    /// the stand-in takes the stricter one and refuses). When the device is not ours and the refusal names the
    /// profile, the cached profile id is looked up again once: someone may have deleted the profile.
    public func register(_ mac: MACAddress, at url: String) async throws(RedirectError) -> RedirectOutcome {
        let address = Self.serverAddress(for: url, mac: mac)
        var lookedUpAgain = false
        while true {
            let profile: String
            switch try await self.profile(for: address) {
            case .id(let id): profile = id
            case .refused(let code): return .error(code)
            }
            let body = try PolyZTPAnswers.deviceBody(mac: mac, profile: profile)
            let answer = try await self.send(.POST, "/devices", body: body)
            if answer.isSuccess { return .ok }
            if answer.saysClaimedByAnother { return .error(.ownedByOtherUser) }
            switch try await self.lookUpDevice(mac) {
            case .ours(profile: profile):
                return .ok
            case .ours:
                let deleted = try await self.send(.DELETE, "/devices/\(Self.pathMAC(mac))")
                if deleted.saysClaimedByAnother { return .error(.ownedByOtherUser) }
                guard deleted.isSuccess || deleted.status == 404 else {
                    return .error(PolyZTPAnswers.refusal(deleted))
                }
                let again = try await self.send(.POST, "/devices", body: body)
                if again.isSuccess { return .ok }
                return again.saysClaimedByAnother ? .error(.ownedByOtherUser) : .error(PolyZTPAnswers.refusal(again))
            case .claimed:
                return .error(.ownedByOtherUser)
            case .absent:
                if !lookedUpAgain, self.configuration.profile == nil, answer.text.lowercased().contains("profile") {
                    await self.cache.forget(address: address)
                    lookedUpAgain = true
                    self.logger.notice("Poly ZTP refused the cached profile; looking it up again")
                    continue
                }
                return .error(PolyZTPAnswers.refusal(answer))
            }
        }
    }

    /// `DELETE /devices/{mac}`: 404 means the device is already gone, which is done.
    public func deregister(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        let answer = try await self.send(.DELETE, "/devices/\(Self.pathMAC(mac))")
        if answer.saysClaimedByAnother { return .error(.ownedByOtherUser) }
        if answer.isSuccess || answer.status == 404 { return .ok }
        return .error(PolyZTPAnswers.refusal(answer))
    }

    /// `GET /devices/{mac}`, and the server address of its profile (as `heldURL(for:of:)` names it).
    public func redirection(of mac: MACAddress) async throws(RedirectError) -> PhoneRedirection {
        switch try await self.lookUpDevice(mac) {
        case .ours(let profile?):
            let held = try await self.held(profile: profile)
            return .redirected(company: "Poly ZTP profile \(profile)", url: held)
        case .ours(nil):
            // In no profile: "" differs from any URL, so reconcile assigns it again.
            return .redirected(company: "Poly ZTP", url: "")
        case .claimed: return .error(.ownedByOtherUser)
        case .absent: return .error(.noSuchMAC)
        }
    }

    /// `GET /devices/{mac}`: ours, another organisation's, or unknown.
    public func ownership(of mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        switch try await self.lookUpDevice(mac) {
        case .ours: .ok
        case .claimed: .error(.ownedByOtherUser)
        case .absent: .error(.noSuchMAC)
        }
    }

    /// Poly lists every device whatever its model (`descriptor.listing` is `.everything`), so `model` is not used:
    /// the answer is every MAC of the account, held at `url` (as `registrations()` names it) when given.
    public func registeredMACs(model: String, url: String?) async throws(RedirectError) -> [MACAddress] {
        try await self.registrations().filter { url == nil || $0.url == url }.map(\.mac).sorted()
    }

    /// Every page of `GET /devices`, each MAC with what its profile holds (`heldURL(for:of:)`'s form): the server
    /// address of its profile, or, with `--profile`, the profile.
    public func registrations() async throws(RedirectError) -> [AccountRegistration] {
        var devices: [PolyZTPDevice] = []
        try await self.readPages("/devices", limit: self.configuration.pageSize) {
            (results: [[String: Any]]) throws(RedirectError) in
            devices += try results.map { (item: [String: Any]) throws(RedirectError) in try PolyZTPAnswers.device(item)
            }
        }
        if self.configuration.profile == nil { _ = try await self.listProfiles() }
        var registrations: [AccountRegistration] = []
        for device in devices {
            var held: String?
            if let profile = device.profile { held = try await self.held(profile: profile) }
            registrations.append(AccountRegistration(mac: device.mac, url: held))
        }
        return registrations
    }

    /// Reads the first page of `GET /devices` (one device): what `status` asks of a Poly ZTP account.
    public func checkCredentials() async throws(RedirectError) {
        let answer = try await self.send(.GET, "/devices?limit=1&cursor=")
        guard answer.status == 200 else { throw PolyZTPAnswers.unexpected(answer, what: "the device listing") }
    }

    // MARK: - Helpers

    /// Where a device stands with the service.
    enum DeviceLookup: Sendable, Hashable {
        /// This organisation holds it, in `profile` (nil: in none).
        case ours(profile: String?)
        /// Another organisation holds it.
        case claimed
        /// The service does not know it (404).
        case absent
    }

    /// `GET /devices/{mac}`.
    func lookUpDevice(_ mac: MACAddress) async throws(RedirectError) -> DeviceLookup {
        let answer = try await self.send(.GET, "/devices/\(Self.pathMAC(mac))")
        if answer.saysClaimedByAnother { return .claimed }
        switch answer.status {
        case 200: return .ours(profile: try PolyZTPAnswers.device(try PolyZTPAnswers.object(answer)).profile)
        case 404: return .absent
        default: throw PolyZTPAnswers.unexpected(answer, what: "device \(Self.pathMAC(mac))")
        }
    }

    /// What a phone in `profile` is held at, in `heldURL(for:of:)`'s form.
    private func held(profile: String) async throws(RedirectError) -> String {
        if self.configuration.profile != nil { return Self.profileMarker(profile) }
        return try await self.address(ofProfile: profile) ?? Self.profileMarker(profile)
    }
}
