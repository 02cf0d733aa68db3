import ProvisioningModel
import XMLRPC

/// An answer of Fanvil's FDPS: `[boolean, string]`, the flag saying whether the call was done and the text, on a
/// refusal, why (falconieri reads the flag and, when it is false, the text). The texts the reference records are
/// `Error: url_format_error`, `Error: mac_format_error`, `Error: device_had_existed` and `Error:server_not_exist`,
/// spaced as written there.
enum FanvilAnswer: Sendable, Hashable {
    /// The flag is true, whatever the text (no client reads it).
    case ok
    /// `Error: url_format_error`: the server object's address is refused.
    case badURL
    /// `Error: mac_format_error`: the MAC is not one.
    case invalidMAC
    /// `Error: device_had_existed`: the MAC is registered already (to another account, once ours is deregistered).
    case deviceExists
    /// `Error:server_not_exist`: no server object of that name (what `deleteServer` answers for nothing to delete).
    case serverNotFound
    /// Any other refusal, kept verbatim.
    case other(String)

    /// The refusal `text` names.
    init(refusal text: String) {
        switch text {
        case "Error: url_format_error": self = .badURL
        case "Error: mac_format_error": self = .invalidMAC
        case "Error: device_had_existed": self = .deviceExists
        case "Error:server_not_exist": self = .serverNotFound
        default: self = .other(text)
        }
    }

    /// Reads `[boolean, string]`; any other shape is an invalid response.
    static func read(_ value: XMLRPCValue) throws(RedirectError) -> FanvilAnswer {
        guard case .array(let items) = value, items.count == 2, case .bool(let done) = items[0],
            case .string(let text) = items[1]
        else { throw .invalidResponse("expected [boolean, string], got \(value.typeName)") }
        return done ? .ok : Self(refusal: text)
    }

    /// The answer as provhook's outcomes: refusals by their neutral code, others verbatim (and failed). A MAC
    /// registered already is another account's: provhook deregisters it from its own account first.
    var outcome: RedirectOutcome {
        switch self {
        case .ok: .ok
        case .badURL: .error(.malformedURL)
        case .invalidMAC: .error(.malformedMAC)
        case .deviceExists: .error(.ownedByOtherUser)
        case .serverNotFound: .error(.unknown("Error:server_not_exist"))
        case .other(let text): .error(.unknown(text))
        }
    }
}
