import AsyncHTTPClient
import Logging
import ProvisioningModel
import VendorHTTP
import XMLRPC

/// The client of Yealink's RPS over XML-RPC for one account, and `ProvisioningService` on top of it.
///
/// Each MAC is registered with its own URL (`redirect.registerDeviceWithUniqueUrl`), under provhook's server name,
/// the MAC written `AA-BB-CC-DD-EE-FF`. Whether RPS lets an account register again a MAC it already holds without
/// `override` is not recorded; when it answers `Existing MAC(s)`, the MAC is deregistered and registered again, which
/// works under either reading. A MAC another account holds is taken only when the account says `override`.
public struct YealinkRPSClient: Sendable {
    /// The settings this client was made with.
    public let configuration: YealinkRPSConfiguration
    private let endpoint: XMLRPCEndpoint

    /// Makes a client that sends its calls through `httpClient`, which the caller owns and shuts down.
    public init(configuration: YealinkRPSConfiguration, httpClient: HTTPClient, logger: Logger) {
        self.init(
            configuration: configuration,
            endpoint: XMLRPCEndpoint(login: configuration.login, httpClient: httpClient, logger: logger))
    }

    private init(configuration: YealinkRPSConfiguration, endpoint: XMLRPCEndpoint) {
        (self.configuration, self.endpoint) = (configuration, endpoint)
    }

    /// Makes a client with an HTTP connection pool of its own, and the function that closes that pool once the
    /// client is no longer used: what each RPS account gets.
    public static func withOwnPool(
        configuration: YealinkRPSConfiguration, logger: Logger
    ) throws(XMLRPCLoginError) -> (client: YealinkRPSClient, close: @Sendable () async -> Void) {
        let (endpoint, close) = try XMLRPCEndpoint.withOwnPool(
            login: configuration.login, service: YealinkRPSConfiguration.service, logger: logger)
        return (YealinkRPSClient(configuration: configuration, endpoint: endpoint), close)
    }

    /// The MAC as RPS's documentation and falconieri write it: `AA-BB-CC-DD-EE-FF`.
    public static func spelled(_ mac: MACAddress) -> String {
        stride(from: 0, to: 12, by: 2).map { offset -> String in
            let start = mac.canonical.index(mac.canonical.startIndex, offsetBy: offset)
            return String(mac.canonical[start..<mac.canonical.index(start, offsetBy: 2)])
        }.joined(separator: "-")
    }

    // MARK: - The methods provhook calls

    /// `redirect.registerDeviceWithUniqueUrl(mac, serverName, url, override)`, every parameter a string and override
    /// `"1"` or `"0"`, as falconieri sends them.
    func registerDeviceWithUniqueURL(_ mac: MACAddress, url: String) async throws(RedirectError) -> YealinkRPSAnswer {
        try YealinkRPSAnswer.read(
            await self.call(
                "redirect.registerDeviceWithUniqueUrl",
                [
                    .string(Self.spelled(mac)), .string(YealinkRPSConfiguration.serverName), .string(url),
                    .string(self.configuration.override ? "1" : "0"),
                ]))
    }

    /// `redirect.deRegisterDevice(mac)`.
    func deRegisterDevice(_ mac: MACAddress) async throws(RedirectError) -> YealinkRPSAnswer {
        try YealinkRPSAnswer.read(await self.call("redirect.deRegisterDevice", [.string(Self.spelled(mac))]))
    }

    /// `redirect.checkDevice(mac)`: `registered`, `registered elsewhere`, `unregistered` or `unknown`.
    func checkDevice(_ mac: MACAddress) async throws(RedirectError) -> YealinkRPSAnswer {
        try YealinkRPSAnswer.read(await self.call("redirect.checkDevice", [.string(Self.spelled(mac))]))
    }

    private func call(_ method: String, _ params: [XMLRPCValue]) async throws(RedirectError) -> XMLRPCValue {
        try await self.endpoint.call(method, params, maxBytes: self.configuration.login.maxResponseBytes)
    }
}

extension YealinkRPSClient: OneMACPerCallService, OwnershipOnlyLookups {
    /// Yealink RPS over XML-RPC: MAC only, one MAC per call, no listing (each device is checked on its own).
    public static let descriptor = ServiceDescriptor(
        kind: .yealinkRPS, name: "Yealink RPS (XML-RPC)", maxBatchSize: 1, listing: .unavailable,
        accountOptions: .override, defaultURL: YealinkRPSConfiguration.defaultEndpoint)

    public var descriptor: ServiceDescriptor { Self.descriptor }

    /// Registers `mac` at `url`; a MAC this account already holds is deregistered and registered again.
    public func register(_ mac: MACAddress, at url: String) async throws(RedirectError) -> RedirectOutcome {
        let answer = try await self.registerDeviceWithUniqueURL(mac, url: url)
        guard answer == .existing else { return answer.outcome }
        switch try await self.deRegisterDevice(mac) {
        case .ok, .unregistered, .unknown: return try await self.registerDeviceWithUniqueURL(mac, url: url).outcome
        case let refused: return refused.outcome
        }
    }

    /// `redirect.deRegisterDevice`: a MAC RPS does not hold is `noSuchMAC`, which a removal takes as done.
    public func deregister(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.deRegisterDevice(mac).outcome
    }

    /// `checkDevice`: `registered` is ours; `registered elsewhere` another account's; otherwise nobody's.
    public func ownership(of mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.checkDevice(mac).outcome
    }

    /// RPS has no listing call provhook uses (`descriptor.listing` is `.unavailable`).
    public func registeredMACs(model: String, url: String?) async throws(RedirectError) -> [MACAddress] {
        throw .invalidRequest("Yealink RPS cannot list an account's registrations")
    }
}
