import Logging
import ProvisioningModel

/// The YMCS client as delivery and reconcile call it.
extension YMCSClient: ProvisioningService {
    /// Yealink YMCS: MAC-only batches of up to 100 (or one call per phone with its serial number, for an account
    /// not enabled for MAC-only registration), a listing of every device of the account.
    public static let descriptor = ServiceDescriptor(
        kind: .yealinkYMCS, name: "Yealink YMCS (REST, OAuth)", requirements: .serialNumber,
        maxBatchSize: YMCSConfiguration.maxBatchSize, listing: .everything, accountOptions: .serialRequired,
        keepsDevicePINs: true)

    public var descriptor: ServiceDescriptor { Self.descriptor }

    /// One token fetch: YMCS takes the client's credentials or refuses them.
    public func checkCredentials() async throws(RedirectError) {
        _ = try await self.fetchToken()
    }

    public func register(_ mac: MACAddress, at url: String) async throws(RedirectError) -> RedirectOutcome {
        try await self.register(mac, serial: nil, at: url)
    }

    /// One phone as a batch of one, with its serial when known.
    public func register(
        _ mac: MACAddress, serial: String?, at url: String
    ) async throws(RedirectError) -> RedirectOutcome {
        switch try await self.register([mac], serials: serial.map { [mac: $0] } ?? [:], at: url) {
        case .ok: .ok
        case .error(let code): .error(code)
        case .partial(let failures): .error(failures.first?.code ?? .unknown("no answer for the MAC"))
        }
    }

    /// Without serial numbers: a phone of an account that needs them is `serialRequired`.
    public func register(_ macs: [MACAddress], at url: String) async throws(RedirectError) -> ListOutcome {
        try await self.register(macs, serials: [:], at: url)
    }

    /// By MAC alone (`addDevicesByMac`) unless the account needs serial numbers; when YMCS answers that MAC-only
    /// registration is not enabled, that is remembered and the phones go by serial (`POST v2/rps/devices`), those
    /// without one `serialRequired`. A MAC the account already holds is deleted and added again with `url` (YMCS
    /// has no edit call), which a repeat after a crash between the two completes.
    public func register(
        _ macs: [MACAddress], serials: [MACAddress: String], at url: String
    ) async throws(RedirectError) -> ListOutcome {
        guard !macs.isEmpty else { return .error(.malformedMACList) }
        if !self.serialMode.isOn {
            let outcome = try await self.registerByMAC(macs, at: url)
            guard case .partial(let failures) = outcome, failures.count == macs.count,
                failures.allSatisfy({ $0.code == .serialRequired })
            else { return outcome }
            self.serialMode.turnOn()
            self.logger.warning(
                "YMCS does not take MAC-only registration for this account; registering by serial number from now on")
        }
        var refusals: [MACAddress: YMCSRefusal] = [:]
        for mac in macs {
            guard let serial = serials[mac] else {
                refusals[mac] = .macOnlyNotEnabled
                continue
            }
            var refusal = try await self.addDevice(mac, serial: serial, url: url)
            if refusal == .exists {
                let stuck = try await self.deleteDevices([mac])[mac]
                refusal =
                    stuck == nil || stuck == .notFound ? try await self.addDevice(mac, serial: serial, url: url) : stuck
            }
            refusals[mac] = refusal
        }
        return Self.outcome(macs, refusals)
    }

    private func registerByMAC(_ macs: [MACAddress], at url: String) async throws(RedirectError) -> ListOutcome {
        var refusals = try await self.addDevicesByMAC(macs, url: url)
        let existing = macs.filter { refusals[$0] == .exists }
        if !existing.isEmpty {
            let stuck = try await self.deleteDevices(existing)
            let freed = existing.filter { stuck[$0] == nil || stuck[$0] == .notFound }
            for mac in existing where !freed.contains(mac) { refusals[mac] = stuck[mac] }
            if !freed.isEmpty {
                let again = try await self.addDevicesByMAC(freed, url: url)
                for mac in freed { refusals[mac] = again[mac] }
            }
        }
        return Self.outcome(macs, refusals)
    }

    public func deregister(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        switch try await self.deregister([mac]) {
        case .ok: .ok
        case .error(let code): .error(code)
        case .partial(let failures): .error(failures.first?.code ?? .unknown("no answer for the MAC"))
        }
    }

    /// `delDevices` by MAC; a MAC the account does not hold is `noSuchMAC`, which a removal takes as done.
    public func deregister(_ macs: [MACAddress]) async throws(RedirectError) -> ListOutcome {
        guard !macs.isEmpty else { return .error(.malformedMACList) }
        return Self.outcome(macs, try await self.deleteDevices(macs))
    }

    /// `listDevices` filtered by the MAC: where YMCS points it. YMCS shows only the account's own devices, so a MAC
    /// another organisation holds reads as not registered; registering it says who holds it.
    public func redirection(of mac: MACAddress) async throws(RedirectError) -> PhoneRedirection {
        guard let device = try await self.listDevices(mac: mac).first(where: { MACAddress($0.mac) == mac }) else {
            return .error(.noSuchMAC)
        }
        return .redirected(company: "", url: device.uniqueServerURL ?? device.serverURL ?? "")
    }

    public func ownership(of mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        switch try await self.redirection(of: mac) {
        case .redirected, .held: .ok
        case .error(let code): .error(code)
        }
    }

    /// YMCS lists every device whatever its model (`descriptor.listing` is `.everything`).
    public func registeredMACs(model: String, url: String?) async throws(RedirectError) -> [MACAddress] {
        try await self.registrations().filter { url == nil || $0.url == url }.map(\.mac).sorted()
    }

    /// Every page of `listDevices`: each MAC with its device URL (or its server's).
    public func registrations() async throws(RedirectError) -> [AccountRegistration] {
        try await self.listDevices().compactMap { device in
            MACAddress(device.mac).map { AccountRegistration(mac: $0, url: device.uniqueServerURL ?? device.serverURL) }
        }
    }

    private static func outcome(_ macs: [MACAddress], _ refusals: [MACAddress: YMCSRefusal]) -> ListOutcome {
        let failures = macs.compactMap { mac in
            refusals[mac].map { MACFailure(mac: mac.canonical, code: $0.code) }
        }
        return failures.isEmpty ? .ok : .partial(failures)
    }
}
