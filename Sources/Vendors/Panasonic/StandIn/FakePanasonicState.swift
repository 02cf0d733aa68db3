import Foundation
import StandInSupport
import XMLRPC

/// A strict stand-in of Panasonic's redirection service (`ipredirect.*` over XML-RPC): accounts, registrations and
/// a log of every call. Tests change it directly, for example to have another account hold a MAC.
///
/// It takes what the clients that work against the service send (ngcp-panel, peoplefone): `/redirect/xmlrpc`, POST
/// with `Content-Type: text/xml` and basic auth, the MAC as 12 hex digits (either case), every parameter a string
/// (`checkPhones` an array of them). It answers `true`, or a fault whose code says why: 100 a URL that is not
/// `http://` or `https://`, 200 an invalid MAC, 201 a MAC it does not know, 202 a MAC another account holds.
public actor FakePanasonicState: SinglePathXMLRPCStandInState {
    /// The path the service answers on.
    public static let path = "/redirect/xmlrpc"
    /// The realm of its 401 (ngcp-panel's).
    public static let realm = "Please Enter Your Password"

    /// One MAC's registration, held by one account.
    public struct Registration: Sendable, Hashable {
        /// The account (basic-auth user) that holds it.
        public var owner: String
        /// Its provisioning URL.
        public var url: String

        public init(owner: String, url: String) { (self.owner, self.url) = (owner, url) }
    }

    /// One request the stand-in received.
    public typealias Call = XMLRPCStandInCall
    /// Registrations by MAC (12 uppercase hex digits).
    public private(set) var registrations: [String: Registration] = [:]

    public var ledger: XMLRPCStandInLedger

    public init(accounts: [String: String]) { self.ledger = XMLRPCStandInLedger(accounts: accounts) }

    /// Sets a registration directly, bypassing the API.
    public func setRegistration(_ mac: String, _ registration: Registration?) {
        self.registrations[mac.uppercased()] = registration
    }

    public func registration(_ mac: String) -> Registration? { self.registrations[mac.uppercased()] }

    // MARK: - XMLRPCStandInState

    public func dispatch(_ call: XMLRPCMethodCall, user: String) -> Result<XMLRPCValue, XMLRPCFault> {
        let strings = call.params.compactMap(\.stringValue)
        switch (call.methodName, call.params.count) {
        case ("ipredirect.registerPhone", 2) where strings.count == 2:
            return self.register(strings[0], url: strings[1], user).map { .bool(true) }
        case ("ipredirect.unregisterPhone", 1) where strings.count == 1:
            return self.unregister(strings[0], user).map { .bool(true) }
        case ("ipredirect.checkPhones", 1):
            guard case .array(let items) = call.params[0], !items.isEmpty else { break }
            let macs = items.compactMap(\.stringValue)
            guard macs.count == items.count else { break }
            return .success(.array(macs.map { self.check($0, user) }))
        case ("ipredirect.registerPhone", _), ("ipredirect.unregisterPhone", _), ("ipredirect.checkPhones", _):
            break
        default:
            return .failure(XMLRPCFault(code: -32601, message: "Method not found: \(call.methodName)"))
        }
        return .failure(XMLRPCFault(code: -32602, message: "Invalid method parameters"))
    }

    // MARK: - The service

    static let badURL = XMLRPCFault(code: 100, message: "Invalid URL")
    static let invalidMAC = XMLRPCFault(code: 200, message: "Invalid MAC address")
    static let notFound = XMLRPCFault(code: 201, message: "MAC address not found")
    static let ownedByOther = XMLRPCFault(code: 202, message: "MAC address is owned by another user")

    private func register(_ mac: String, url: String, _ user: String) -> Result<Void, XMLRPCFault> {
        guard let key = Self.validMAC(mac) else { return .failure(Self.invalidMAC) }
        let lowered = url.lowercased()
        guard ["http://", "https://"].contains(where: lowered.hasPrefix), url.count > 8, url.count <= 1024 else {
            return .failure(Self.badURL)
        }
        if let held = self.registrations[key], held.owner != user { return .failure(Self.ownedByOther) }
        self.registrations[key] = Registration(owner: user, url: url)
        return .success(())
    }

    private func unregister(_ mac: String, _ user: String) -> Result<Void, XMLRPCFault> {
        guard let key = Self.validMAC(mac) else { return .failure(Self.invalidMAC) }
        guard let held = self.registrations[key] else { return .failure(Self.notFound) }
        guard held.owner == user else { return .failure(Self.ownedByOther) }
        self.registrations[key] = nil
        return .success(())
    }

    private func check(_ mac: String, _ user: String) -> XMLRPCValue {
        let fault: XMLRPCFault
        if let key = Self.validMAC(mac) {
            switch self.registrations[key]?.owner {
            case nil: fault = Self.notFound
            case user: fault = XMLRPCFault(code: 0, message: "OK")
            default: fault = Self.ownedByOther
            }
        } else {
            fault = Self.invalidMAC
        }
        return .struct(["faultCode": .int(fault.code), "faultString": .string(fault.message)])
    }

    /// 12 hex digits in either case, as ngcp-panel and peoplefone send them; nil for anything else (separators too).
    public static func validMAC(_ text: String) -> String? {
        guard text.utf8.count == 12, text.utf8.allSatisfy({ $0 < 0x80 && Character(UnicodeScalar($0)).isHexDigit })
        else { return nil }
        return text.uppercased()
    }
}
