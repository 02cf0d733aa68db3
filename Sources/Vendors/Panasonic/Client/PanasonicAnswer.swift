import ProvisioningModel
import XMLRPC

/// An answer of Panasonic's redirection service. Success is `true`; a refusal is an XML-RPC fault whose code says
/// why (peoplefone's client, which reads the code and never the text): 100 a bad URL, 200 an invalid MAC, 201 a MAC
/// the service does not know, 202 a MAC another account holds. `checkPhones` answers a struct per MAC with the same
/// codes, 0 for a MAC the account holds.
enum PanasonicAnswer: Sendable, Hashable {
    /// `true`, or `faultCode` 0 from `checkPhones`.
    case ok
    /// Fault 100: the URL is refused.
    case badURL
    /// Fault 200: the MAC is not one.
    case invalidMAC
    /// Fault 201: the service does not know the MAC.
    case notFound
    /// Fault 202: another account holds the MAC.
    case ownedByOther
    /// Any other answer, kept verbatim.
    case other(String)

    /// The answer a fault code gives; `message` is kept for a code the reference does not name.
    init(code: Int, message: String) {
        switch code {
        case 0: self = .ok
        case 100: self = .badURL
        case 200: self = .invalidMAC
        case 201: self = .notFound
        case 202: self = .ownedByOther
        default: self = .other("fault \(code): \(message)")
        }
    }

    /// Reads the answer to `registerPhone` or `unregisterPhone`: `true`, or a fault. A struct holding `faultCode`
    /// as a value is read as that fault too, since the PHP clients that work against the service cannot tell the two
    /// apart.
    static func read(_ response: XMLRPCResponse) throws(RedirectError) -> PanasonicAnswer {
        switch response {
        case .fault(let fault): return Self(code: fault.code, message: fault.message)
        case .value(.bool(true)): return .ok
        case .value(let value):
            if let answer = Self.fault(in: value) { return answer }
            throw .invalidResponse("expected true or a fault, got \(value.typeName)")
        }
    }

    /// Reads the answer to `checkPhones([mac])`: an array with one struct for the MAC, whose `faultCode` says where
    /// it stands; a fault for the whole call is read as that fault.
    static func readCheck(_ response: XMLRPCResponse) throws(RedirectError) -> PanasonicAnswer {
        switch response {
        case .fault(let fault): return Self(code: fault.code, message: fault.message)
        case .value(.array(let items)):
            guard items.count == 1, let answer = Self.fault(in: items[0]) else {
                throw .invalidResponse("checkPhones answered \(items.count) entries for one MAC")
            }
            return answer
        case .value(let value):
            throw .invalidResponse("checkPhones: expected an array, got \(value.typeName)")
        }
    }

    private static func fault(in value: XMLRPCValue) -> PanasonicAnswer? {
        guard case .struct(let members) = value, case .int(let code)? = members["faultCode"] else { return nil }
        let message: String
        if case .string(let text)? = members["faultString"] { message = text } else { message = "" }
        return Self(code: code, message: message)
    }

    /// The answer as provhook's outcomes: refusals by their neutral code, others verbatim (and failed).
    var outcome: RedirectOutcome {
        switch self {
        case .ok: .ok
        case .badURL: .error(.malformedURL)
        case .invalidMAC: .error(.malformedMAC)
        case .notFound: .error(.noSuchMAC)
        case .ownedByOther: .error(.ownedByOtherUser)
        case .other(let text): .error(.unknown(text))
        }
    }
}
