import AsyncHTTPClient
import Logging
import ProvisioningModel
import VendorHTTP
import XMLRPC

/// The client of Gigaset's auto-provisioning service (`autoprov.*` over XML-RPC, basic auth) for one account, and
/// `ProvisioningService` on top of it.
///
/// A phone is registered by its MAC-ID, the MAC as 12 uppercase hex digits, `-` and the 4-character code printed on
/// the phone (`7C2F80ABCDEF-X4K9`, as falconieri and peoplefone send it), with its own URL and the name of the
/// provider registering it. The code comes where a serial number would (`DeviceRequirements.deviceCode`); a phone
/// without one is `codeRequired`, and never sent. As falconieri does, a registration first deregisters the MAC-ID,
/// whatever the answer: the service refuses to register a MAC that is registered already, even to the same account,
/// so this is also how a phone is re-pointed. Deregistering and checking send the MAC alone, which peoplefone's
/// client sends too (it takes a MAC or a MAC-ID for every call): provhook removes and looks up a phone by its MAC.
public struct GigasetClient: XMLRPCLoginClient {
    /// The production endpoint (falconieri, peoplefone).
    public static let defaultEndpoint = "https://prov.gigaset.net/apxml/rpc.do"
    /// The provider name sent with each registration (falconieri sends its own name, peoplefone its).
    public static let providerName = "provhook"
    /// The service's name in errors and logs.
    public static let serviceName = "Gigaset"

    /// The settings this client was made with.
    public let login: XMLRPCLogin
    private let endpoint: XMLRPCEndpoint

    /// Makes a client that sends its calls through `endpoint`.
    public init(login: XMLRPCLogin, endpoint: XMLRPCEndpoint) {
        self.login = login
        self.endpoint = endpoint
    }

    /// The MAC-ID the service takes: `7C2F80ABCDEF-X4K9`; nil when `code` is not one.
    static func macID(_ mac: MACAddress, code: String) -> String? {
        GigasetCode.valid(code).map { "\(mac.canonical)-\($0)" }
    }

    // MARK: - The methods provhook calls

    /// `autoprov.registerDevice(macid, url, providerName)`.
    func registerDevice(_ macID: String, url: String) async throws(RedirectError) -> GigasetAnswer {
        try GigasetAnswer.read(
            await self.call(
                "autoprov.registerDevice", [.string(macID), .string(url), .string(Self.providerName)]))
    }

    /// `autoprov.deregisterDevice(macid)`, with a MAC-ID or the MAC alone.
    func deregisterDevice(_ macID: String) async throws(RedirectError) -> GigasetAnswer {
        try GigasetAnswer.read(await self.call("autoprov.deregisterDevice", [.string(macID)]))
    }

    /// `autoprov.checkDevice(macid)`: `[true, MAC]` when the account holds it, `mac_not_found:` when it does not.
    func checkDevice(_ macID: String) async throws(RedirectError) -> GigasetAnswer {
        try GigasetAnswer.read(await self.call("autoprov.checkDevice", [.string(macID)]))
    }

    private func call(_ method: String, _ params: [XMLRPCValue]) async throws(RedirectError) -> XMLRPCResponse {
        try await self.endpoint.answer(method, params, maxBytes: self.login.maxResponseBytes)
    }
}

extension GigasetClient: OneMACPerCallService, OwnershipOnlyLookups {
    /// Gigaset's auto-provisioning service: the MAC with the code printed on the phone, one MAC per call, no
    /// listing (each device is checked on its own).
    public static let descriptor = ServiceDescriptor(
        kind: .gigaset, name: "Gigaset auto-provisioning service (XML-RPC)", requirements: .deviceCode,
        maxBatchSize: 1, listing: .unavailable, defaultURL: Self.defaultEndpoint)

    public var descriptor: ServiceDescriptor { Self.descriptor }

    /// Without its code, a phone cannot be registered: `codeRequired`, and nothing is sent.
    public func register(_ mac: MACAddress, at url: String) async throws(RedirectError) -> RedirectOutcome {
        .error(.codeRequired)
    }

    /// Deregisters the MAC-ID (the answer does not matter: mostly `mac_not_found:`), then registers it at `url`.
    public func register(
        _ mac: MACAddress, serial: String?, at url: String
    ) async throws(RedirectError)
        -> RedirectOutcome
    {
        guard let serial else { return .error(.codeRequired) }
        guard let macID = Self.macID(mac, code: serial) else { return .error(.malformedMAC) }
        _ = try await self.deregisterDevice(macID)
        return try await self.registerDevice(macID, url: url).outcome
    }

    /// `deregisterDevice` with the MAC alone: `mac_not_found:` is `noSuchMAC`, which a removal takes as done.
    public func deregister(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.deregisterDevice(mac.canonical).outcome
    }

    public func ownership(of mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.checkDevice(mac.canonical).outcome
    }

    /// The service has no listing call (`descriptor.listing` is `.unavailable`).
    public func registeredMACs(model: String, url: String?) async throws(RedirectError) -> [MACAddress] {
        throw .invalidRequest("Gigaset's auto-provisioning service cannot list an account's registrations")
    }
}
