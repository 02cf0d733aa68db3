import Foundation
import StandInSupport
import XMLRPC

/// The Yealink RPS stand-in's data: accounts, registrations, and a log of every call. Tests change it directly, for
/// example to have another account hold a MAC.
public actor FakeYealinkRPSState: LedgeredXMLRPCStandInState {
    /// One MAC's registration, held by one account.
    public struct Registration: Sendable, Hashable {
        /// The account (basic-auth user) that holds it.
        public var owner: String
        /// The server name it was registered under.
        public var serverName: String
        /// Its provisioning URL.
        public var url: String

        public init(owner: String, serverName: String, url: String) {
            (self.owner, self.serverName, self.url) = (owner, serverName, url)
        }
    }

    /// One call the stand-in received.
    public typealias Call = XMLRPCStandInCall

    /// Who holds each MAC, and which MACs were held once.
    public private(set) var registrations = RPSRegistrations()
    public var ledger: XMLRPCStandInLedger

    public init(accounts: [String: String]) { self.ledger = XMLRPCStandInLedger(accounts: accounts) }

    /// Sets a registration directly, bypassing the API.
    public func setRegistration(_ mac: String, _ registration: Registration?) {
        self.registrations.set(mac.uppercased(), registration)
    }

    public func registration(_ mac: String) -> Registration? { self.registrations[mac.uppercased()] }

    // MARK: - The service

    /// The answer to a call, or the fault for a call RPS does not take.
    public func dispatch(_ call: XMLRPCMethodCall, user: String) -> Result<XMLRPCValue, XMLRPCFault> {
        let strings = call.params.compactMap(\.stringValue)
        guard strings.count == call.params.count else {
            return .failure(XMLRPCFault(code: -32602, message: "Invalid method parameters: every one is a string"))
        }
        switch (call.methodName, strings.count) {
        case ("redirect.registerDeviceWithUniqueUrl", 4):
            return .success(self.register(strings[0], server: strings[1], url: strings[2], override: strings[3], user))
        case ("redirect.deRegisterDevice", 1):
            return .success(self.deregister(strings[0], user))
        case ("redirect.checkDevice", 1):
            return .success(self.check(strings[0], user))
        case ("redirect.registerDeviceWithUniqueUrl", _), ("redirect.deRegisterDevice", _),
            ("redirect.checkDevice", _):
            return .failure(XMLRPCFault(code: -32602, message: "Invalid method parameters"))
        default:
            return .failure(XMLRPCFault(code: -32601, message: "Method not found: \(call.methodName)"))
        }
    }

    private func register(
        _ mac: String, server: String, url: String, override: String, _ user: String
    )
        -> XMLRPCValue
    {
        guard let key = Self.validMAC(mac) else { return Self.answer(false, "Error:Invalid MAC(s):\(mac)") }
        guard !server.isEmpty else { return Self.answer(false, "Error:Invalid server") }
        guard server.unicodeScalars.allSatisfy(Self.serverNameCharacters.contains) else {
            return Self.answer(false, "Error:The server name can only contain 'A-z 0-9 - _ . '(include space)")
        }
        let lowered = url.lowercased()
        guard ["http://", "https://", "ftp://", "tftp://"].contains(where: lowered.hasPrefix), url.count > 8 else {
            return Self.answer(
                false, "Error:The url can only begin with 'http://' or 'https://' or 'ftp://' or 'tftp://'")
        }
        guard override == "0" || override == "1" else {
            return Self.answer(false, "Error:Invalid override")
        }
        if let held = self.registrations[key], override != "1" {
            // The stricter reading of an undocumented case: the account's own MAC needs override too.
            return held.owner == user
                ? Self.answer(false, "Existing MAC(s):\(Self.dashed(key))")
                : Self.answer(false, "Error:\(Self.heldElsewhereCode(held.owner))")
        }
        self.registrations.set(key, Registration(owner: user, serverName: server, url: url))
        return Self.answer(true, "OK")
    }

    private func deregister(_ mac: String, _ user: String) -> XMLRPCValue {
        guard let key = Self.validMAC(mac) else { return Self.answer(false, "Error:Invalid MAC(s):\(mac)") }
        guard let held = self.registrations[key] else { return Self.answer(false, "unregistered") }
        guard held.owner == user else { return Self.answer(false, "Error:\(Self.heldElsewhereCode(held.owner))") }
        self.registrations.set(key, nil)
        return Self.answer(true, "OK")
    }

    private func check(_ mac: String, _ user: String) -> XMLRPCValue {
        guard let key = Self.validMAC(mac) else { return Self.answer(false, "error:invalid mac") }
        return Self.answer(true, self.registrations.check(key, by: user))
    }

    // MARK: - RPS's spellings

    /// The MAC spellings RPS's clients send: `AA-BB-CC-DD-EE-FF` (the documentation's and falconieri's, uppercase)
    /// or 12 hex digits in either case (peoplefone, ngcp-panel). Nil for anything else, colons included.
    public static func validMAC(_ text: String) -> String? {
        let bare: String
        if text.count == 17 {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 6, parts.allSatisfy({ $0.count == 2 }), text == text.uppercased() else { return nil }
            bare = parts.joined()
        } else {
            bare = text
        }
        guard bare.utf8.count == 12, bare.utf8.allSatisfy({ $0 < 0x80 && Character(UnicodeScalar($0)).isHexDigit })
        else { return nil }
        return bare.uppercased()
    }

    static func dashed(_ key: String) -> String {
        stride(from: 0, to: 12, by: 2).map { offset in
            let start = key.index(key.startIndex, offsetBy: offset)
            return String(key[start..<key.index(start, offsetBy: 2)])
        }.joined(separator: "-")
    }

    /// `A-z 0-9 - _ .` and space, as RPS's own error text says.
    static let serverNameCharacters = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_. ")

    /// Ten lowercase letters and digits naming the holder, as falconieri reads RPS's refusal (`^Error:[a-z0-9]{10}`).
    static func heldElsewhereCode(_ owner: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in owner.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<10).map { index in alphabet[Int((hash >> (index * 6)) % 36)] })
    }

    /// `[boolean, text]`, the text untyped as RPS writes it (`<value>OK</value>`).
    static func answer(_ success: Bool, _ text: String) -> XMLRPCValue { .array([.bool(success), .string(text)]) }
}

/// Who holds each MAC at an RPS (Yealink's, or a copy of its API), and which MACs were held once and no longer,
/// which `checkDevice` tells apart: `unregistered` for those, `unknown` for MACs never seen.
public struct RPSRegistrations: Sendable {
    /// Registrations by MAC (12 uppercase hex digits).
    public private(set) var byMAC: [String: FakeYealinkRPSState.Registration] = [:]
    /// MACs registered once and no longer.
    public private(set) var released: Set<String> = []

    public init() {}

    public subscript(key: String) -> FakeYealinkRPSState.Registration? { self.byMAC[key] }

    /// Registers `key`, or removes its registration (the MAC is then released).
    public mutating func set(_ key: String, _ registration: FakeYealinkRPSState.Registration?) {
        if let registration {
            self.byMAC[key] = registration
            self.released.remove(key)
        } else if self.byMAC.removeValue(forKey: key) != nil {
            self.released.insert(key)
        }
    }

    /// `checkDevice`'s word for `key`, asked by `user`.
    public func check(_ key: String, by user: String) -> String {
        if let held = self.byMAC[key] { return held.owner == user ? "registered" : "registered elsewhere" }
        return self.released.contains(key) ? "unregistered" : "unknown"
    }
}
