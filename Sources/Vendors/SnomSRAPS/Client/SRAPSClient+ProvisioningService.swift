import ProvisioningModel

/// The SRAPS client as delivery and reconcile call it: one REST request per MAC.
extension SRAPSClient: OneMACPerCallService {
    /// One read of the key's token (`checkKey`): what `status` asks of an SRAPS account.
    public func checkCredentials() async throws(RedirectError) {
        try await self.checkKey()
    }

    /// Snom SRAPS: MAC only, no batch call (one MAC per call), and a listing of every endpoint of the account.
    public static let descriptor = SRAPSService.snom.descriptor
    /// Gigaset GRAPE: as SRAPS.
    public static let grapeDescriptor = SRAPSService.grape.descriptor

    /// The descriptor of the client's service (`SRAPSService`).
    public var descriptor: ServiceDescriptor { self.configuration.service.descriptor }

    /// `PUT {endpoints}{mac}` (`putEndpoint`).
    public func register(_ mac: MACAddress, at url: String) async throws(RedirectError) -> RedirectOutcome {
        try await self.putEndpoint(mac, url: url)
    }

    /// `DELETE {endpoints}{mac}` (`deleteEndpoint`): 404 is done.
    public func deregister(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.deleteEndpoint(mac)
    }

    /// `GET {endpoints}{mac}` (`endpoint`).
    public func redirection(of mac: MACAddress) async throws(RedirectError) -> PhoneRedirection {
        try await self.endpoint(mac)
    }

    /// `GET {endpoints}{mac}`: 200 is ours, 404 `noSuchMAC`, the forbidden answer `ownedByOtherUser`.
    public func ownership(of mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        switch try await self.endpoint(mac) {
        case .redirected, .held: .ok
        case .error(let code): .error(code)
        }
    }

    /// SRAPS lists every endpoint whatever its model (`descriptor.listing` is `.everything`), so `model` is not
    /// used: the answer is every MAC of the account, pointed at `url` when given.
    public func registeredMACs(model: String, url: String?) async throws(RedirectError) -> [MACAddress] {
        try await self.listEndpoints().filter { url == nil || $0.url == url }.map(\.mac).sorted()
    }

    /// Every page of `GET {endpoints}` (`listEndpoints`).
    public func registrations() async throws(RedirectError) -> [AccountRegistration] {
        try await self.listEndpoints()
    }
}
