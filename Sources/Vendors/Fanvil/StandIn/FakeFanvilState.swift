import Crypto
import Foundation
import StandInSupport
import XMLRPC

/// A strict stand-in of Fanvil's FDPS (`redirect.*` over XML-RPC): accounts, their server objects, registrations
/// and a log of every call. Tests change it directly, for example to have another account hold a MAC.
///
/// It takes what falconieri (`providers/fanvil.go`, the reference's only source) sends: `/xmlrpc.php`, POST with
/// `Content-Type: text/xml` and basic auth whose password is the lowercase hex md5 of the lowercase hex md5 of the
/// account's, every parameter a string, the MAC as 12 uppercase hex digits. It answers `[boolean, string]` with the
/// reference's texts: `Error: mac_format_error` for any other MAC spelling, `Error: url_format_error` for server
/// settings that do not make an http, https, ftp or tftp address, `Error: device_had_existed` for a MAC registered
/// already (to any account: falconieri deregisters before registering), `Error:server_not_exist` for a server object
/// the account does not have. What the reference does not record is the stand-in's choice: its success text, a
/// deregistration of a MAC nobody holds done, of a MAC another account holds `Error: device_had_existed`, and
/// faults for parameters of another shape and for a server object added twice.
public actor FakeFanvilState: SinglePathXMLRPCStandInState {
    /// The path the service answers on (falconieri's default URL's).
    public static let path = "/xmlrpc.php"
    /// The realm of its 401 (not recorded anywhere: the stand-in's).
    public static let realm = "FDPS"
    /// The text of every answer `true` (no client reads it).
    public static let successText = "success"

    /// One server object: where the MACs registered to it are redirected.
    public struct Server: Sendable, Hashable {
        /// Its settings by name (`cfgPfSrv`, `cfgPfName`, …), as added.
        public var settings: [String: String]
        /// The address its settings make, `protocol://cfgPfSrv/cfgPfName`.
        public var url: String
    }

    /// One MAC's registration, held by one account.
    public struct Registration: Sendable, Hashable {
        /// The account (basic-auth user) that holds it.
        public var owner: String
        /// The server object it is registered to.
        public var server: String
        /// That object's address when it is there, nil once it was deleted.
        public var url: String?

        public init(owner: String, server: String, url: String?) {
            (self.owner, self.server, self.url) = (owner, server, url)
        }
    }

    /// One request the stand-in received.
    public typealias Call = XMLRPCStandInCall
    /// Each account's server objects, by user and name.
    public private(set) var servers: [String: [String: Server]] = [:]
    private var registered: [String: (owner: String, server: String)] = [:]

    public var ledger: XMLRPCStandInLedger

    public init(accounts: [String: String]) { self.ledger = XMLRPCStandInLedger(accounts: accounts) }

    /// The password the service takes for `password`: the lowercase hex md5 of its lowercase hex md5.
    public static func sentPassword(for password: String) -> String { Self.md5Hex(Self.md5Hex(password)) }

    private static func md5Hex(_ text: String) -> String {
        Insecure.MD5.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Registers `mac` (12 uppercase hex digits) directly to `owner`'s server object `server`, or removes its
    /// registration, bypassing the API.
    public func setRegistration(_ mac: String, owner: String, server: String) {
        self.registered[mac] = (owner, server)
    }

    /// Removes `mac`'s registration directly.
    public func removeRegistration(_ mac: String) { self.registered[mac] = nil }

    /// `mac`'s registration, with the address of its server object.
    public func registration(_ mac: String) -> Registration? {
        guard let held = self.registered[mac] else { return nil }
        return Registration(owner: held.owner, server: held.server, url: self.servers[held.owner]?[held.server]?.url)
    }

    // MARK: - XMLRPCStandInState

    public func authenticate(user: String, password: String) -> Bool {
        guard let known = self.accounts[user] else { return false }
        return password == Self.sentPassword(for: known)
    }

    public func dispatch(_ call: XMLRPCMethodCall, user: String) -> Result<XMLRPCValue, XMLRPCFault> {
        let strings = call.params.compactMap(\.stringValue)
        let answer: String?
        switch (call.methodName, call.params.count) {
        case ("redirect.deleteServer", 1) where strings.count == 1:
            answer = self.deleteServer(strings[0], user)
        case ("redirect.addMaterialServer", 1):
            guard case .array(let items) = call.params[0] else { return .failure(Self.invalidParameters) }
            let settings = items.compactMap(\.stringValue)
            guard settings.count == items.count else { return .failure(Self.invalidParameters) }
            return self.addServer(settings, user).map(Self.answer)
        case ("redirect.deRegisterDevice", 1) where strings.count == 1:
            answer = self.deregister(strings[0], user)
        case ("redirect.registerDevice", 2) where strings.count == 2:
            answer = self.register(strings[0], server: strings[1], user)
        case ("redirect.deleteServer", _), ("redirect.addMaterialServer", _), ("redirect.deRegisterDevice", _),
            ("redirect.registerDevice", _):
            return .failure(Self.invalidParameters)
        default:
            return .failure(XMLRPCFault(code: -32601, message: "Method not found: \(call.methodName)"))
        }
        return .success(Self.answer(answer))
    }

    // MARK: - The service

    static let invalidParameters = XMLRPCFault(code: -32602, message: "Invalid method parameters")
    static let badURL = "Error: url_format_error"
    static let invalidMAC = "Error: mac_format_error"
    static let deviceExists = "Error: device_had_existed"
    static let noServer = "Error:server_not_exist"

    /// `[true, "success"]` for nil, `[false, refusal]` otherwise.
    static func answer(_ refusal: String?) -> XMLRPCValue {
        .array([.bool(refusal == nil), .string(refusal ?? Self.successText)])
    }

    private func deleteServer(_ name: String, _ user: String) -> String? {
        guard self.servers[user]?[name] != nil else { return Self.noServer }
        self.servers[user]?[name] = nil
        return nil
    }

    /// The settings falconieri sends, each `name=value` once: the name, `cfgPfMode`, `cfgDhcpOpt`, `cfgPnpEnable`,
    /// and the address as server, path and protocol (1 ftp, 2 tftp, 4 http, 5 https).
    private func addServer(_ settings: [String], _ user: String) -> Result<String?, XMLRPCFault> {
        var named: [String: String] = [:]
        for setting in settings {
            guard let equals = setting.firstIndex(of: "=") else { return .failure(Self.invalidParameters) }
            let name = String(setting[..<equals])
            guard named.updateValue(String(setting[setting.index(after: equals)...]), forKey: name) == nil else {
                return .failure(Self.invalidParameters)
            }
        }
        let required = ["cfgName", "cfgPfMode", "cfgDhcpOpt", "cfgPnpEnable", "cfgPfSrv", "cfgPfName", "cfgPfProt"]
        guard Set(named.keys) == Set(required), let name = named["cfgName"], !name.isEmpty,
            named["cfgPfMode"] == "1", ["true", "false"].contains(named["cfgDhcpOpt"]),
            ["true", "false"].contains(named["cfgPnpEnable"])
        else { return .failure(Self.invalidParameters) }
        guard let url = Self.address(named) else { return .success(Self.badURL) }
        guard self.servers[user]?[name] == nil else {
            return .failure(XMLRPCFault(code: 1, message: "server \(name) exists"))
        }
        self.servers[user, default: [:]][name] = Server(settings: named, url: url)
        return .success(nil)
    }

    /// The address the settings make, or nil: a known protocol, a host (and port) with no path in it, a path that
    /// does not start with '/' (falconieri trims it), and a URL that parses.
    static func address(_ settings: [String: String]) -> String? {
        let schemes = ["1": "ftp", "2": "tftp", "4": "http", "5": "https"]
        guard let scheme = settings["cfgPfProt"].flatMap({ schemes[$0] }), let server = settings["cfgPfSrv"],
            let path = settings["cfgPfName"], !server.isEmpty, !server.contains("/"), !server.contains("@"),
            !path.hasPrefix("/")
        else { return nil }
        let url = "\(scheme)://\(server)/\(path)"
        guard let components = URLComponents(string: url), components.host?.isEmpty == false,
            components.query == nil, components.fragment == nil, url.count <= 1024
        else { return nil }
        return url
    }

    private func deregister(_ mac: String, _ user: String) -> String? {
        guard Self.isMAC(mac) else { return Self.invalidMAC }
        guard let held = self.registered[mac] else { return nil }
        guard held.owner == user else { return Self.deviceExists }
        self.registered[mac] = nil
        return nil
    }

    private func register(_ mac: String, server: String, _ user: String) -> String? {
        guard Self.isMAC(mac) else { return Self.invalidMAC }
        guard self.servers[user]?[server] != nil else { return Self.noServer }
        guard self.registered[mac] == nil else { return Self.deviceExists }
        self.registered[mac] = (user, server)
        return nil
    }

    /// 12 uppercase hex digits, as falconieri sends them (its MAC pattern takes no lowercase, no separators).
    public static func isMAC(_ text: String) -> Bool {
        text.utf8.count == 12 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x46).contains($0) }
    }
}
