import Foundation
import StandInSupport
import XMLRPC
import YealinkRPSStandIn

/// The data of a stand-in of a Yealink-style RPS (Htek's or Akuvox's): accounts, their server objects,
/// registrations, and a log of every call. Tests change it directly, for example to have another account hold a MAC.
public actor FakeYealinkStyleRPSState: LedgeredXMLRPCStandInState {
    /// Which vendor's service the stand-in plays: where it answers and which calls it has.
    public enum Service: String, Sendable {
        /// Htek's: `/index.php/xmlrpc`, with the batch calls.
        case htek
        /// Akuvox's: `/fcgi/do?id=1`, without them.
        case akuvox

        /// The path the service answers on.
        public var path: String { self == .htek ? "/index.php/xmlrpc" : "/fcgi/do" }
        /// The query its endpoint carries, which the stand-in requires as given.
        public var query: String? { self == .htek ? nil : "id=1" }
        /// The endpoint's path and query, as an account's URL ends.
        public var pathAndQuery: String { self.path + (self.query.map { "?" + $0 } ?? "") }
        /// Whether it has `registerDevices` and `deRegisterDevices`.
        public var hasBatchCalls: Bool { self == .htek }
    }

    /// One MAC's registration, held by one account, as Yealink's RPS stand-in keeps it: its owner, the server it is
    /// registered to and that server's URL.
    public typealias Registration = FakeYealinkRPSState.Registration
    /// One call the stand-in received, as Yealink's RPS stand-in logs it.
    public typealias Call = FakeYealinkRPSState.Call

    public nonisolated let service: Service
    /// Each account's server objects: their URLs by name.
    public private(set) var servers: [String: [String: String]] = [:]
    /// Who holds each MAC, and which MACs were held once.
    public private(set) var registrations = RPSRegistrations()
    public var ledger: XMLRPCStandInLedger

    public init(service: Service, accounts: [String: String]) {
        self.service = service
        self.ledger = XMLRPCStandInLedger(accounts: accounts)
    }

    /// Sets a registration directly, bypassing the API.
    public func setRegistration(_ mac: String, _ registration: Registration?) {
        self.registrations.set(mac.uppercased(), registration)
    }

    public func registration(_ mac: String) -> Registration? { self.registrations[mac.uppercased()] }

    /// Removes one of `owner`'s server objects, as an operator could in the portal.
    public func removeServer(_ name: String, owner: String) { self.servers[owner]?[name] = nil }

    // MARK: - The service

    /// The answer to a call, or the fault for a call the service does not take: parameters are strings (the MAC
    /// lists of the batch calls arrays of strings), `isOverride` may be left out.
    public func dispatch(_ call: XMLRPCMethodCall, user: String) -> Result<XMLRPCValue, XMLRPCFault> {
        let params = call.params
        let strings = params.compactMap(\.stringValue)
        let batchCalls = ["redirect.registerDevices", "redirect.deRegisterDevices"]
        guard Self.methods.contains(call.methodName),
            self.service.hasBatchCalls || !batchCalls.contains(call.methodName)
        else {
            return .failure(XMLRPCFault(code: -32601, message: "Method not found: \(call.methodName)"))
        }
        switch (call.methodName, params.count) {
        case ("redirect.addServer", 2) where strings.count == 2:
            return .success(self.addServer(strings[0], url: strings[1], user))
        case ("redirect.registerDevice", 2...3) where strings.count == params.count:
            return .success(
                self.register([strings[0]], server: strings[1], override: strings.count == 3 ? strings[2] : "0", user))
        case ("redirect.registerDevices", 2...3) where strings.count == params.count - 1:
            guard let macs = Self.strings(params[0]) else { break }
            return .success(
                self.register(macs, server: strings[0], override: strings.count == 2 ? strings[1] : "0", user))
        case ("redirect.deRegisterDevice", 1) where strings.count == 1:
            return .success(self.deregister([strings[0]], user))
        case ("redirect.deRegisterDevices", 1):
            guard let macs = Self.strings(params[0]) else { break }
            return .success(self.deregister(macs, user))
        case ("redirect.checkDevice", 1) where strings.count == 1:
            return .success(self.check(strings[0], user))
        default:
            break
        }
        return .failure(XMLRPCFault(code: -32602, message: "Invalid method parameters"))
    }

    /// The methods the stand-in answers; the services' `listDevices` and `editDevice` are not played.
    static let methods: Set<String> = [
        "redirect.addServer", "redirect.registerDevice", "redirect.registerDevices", "redirect.deRegisterDevice",
        "redirect.deRegisterDevices", "redirect.checkDevice",
    ]

    private func addServer(_ name: String, url: String, _ user: String) -> XMLRPCValue {
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(Self.serverNameCharacters.contains) else {
            return Self.answer(false, "Error:The server name can only contain 'A-z 0-9 - _ . '(include space)")
        }
        let lowered = url.lowercased()
        guard ["http://", "https://", "ftp://", "tftp://"].contains(where: lowered.hasPrefix), url.count > 8 else {
            return Self.answer(
                false, "Error:The url can only begin with 'http://' or 'https://' or 'ftp://' or 'tftp://'")
        }
        // Not recorded by either vendor: these words are the stand-in's own, and the client relies on none of them.
        guard self.servers[user]?[name] == nil else { return Self.answer(false, "Error: Server name already exists") }
        self.servers[user, default: [:]][name] = url
        return Self.answer(true, "OK")
    }

    /// `registerDevice` and `registerDevices`: all or nothing, the first refusal naming every MAC it concerns.
    private func register(_ macs: [String], server: String, override: String, _ user: String) -> XMLRPCValue {
        let keys = macs.map(Self.validMAC)
        let invalid = zip(macs, keys).filter { $0.1 == nil }.map { $0.0 }
        guard invalid.isEmpty, !macs.isEmpty else {
            return Self.answer(false, "Invalid MAC(s): \(invalid.joined(separator: ","))")
        }
        guard let url = self.servers[user]?[server] else { return Self.answer(false, "Error: Invalid server") }
        guard override == "0" || override == "1" else { return Self.answer(false, "Error: Invalid isOverride") }
        let held = keys.compactMap { $0 }.filter { self.registrations[$0] != nil }
        if override != "1", !held.isEmpty {
            let ours = held.filter { self.registrations[$0]?.owner == user }
            guard ours.count == held.count else {
                return Self.answer(false, "Are you sure you want to override MAC addresses")
            }
            return Self.answer(false, "Existing MAC(s): \(ours.joined(separator: ","))")
        }
        for key in keys.compactMap({ $0 }) {
            self.registrations.set(key, Registration(owner: user, serverName: server, url: url))
        }
        return Self.answer(true, "OK")
    }

    /// `deRegisterDevice` and `deRegisterDevices`: all or nothing.
    private func deregister(_ macs: [String], _ user: String) -> XMLRPCValue {
        let keys = macs.map(Self.validMAC)
        let invalid = zip(macs, keys).filter { $0.1 == nil }.map { $0.0 }
        guard invalid.isEmpty, !macs.isEmpty else {
            return Self.answer(false, "Invalid MAC(s): \(invalid.joined(separator: ","))")
        }
        for key in keys.compactMap({ $0 }) {
            guard let held = self.registrations[key] else { return Self.answer(false, "unregistered") }
            guard held.owner == user else { return Self.answer(false, "registered elsewhere") }
        }
        for key in keys.compactMap({ $0 }) { self.registrations.set(key, nil) }
        return Self.answer(true, "OK")
    }

    private func check(_ mac: String, _ user: String) -> XMLRPCValue {
        guard let key = Self.validMAC(mac) else { return Self.answer(false, "Invalid MAC(s): \(mac)") }
        return Self.answer(true, self.registrations.check(key, by: user))
    }

    // MARK: - The services' spellings

    /// The four MAC spellings Akuvox's and Htek's pages give as valid, in either case: `0C1105002189`,
    /// `0C 11 05 00 21 89`, `0C-11-05-00-21-89`, `0C:11:05:00:21:89`. Nil for anything else.
    public static func validMAC(_ text: String) -> String? {
        var bare = text
        if text.count == 17 {
            let separator = text[text.index(text.startIndex, offsetBy: 2)]
            guard [" ", "-", ":"].contains(separator) else { return nil }
            let parts = text.split(separator: separator, omittingEmptySubsequences: false)
            guard parts.count == 6, parts.allSatisfy({ $0.count == 2 }) else { return nil }
            bare = parts.joined()
        }
        guard bare.utf8.count == 12, bare.utf8.allSatisfy({ $0 < 0x80 && Character(UnicodeScalar($0)).isHexDigit })
        else { return nil }
        return bare.uppercased()
    }

    /// `A-z 0-9 - _ .` and space, as Yealink's RPS, whose API these copy, says.
    static let serverNameCharacters = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_. ")

    /// The strings of an array parameter, or nil when it is not an array of strings.
    static func strings(_ value: XMLRPCValue) -> [String]? {
        guard case .array(let items) = value else { return nil }
        let strings = items.compactMap(\.stringValue)
        return strings.count == items.count ? strings : nil
    }

    /// `[boolean, text]`, the text untyped as the services' examples write it (`<value>OK</value>`).
    static func answer(_ success: Bool, _ text: String) -> XMLRPCValue { .array([.bool(success), .string(text)]) }
}
