import ProvisioningModel
import XMLRPC

/// An answer of Gigaset's auto-provisioning service, read from its `[boolean, text]` array (falconieri's response
/// regex, peoplefone's indexing). A refusal's text starts with a code and a colon, followed by what it refuses
/// (`mac_not_found:7C2F80ABCDEF`); the codes are those falconieri's `utils.go` and peoplefone's client know.
enum GigasetAnswer: Sendable, Hashable {
    /// `[true, …]`: `ok`, or the MAC itself from `checkDevice`.
    case ok
    /// `url_invalid:`: the URL is refused.
    case urlInvalid
    /// `mac_not_exist:`: the service knows no phone with this MAC and code (a wrong code, or a MAC Gigaset never
    /// made); falconieri and peoplefone read it as an invalid MAC.
    case macNotExist
    /// `mac_already_in_use:`: another registration holds the MAC.
    case macAlreadyInUse
    /// `mac_invalid:`: not a MAC (or a MAC-ID) at all.
    case macInvalid
    /// `mac_not_found:`: the account has no registration of the MAC.
    case macNotFound
    /// `name_invalid:`: the provider name is refused.
    case nameInvalid(String)
    /// Any other answer, kept verbatim.
    case other(String)

    /// Reads a `[boolean, text]` answer; a fault, or any other shape, is kept verbatim or refused as invalid.
    static func read(_ response: XMLRPCResponse) throws(RedirectError) -> GigasetAnswer {
        switch response {
        case .fault(let fault): return .other("fault \(fault.code): \(fault.message)")
        case .value(let value):
            guard case .array(let items) = value, items.count == 2, case .bool(let success) = items[0],
                let text = items[1].stringValue
            else {
                throw .invalidResponse("expected [boolean, string], got \(value.typeName)")
            }
            return Self(text: text, success: success)
        }
    }

    /// Reads `text`, which came with the flag `success`: the flag decides success; the text's code says why not.
    init(text: String, success: Bool) {
        if success {
            self = .ok
            return
        }
        let lower = text.lowercased()
        if lower.hasPrefix("url_invalid:") {
            self = .urlInvalid
        } else if lower.hasPrefix("mac_not_exist:") {
            self = .macNotExist
        } else if lower.hasPrefix("mac_already_in_use:") {
            self = .macAlreadyInUse
        } else if lower.hasPrefix("mac_invalid:") {
            self = .macInvalid
        } else if lower.hasPrefix("mac_not_found:") {
            self = .macNotFound
        } else if lower.hasPrefix("name_invalid:") {
            self = .nameInvalid(text)
        } else {
            self = .other(text)
        }
    }

    /// The answer as provhook's outcomes: refusals by their neutral code, others verbatim (and failed).
    var outcome: RedirectOutcome {
        switch self {
        case .ok: .ok
        case .urlInvalid: .error(.malformedURL)
        case .macNotExist, .macInvalid: .error(.malformedMAC)
        case .macAlreadyInUse: .error(.ownedByOtherUser)
        case .macNotFound: .error(.noSuchMAC)
        case .nameInvalid(let text), .other(let text): .error(.unknown(text))
        }
    }
}
