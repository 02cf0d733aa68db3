import Foundation
import StandInSupport
import XMLRPC

/// A strict stand-in of Gigaset's auto-provisioning service (`autoprov.*` over XML-RPC): accounts, registrations and
/// a log of every call. Tests change it directly, for example to have another account hold a MAC.
///
/// It takes what the clients that work against the service send (falconieri, peoplefone): `/apxml/rpc.do`, POST with
/// `Content-Type: text/xml` and basic auth, every parameter a string. A registration's MAC-ID is 12 uppercase hex
/// digits, `-` and the 4-character code printed on the phone (falconieri's `^[A-Z0-9]{4}$`), which must be the
/// phone's: `code(for:)` is the code of each MAC here. Deregistering and checking take a MAC-ID or the MAC alone,
/// as peoplefone sends either. It answers `[boolean, text]` arrays: `[true, "ok"]` (`checkDevice`: `[true, MAC]`),
/// or `false` with the texts of falconieri's `utils.go` and peoplefone's client, followed by what they refuse:
/// `mac_invalid:` a malformed MAC-ID, `mac_not_exist:` a code that is not the phone's, `url_invalid:` a URL that is
/// not `http://` or `https://`, `name_invalid:` an empty or odd provider name, `mac_already_in_use:` a MAC that is
/// registered already (to another account, or to this one: falconieri deregisters before registering for that
/// reason), `mac_not_found:` a MAC the account does not hold (another account's phones are not its to see).
public actor FakeGigasetState: SinglePathXMLRPCStandInState {
    /// The path the service answers on.
    public static let path = "/apxml/rpc.do"
    /// The realm of its 401.
    public static let realm = "Gigaset Provisioning"

    /// One MAC's registration, held by one account.
    public struct Registration: Sendable, Hashable {
        /// The account (basic-auth user) that holds it.
        public var owner: String
        /// Its provisioning URL.
        public var url: String
        /// The provider name it was registered with.
        public var providerName: String

        public init(owner: String, url: String, providerName: String = "provhook") {
            (self.owner, self.url, self.providerName) = (owner, url, providerName)
        }
    }

    public typealias Call = XMLRPCStandInCall
    /// Registrations by MAC (12 uppercase hex digits).
    public private(set) var registrations: [String: Registration] = [:]

    public var ledger: XMLRPCStandInLedger

    public init(accounts: [String: String]) { self.ledger = XMLRPCStandInLedger(accounts: accounts) }

    /// The code printed on the phone with MAC `mac` (12 hex digits, either case), as this stand-in knows it: 4
    /// uppercase letters or digits, the same for the same MAC every time.
    public static func code(for mac: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in mac.uppercased().utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return String((0..<4).map { index in alphabet[Int((hash >> (UInt32(index) * 6)) % 36)] })
    }

    /// Sets a registration directly, bypassing the API.
    public func setRegistration(_ mac: String, _ registration: Registration?) {
        self.registrations[mac.uppercased()] = registration
    }

    public func registration(_ mac: String) -> Registration? { self.registrations[mac.uppercased()] }

    // MARK: - XMLRPCStandInState

    public func dispatch(_ call: XMLRPCMethodCall, user: String) -> Result<XMLRPCValue, XMLRPCFault> {
        let strings = call.params.compactMap(\.stringValue)
        let answer: (Bool, String)
        switch (call.methodName, call.params.count) {
        case ("autoprov.registerDevice", 3) where strings.count == 3:
            answer = self.register(strings[0], url: strings[1], name: strings[2], user)
        case ("autoprov.deregisterDevice", 1) where strings.count == 1:
            answer = self.deregister(strings[0], user)
        case ("autoprov.checkDevice", 1) where strings.count == 1:
            answer = self.check(strings[0], user)
        case ("autoprov.registerDevice", _), ("autoprov.deregisterDevice", _), ("autoprov.checkDevice", _):
            return .failure(XMLRPCFault(code: -32602, message: "Invalid method parameters"))
        default:
            return .failure(XMLRPCFault(code: -32601, message: "Method not found: \(call.methodName)"))
        }
        return .success(.array([.bool(answer.0), .string(answer.1)]))
    }

    // MARK: - The service

    /// A MAC-ID read: the MAC, and whether a code came with it.
    private enum MACID {
        case valid(mac: String)
        case invalid(String)
        case wrongCode(mac: String)
    }

    /// `text` as a MAC-ID: 12 uppercase hex digits, then `-` and the phone's code unless `codeRequired` is false.
    private static func read(_ text: String, codeRequired: Bool) -> MACID {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let mac = parts[0]
        guard mac.utf8.count == 12, mac.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x46).contains($0) })
        else { return .invalid(text) }
        switch parts.count {
        case 1 where !codeRequired: return .valid(mac: mac)
        case 2:
            let code = parts[1]
            guard code.utf8.count == 4,
                code.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) })
            else { return .invalid(text) }
            return code == Self.code(for: mac) ? .valid(mac: mac) : .wrongCode(mac: mac)
        default: return .invalid(text)
        }
    }

    private func register(_ macID: String, url: String, name: String, _ user: String) -> (Bool, String) {
        let mac: String
        switch Self.read(macID, codeRequired: true) {
        case .invalid(let text): return (false, "mac_invalid:\(text)")
        case .wrongCode(let key): return (false, "mac_not_exist:\(key)")
        case .valid(let key): mac = key
        }
        let lowered = url.lowercased()
        guard ["http://", "https://"].contains(where: lowered.hasPrefix), url.count > 8, url.count <= 1024 else {
            return (false, "url_invalid:\(url)")
        }
        guard !name.isEmpty, name.count <= 64,
            name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) })
        else { return (false, "name_invalid:\(name)") }
        if self.registrations[mac] != nil { return (false, "mac_already_in_use:\(mac)") }
        self.registrations[mac] = Registration(owner: user, url: url, providerName: name)
        return (true, "ok")
    }

    private func deregister(_ macID: String, _ user: String) -> (Bool, String) {
        switch Self.read(macID, codeRequired: false) {
        case .invalid(let text): return (false, "mac_invalid:\(text)")
        case .wrongCode(let mac): return (false, "mac_not_exist:\(mac)")
        case .valid(let mac):
            guard self.registrations[mac]?.owner == user else { return (false, "mac_not_found:\(mac)") }
            self.registrations[mac] = nil
            return (true, "ok")
        }
    }

    private func check(_ macID: String, _ user: String) -> (Bool, String) {
        switch Self.read(macID, codeRequired: false) {
        case .invalid(let text): return (false, "mac_invalid:\(text)")
        case .wrongCode(let mac): return (false, "mac_not_exist:\(mac)")
        case .valid(let mac):
            return self.registrations[mac]?.owner == user ? (true, mac) : (false, "mac_not_found:\(mac)")
        }
    }
}
