import AsyncHTTPClient
import Logging
import ProvisioningModel
import VendorHTTP
import XMLRPC
import YealinkRPS

/// The client of a Yealink-style RPS (Htek's, Akuvox's) for one account, and `ProvisioningService` on top of it.
///
/// These services redirect a MAC to a named server object: `redirect.addServer(name, url)` once per provisioning URL
/// (named from the URL, `ServerNames`), then `redirect.registerDevice(mac, name, isOverride)`. A MAC this account
/// already holds (`Existing MAC(s)`) is registered again with `isOverride` `"1"`, which re-points it; a MAC another
/// account holds is taken only when the account says `override`. Their answers are Yealink's RPS answers
/// (`YealinkRPSAnswer`).
public struct YealinkStyleRPSClient: Sendable {
    /// The settings this client was made with.
    public let configuration: YealinkStyleRPSConfiguration
    private let endpoint: XMLRPCEndpoint
    private let servers = KnownServers()

    /// Makes a client that sends its calls through `httpClient`, which the caller owns and shuts down.
    public init(configuration: YealinkStyleRPSConfiguration, httpClient: HTTPClient, logger: Logger) {
        self.init(
            configuration: configuration,
            endpoint: XMLRPCEndpoint(login: configuration.login, httpClient: httpClient, logger: logger))
    }

    private init(configuration: YealinkStyleRPSConfiguration, endpoint: XMLRPCEndpoint) {
        (self.configuration, self.endpoint) = (configuration, endpoint)
    }

    /// Makes a client with an HTTP connection pool of its own, and the function that closes that pool once the
    /// client is no longer used: what each account gets.
    public static func withOwnPool(
        configuration: YealinkStyleRPSConfiguration, logger: Logger
    ) throws(XMLRPCLoginError) -> (client: YealinkStyleRPSClient, close: @Sendable () async -> Void) {
        let (endpoint, close) = try XMLRPCEndpoint.withOwnPool(
            login: configuration.login, service: configuration.dialect.name,
            plainHTTPNote: configuration.dialect.plainHTTPNote, logger: logger)
        return (YealinkStyleRPSClient(configuration: configuration, endpoint: endpoint), close)
    }

    /// The name of the server object provhook keeps for `url`.
    public static func serverName(for url: String) -> String { ServerNames.name(for: url) }

    // MARK: - The methods provhook calls, every parameter a string as the vendors' examples send them

    /// `redirect.addServer(name, url)`.
    func addServer(_ name: String, url: String) async throws(RedirectError) -> YealinkRPSAnswer {
        try await self.call("redirect.addServer", [.string(name), .string(url)])
    }

    /// `redirect.registerDevice(mac, serverName, isOverride)`, the MAC as 12 hex digits and isOverride `"1"` or `"0"`.
    func registerDevice(
        _ mac: MACAddress, server: String, override: Bool
    ) async throws(RedirectError)
        -> YealinkRPSAnswer
    {
        try await self.call(
            "redirect.registerDevice", [.string(mac.canonical), .string(server), .string(override ? "1" : "0")])
    }

    /// `redirect.registerDevices([mac, …], serverName, isOverride)`, where the service has it.
    func registerDevices(
        _ macs: [MACAddress], server: String, override: Bool
    ) async throws(RedirectError)
        -> YealinkRPSAnswer
    {
        try await self.call(
            "redirect.registerDevices",
            [.array(macs.map { .string($0.canonical) }), .string(server), .string(override ? "1" : "0")])
    }

    /// `redirect.deRegisterDevice(mac)`.
    func deRegisterDevice(_ mac: MACAddress) async throws(RedirectError) -> YealinkRPSAnswer {
        try await self.call("redirect.deRegisterDevice", [.string(mac.canonical)])
    }

    /// `redirect.deRegisterDevices([mac, …])`, where the service has it.
    func deRegisterDevices(_ macs: [MACAddress]) async throws(RedirectError) -> YealinkRPSAnswer {
        try await self.call("redirect.deRegisterDevices", [.array(macs.map { .string($0.canonical) })])
    }

    /// `redirect.checkDevice(mac)`: `registered`, `registered elsewhere`, `unregistered` or `unknown`.
    func checkDevice(_ mac: MACAddress) async throws(RedirectError) -> YealinkRPSAnswer {
        try await self.call("redirect.checkDevice", [.string(mac.canonical)])
    }

    private func call(_ method: String, _ params: [XMLRPCValue]) async throws(RedirectError) -> YealinkRPSAnswer {
        try YealinkRPSAnswer.read(
            await self.endpoint.call(method, params, maxBytes: self.configuration.login.maxResponseBytes))
    }

    // MARK: - Server objects

    /// Runs `registration` with the server named for `url`, adding that server first unless this client knows it is
    /// there. What `addServer` answers is not trusted to say whether the name was taken (its texts are not recorded):
    /// the registration's own answer says whether the server exists. When it answers `Invalid server` for a server
    /// thought to be there, the server is added again and the registration made once more; when the server still
    /// is not there, `addServer`'s refusal (a URL the service does not take, say) is the answer.
    func withServer(
        for url: String, _ registration: (String) async throws(RedirectError) -> YealinkRPSAnswer
    ) async throws(RedirectError) -> YealinkRPSAnswer {
        let name = ServerNames.name(for: url)
        var added: YealinkRPSAnswer?
        if !(await self.servers.contains(name)) { added = try await self.addServer(name, url: url) }
        var answer = try await registration(name)
        if answer == .invalidServer, added == nil {
            added = try await self.addServer(name, url: url)
            answer = try await registration(name)
        }
        if answer == .invalidServer {
            await self.servers.remove(name)
            if let added, added != .ok { return added }
        } else {
            await self.servers.insert(name)
        }
        return answer
    }
}

extension YealinkStyleRPSClient: ProvisioningService, OwnershipOnlyLookups {
    /// Htek's RPS: batches of any size (none is recorded), no listing provhook uses.
    public static let htekDescriptor = Self.descriptor(for: .htek)
    /// Akuvox's RPS: one MAC per call, no listing.
    public static let akuvoxDescriptor = Self.descriptor(for: .akuvox)

    /// The descriptor of `dialect`'s service: an override flag; batches only where it has the batch calls.
    public static func descriptor(for dialect: RPSDialect) -> ServiceDescriptor {
        ServiceDescriptor(
            kind: dialect.kind, name: dialect.name, maxBatchSize: dialect.hasBatchCalls ? nil : 1,
            listing: .unavailable, accountOptions: .override, defaultURL: dialect.defaultEndpoint)
    }

    public var descriptor: ServiceDescriptor { Self.descriptor(for: self.configuration.dialect) }

    /// Registers `mac` to the server for `url`; a MAC this account holds already is registered again with
    /// `isOverride`, which re-points it.
    public func register(_ mac: MACAddress, at url: String) async throws(RedirectError) -> RedirectOutcome {
        let override = self.configuration.override
        let answer = try await self.withServer(for: url) { (server: String) throws(RedirectError) in
            try await self.registerDevice(mac, server: server, override: override)
        }
        guard answer == .existing else { return answer.outcome }
        return try await self.registerDevice(mac, server: ServerNames.name(for: url), override: true).outcome
    }

    /// `redirect.deRegisterDevice`: a MAC the service does not hold is `noSuchMAC`, which a removal takes as done.
    public func deregister(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.deRegisterDevice(mac).outcome
    }

    /// `registerDevices` where the service has it. Its answer is one text for the whole list, which does not say
    /// for each MAC what became of it: unless it is `OK`, each MAC is registered on its own, which tells.
    public func register(_ macs: [MACAddress], at url: String) async throws(RedirectError) -> ListOutcome {
        if self.configuration.dialect.hasBatchCalls, macs.count > 1 {
            let override = self.configuration.override
            let answer = try await self.withServer(for: url) { (server: String) throws(RedirectError) in
                try await self.registerDevices(macs, server: server, override: override)
            }
            switch answer {
            case .ok: return .ok
            case .invalidServer, .invalidURL: return .error(.malformedURL)
            default: break
            }
        }
        return try await ListOutcome.applyingEach(macs) { (mac: MACAddress) throws(RedirectError) in
            try await self.register(mac, at: url)
        }
    }

    /// `deRegisterDevices` where the service has it; unless it answers `OK`, each MAC on its own.
    public func deregister(_ macs: [MACAddress]) async throws(RedirectError) -> ListOutcome {
        if self.configuration.dialect.hasBatchCalls, macs.count > 1, try await self.deRegisterDevices(macs) == .ok {
            return .ok
        }
        return try await ListOutcome.applyingEach(macs) { (mac: MACAddress) throws(RedirectError) in
            try await self.deregister(mac)
        }
    }

    /// `checkDevice`: `registered` is ours; `registered elsewhere` another account's; otherwise nobody's.
    public func ownership(of mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.checkDevice(mac).outcome
    }

    /// No listing provhook uses (`descriptor.listing` is `.unavailable`).
    public func registeredMACs(model: String, url: String?) async throws(RedirectError) -> [MACAddress] {
        throw .invalidRequest("\(self.configuration.dialect.name) cannot list an account's registrations")
    }
}
