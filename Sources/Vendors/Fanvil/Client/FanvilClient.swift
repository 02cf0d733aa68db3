import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import ProvisioningModel
import VendorHTTP
import XMLRPC

/// The client of Fanvil's FDPS (`redirect.*` over XML-RPC, basic auth) for one account, and `ProvisioningService` on
/// top of it.
///
/// FDPS redirects a MAC to a server object, which holds the address split into protocol, host and path. As falconieri
/// does, each MAC gets a server object of its own, named by the MAC: registering deletes that object if it is there
/// (`deleteServer`, where `Error:server_not_exist` is nothing to delete), adds it again with the URL
/// (`addMaterialServer`), deregisters the MAC (whatever that answers) and registers it to the object
/// (`registerDevice(mac, mac)`). The MAC is 12 uppercase hex digits, as falconieri sends it. The password sent is the
/// hex md5 of the hex md5 of the account's, computed once when the client is made.
public struct FanvilClient: XMLRPCLoginClient {
    /// The endpoint of falconieri's defaults: plain `http://`, refused unless `PROVHOOK_REDIRECT_ALLOW_HTTP`.
    public static let defaultEndpoint = "http://fdps.fanvil.com/xmlrpc.php"
    /// The service's name in errors and logs.
    public static let serviceName = "Fanvil FDPS"

    /// The settings this client was made with (the account's own password, never sent as it is).
    public let login: XMLRPCLogin
    private let endpoint: XMLRPCEndpoint

    /// Makes a client that sends its calls through `endpoint`, which must authenticate with
    /// `sentPassword(for: login.password)`.
    public init(login: XMLRPCLogin, endpoint: XMLRPCEndpoint) {
        self.login = login
        self.endpoint = endpoint
    }

    /// The password FDPS takes for `password`: the lowercase hex md5 of the lowercase hex md5 of its UTF-8 bytes
    /// (falconieri's `fanvilGetPassword`).
    public static func sentPassword(for password: String) -> String {
        Self.md5Hex(Self.md5Hex(password))
    }

    private static func md5Hex(_ text: String) -> String {
        Insecure.MD5.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The server object's settings for `url`, as falconieri writes them: named by the MAC, applied after a reboot
    /// (`cfgPfMode=1`), DHCP and PnP provisioning off, the host (with its port when the URL gives one), the path
    /// without its leading '/', and the protocol, 4 for http and 5 for https. Nil for a URL they cannot hold: another
    /// scheme, no host, credentials, a query or a fragment.
    static func serverSettings(for mac: MACAddress, url: String) -> [String]? {
        guard let components = URLComponents(string: url), let host = components.percentEncodedHost, !host.isEmpty,
            components.user == nil, components.password == nil, components.query == nil,
            components.fragment == nil
        else { return nil }
        let protocolCode: String
        switch components.scheme?.lowercased() {
        case "http": protocolCode = "4"
        case "https": protocolCode = "5"
        default: return nil
        }
        let server = components.port.map { "\(host):\($0)" } ?? host
        var path = Substring(components.percentEncodedPath)
        if path.first == "/" { path = path.dropFirst() }
        return [
            "cfgName=\(mac.canonical)", "cfgPfMode=1", "cfgDhcpOpt=false", "cfgPnpEnable=false", "cfgPfSrv=\(server)",
            "cfgPfName=\(path)", "cfgPfProt=\(protocolCode)",
        ]
    }

    // MARK: - The methods provhook calls, every parameter a string as falconieri sends them

    /// `redirect.deleteServer(name)`.
    func deleteServer(_ name: String) async throws(RedirectError) -> FanvilAnswer {
        try await self.call("redirect.deleteServer", [.string(name)])
    }

    /// `redirect.addMaterialServer([settings])`.
    func addMaterialServer(_ settings: [String]) async throws(RedirectError) -> FanvilAnswer {
        try await self.call("redirect.addMaterialServer", [.array(settings.map(XMLRPCValue.string))])
    }

    /// `redirect.deRegisterDevice(mac)`.
    func deRegisterDevice(_ mac: MACAddress) async throws(RedirectError) -> FanvilAnswer {
        try await self.call("redirect.deRegisterDevice", [.string(mac.canonical)])
    }

    /// `redirect.registerDevice(mac, serverName)`.
    func registerDevice(_ mac: MACAddress, server: String) async throws(RedirectError) -> FanvilAnswer {
        try await self.call("redirect.registerDevice", [.string(mac.canonical), .string(server)])
    }

    private func call(_ method: String, _ params: [XMLRPCValue]) async throws(RedirectError) -> FanvilAnswer {
        try FanvilAnswer.read(await self.endpoint.call(method, params, maxBytes: self.login.maxResponseBytes))
    }
}

extension FanvilClient: OneMACPerCallService {
    /// Fanvil's FDPS: MAC only, one MAC per call, and no call that says what an account holds.
    public static let descriptor = ServiceDescriptor(
        kind: .fanvil, name: "Fanvil FDPS (XML-RPC)", maxBatchSize: 1, listing: .unavailable,
        defaultURL: Self.defaultEndpoint, canCheckDevices: false)

    public var descriptor: ServiceDescriptor { Self.descriptor }

    /// Replaces the MAC's server object with one for `url` and registers the MAC to it, in falconieri's order. A URL
    /// the object cannot hold is refused before any call (`malformedURL`).
    public func register(_ mac: MACAddress, at url: String) async throws(RedirectError) -> RedirectOutcome {
        guard let settings = Self.serverSettings(for: mac, url: url) else { return .error(.malformedURL) }
        switch try await self.deleteServer(mac.canonical) {
        case .ok, .serverNotFound: break
        case let refused: return refused.outcome
        }
        let added = try await self.addMaterialServer(settings)
        guard added == .ok else { return added.outcome }
        // A MAC the account does not hold is refused here; falconieri ignores this answer, and so does provhook.
        _ = try await self.deRegisterDevice(mac)
        return try await self.registerDevice(mac, server: mac.canonical).outcome
    }

    /// `deRegisterDevice`, then the MAC's server object deleted (`Error:server_not_exist`: none was left).
    public func deregister(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        let released = try await self.deRegisterDevice(mac)
        guard released == .ok else { return released.outcome }
        switch try await self.deleteServer(mac.canonical) {
        case .ok, .serverNotFound: return .ok
        case let refused: return refused.outcome
        }
    }

    /// FDPS has no call that says where a MAC points (`descriptor.canCheckDevices` is false).
    public func redirection(of mac: MACAddress) async throws(RedirectError) -> PhoneRedirection {
        throw .invalidRequest("Fanvil FDPS has no call that says where a MAC is redirected")
    }

    /// FDPS has no call that says which account holds a MAC (`descriptor.canCheckDevices` is false).
    public func ownership(of mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        throw .invalidRequest("Fanvil FDPS has no call that says which account holds a MAC")
    }

    /// The service has no listing call (`descriptor.listing` is `.unavailable`).
    public func registeredMACs(model: String, url: String?) async throws(RedirectError) -> [MACAddress] {
        throw .invalidRequest("Fanvil FDPS cannot list an account's registrations")
    }

    /// `deleteServer` of a name provhook never gives a server object: any answer of the service (`Error:server_not_exist`)
    /// means it took the credentials, and nothing of the account's is touched.
    public func checkCredentials() async throws(RedirectError) {
        _ = try await self.deleteServer(Self.credentialsProbe)
    }

    /// The server name `checkCredentials` deletes: not a MAC, so never one of provhook's objects.
    static let credentialsProbe = "provhook-credentials-check"
}
