import AsyncHTTPClient
import Logging
import ProvisioningModel
import VendorHTTP
import XMLRPC

/// The client of Panasonic's redirection service (`ipredirect.*` over XML-RPC, basic auth) for one account, and
/// `ProvisioningService` on top of it.
///
/// Each MAC is registered with its own URL (`ipredirect.registerPhone(mac, url)`), the MAC as 12 uppercase hex
/// digits, as ngcp-panel sends it; registering a MAC the account holds again points it at the new URL (peoplefone
/// does so). Refusals are faults whose code says why (`PanasonicAnswer`).
public struct PanasonicClient: XMLRPCLoginClient {
    /// The production endpoint (ngcp-panel, peoplefone).
    public static let defaultEndpoint = "https://provisioning.e-connecting.net/redirect/xmlrpc"
    /// The service's name in errors and logs.
    public static let serviceName = "Panasonic"

    /// The settings this client was made with.
    public let login: XMLRPCLogin
    private let endpoint: XMLRPCEndpoint

    /// Makes a client that sends its calls through `endpoint`.
    public init(login: XMLRPCLogin, endpoint: XMLRPCEndpoint) {
        self.login = login
        self.endpoint = endpoint
    }

    // MARK: - The methods provhook calls

    /// `ipredirect.registerPhone(mac, url)`.
    func registerPhone(_ mac: MACAddress, url: String) async throws(RedirectError) -> PanasonicAnswer {
        try PanasonicAnswer.read(await self.call("ipredirect.registerPhone", [.string(mac.canonical), .string(url)]))
    }

    /// `ipredirect.unregisterPhone(mac)`.
    func unregisterPhone(_ mac: MACAddress) async throws(RedirectError) -> PanasonicAnswer {
        try PanasonicAnswer.read(await self.call("ipredirect.unregisterPhone", [.string(mac.canonical)]))
    }

    /// `ipredirect.checkPhones([mac])`: whether the account holds the MAC (0), nobody does (201) or another account
    /// does (202).
    func checkPhone(_ mac: MACAddress) async throws(RedirectError) -> PanasonicAnswer {
        try PanasonicAnswer.readCheck(await self.call("ipredirect.checkPhones", [.array([.string(mac.canonical)])]))
    }

    private func call(_ method: String, _ params: [XMLRPCValue]) async throws(RedirectError) -> XMLRPCResponse {
        try await self.endpoint.answer(method, params, maxBytes: self.login.maxResponseBytes)
    }
}

extension PanasonicClient: OneMACPerCallService, OwnershipOnlyLookups {
    /// Panasonic's redirection service: MAC only, one MAC per call, no listing (each device is checked on its own).
    public static let descriptor = ServiceDescriptor(
        kind: .panasonic, name: "Panasonic redirection service (XML-RPC)", maxBatchSize: 1, listing: .unavailable,
        defaultURL: Self.defaultEndpoint)

    public var descriptor: ServiceDescriptor { Self.descriptor }

    public func register(_ mac: MACAddress, at url: String) async throws(RedirectError) -> RedirectOutcome {
        try await self.registerPhone(mac, url: url).outcome
    }

    /// `unregisterPhone`: a MAC the service does not know (201) is `noSuchMAC`, which a removal takes as done.
    public func deregister(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.unregisterPhone(mac).outcome
    }

    public func ownership(of mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.checkPhone(mac).outcome
    }

    /// The service has no listing call (`descriptor.listing` is `.unavailable`).
    public func registeredMACs(model: String, url: String?) async throws(RedirectError) -> [MACAddress] {
        throw .invalidRequest("Panasonic's redirection service cannot list an account's registrations")
    }
}
