import Foundation
import ProvisioningModel
import XMLRPC

/// An answer of Yealink's RPS, read from its `[boolean, text]` array. RPS's texts are known from the clients that
/// work against it (falconieri, peoplefone, and Htek's copy of the API), whose spellings differ in case, so they are
/// compared without case. Htek's and Akuvox's services copy the API, and their answers are read here too.
public enum YealinkRPSAnswer: Sendable, Hashable {
    /// `[true, "OK"]`.
    case ok
    /// `Existing MAC(s): <mac>`: this account holds the MAC already, and RPS wants `override` to register it again.
    case existing
    /// `Error:invalid mac(s):<mac>` (or `error:invalid mac` from `checkDevice`; Htek writes `Invalid MAC(s): <mac>`).
    case invalidMAC
    /// `Error:invalid server`.
    case invalidServer
    /// `Error:The url can only begin with 'http://' or 'https://' or 'ftp://' or 'tftp://'`.
    case invalidURL
    /// `Error:` and ten letters or digits (falconieri's reading), or Htek's `Are you sure you want to override MAC
    /// addresses`: another account holds the MAC.
    case heldElsewhere
    /// `checkDevice`: `registered` (to this account), `registered elsewhere`, `unregistered` (known, not
    /// registered), `unknown` (never seen).
    case registered, registeredElsewhere, unregistered, unknown
    /// Any other text, kept verbatim.
    case other(String)

    /// Reads a `[boolean, text]` answer; the flag decides success only where the text does not name a state.
    public static func read(_ value: XMLRPCValue) throws(RedirectError) -> YealinkRPSAnswer {
        guard case .array(let items) = value, items.count == 2, case .bool(let success) = items[0],
            case .string(let text) = items[1]
        else {
            throw .invalidResponse("expected [boolean, string], got \(value.typeName)")
        }
        return Self(text: text, success: success)
    }

    /// Reads `text`, which came with the flag `success`.
    public init(text: String, success: Bool) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let lower = trimmed.lowercased()
        switch lower {
        case "registered": self = .registered
        case "registered elsewhere": self = .registeredElsewhere
        case "unregistered", "error:unregistered": self = .unregistered
        case "unknown", "error:unknown": self = .unknown
        default:
            if success {
                self = .ok
            } else if lower.hasPrefix("existing mac") {
                self = .existing
            } else if lower.hasPrefix("error:invalid mac") || lower.hasPrefix("error: invalid mac")
                || lower.hasPrefix("invalid mac")
            {
                self = .invalidMAC
            } else if lower.hasPrefix("error:invalid server") || lower.hasPrefix("error: invalid server") {
                self = .invalidServer
            } else if lower.hasPrefix("error:the url can only begin with") {
                self = .invalidURL
            } else if lower.hasPrefix("are you sure you want to override") || Self.isHeldElsewhereCode(lower) {
                self = .heldElsewhere
            } else {
                self = .other(trimmed)
            }
        }
    }

    /// `error:` followed by ten letters or digits: how RPS refuses a MAC another account holds, as falconieri reads
    /// it (`^Error:[a-z0-9]{10}`; the exact text is not recorded).
    private static func isHeldElsewhereCode(_ lower: String) -> Bool {
        guard lower.hasPrefix("error:") else { return false }
        let code = lower.unicodeScalars.dropFirst(6).prefix(10)
        return code.count == 10 && code.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    /// The answer as provhook's outcomes: refusals by their neutral code, others verbatim (and failed).
    public var outcome: RedirectOutcome {
        switch self {
        case .ok, .registered: .ok
        case .existing: .error(.unknown("Existing MAC(s)"))
        case .invalidMAC: .error(.malformedMAC)
        case .invalidServer, .invalidURL: .error(.malformedURL)
        case .heldElsewhere, .registeredElsewhere: .error(.ownedByOtherUser)
        case .unregistered, .unknown: .error(.noSuchMAC)
        case .other(let text): .error(.unknown(text))
        }
    }
}
