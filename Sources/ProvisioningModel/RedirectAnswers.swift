/// An `Error:` code of the Snom redirection service.
public enum RedirectErrorCode: Sendable, Hashable, CustomStringConvertible {
    /// `Error:owned_by_other_user`: another account holds this MAC.
    case ownedByOtherUser
    /// `Error:malformed_mac`.
    case malformedMAC
    /// `Error:malformed_url`.
    case malformedURL
    /// `Error:malformed_mac_list`: the list was empty or nil.
    case malformedMACList
    /// `Error:no_such_mac`: the MAC is not registered at all.
    case noSuchMAC
    /// The service registers the phone only with its serial number, and none is known (not a Snom answer: services
    /// such as Yealink YMCS answer it in their own words).
    case serialRequired
    /// The service registers the phone only with the code printed on it (Gigaset's 4 characters), and none is known
    /// (not a Snom answer: provhook's own, made before any call).
    case codeRequired
    /// Any other answer, kept verbatim as the service sent it.
    case unknown(String)

    /// Reads a return text such as `Error:malformed_mac`.
    public init(answer: String) {
        switch answer {
        case "Error:owned_by_other_user": self = .ownedByOtherUser
        case "Error:malformed_mac": self = .malformedMAC
        case "Error:malformed_url": self = .malformedURL
        case "Error:malformed_mac_list": self = .malformedMACList
        case "Error:no_such_mac": self = .noSuchMAC
        case "Error:serial_required": self = .serialRequired
        case "Error:code_required": self = .codeRequired
        default: self = .unknown(answer)
        }
    }

    /// The answer as the service spells it.
    public var answer: String {
        switch self {
        case .ownedByOtherUser: "Error:owned_by_other_user"
        case .malformedMAC: "Error:malformed_mac"
        case .malformedURL: "Error:malformed_url"
        case .malformedMACList: "Error:malformed_mac_list"
        case .noSuchMAC: "Error:no_such_mac"
        case .serialRequired: "Error:serial_required"
        case .codeRequired: "Error:code_required"
        case .unknown(let verbatim): verbatim
        }
    }

    public var description: String { self.answer }
}

/// The answer to a single-MAC call (`registerPhone`, `deregisterPhone`, `checkPhone`).
public enum RedirectOutcome: Sendable, Hashable, CustomStringConvertible {
    /// `[true, "Ok"]`.
    case ok
    /// `[false, "Error:…"]`.
    case error(RedirectErrorCode)

    public var description: String {
        switch self {
        case .ok: "Ok"
        case .error(let code): code.answer
        }
    }
}

/// One MAC that a list call could not apply, with the service's reason.
public struct MACFailure: Sendable, Hashable {
    /// The MAC as the service wrote it (its case is not kept by the service).
    public var mac: String
    /// Why it failed.
    public var code: RedirectErrorCode

    public init(mac: String, code: RedirectErrorCode) { (self.mac, self.code) = (mac, code) }

    /// The MAC parsed, or nil when the service named something that is not a MAC.
    public var macAddress: MACAddress? { MACAddress(self.mac) }
}

/// The answer to `registerPhoneList` or `deregisterPhoneList`.
public enum ListOutcome: Sendable, Hashable {
    /// Every MAC was applied.
    case ok
    /// The whole call was refused, for example `Error:malformed_mac_list`.
    case error(RedirectErrorCode)
    /// Some MACs failed; every MAC not listed was applied.
    case partial([MACFailure])

    /// A list call made as one call per MAC, for services without a batch call: `call` is applied to each MAC in
    /// turn; refusals become a partial outcome, errors stop the batch.
    public static func applyingEach(
        _ macs: [MACAddress], _ call: (MACAddress) async throws(RedirectError) -> RedirectOutcome
    ) async throws(RedirectError) -> ListOutcome {
        guard !macs.isEmpty else { return .error(.malformedMACList) }
        var failures: [MACFailure] = []
        for mac in macs {
            if case .error(let code) = try await call(mac) {
                failures.append(MACFailure(mac: mac.canonical, code: code))
            }
        }
        return failures.isEmpty ? .ok : .partial(failures)
    }

    /// The failure for one MAC, or nil when that MAC was applied (or the whole call failed).
    public func failure(for mac: MACAddress) -> RedirectErrorCode? {
        guard case .partial(let failures) = self else { return nil }
        return failures.first { $0.macAddress == mac }?.code
    }
}

/// The answer to `getPhoneRedirection`.
public enum PhoneRedirection: Sendable, Hashable {
    /// The MAC is redirected to `url`; `company` is the account holding it.
    case redirected(company: String, url: String)
    /// The account holds the MAC, but the service does not say where it points (Yealink's RPS answers
    /// `checkDevice` with a state only): reconcile cannot see a URL drift there.
    case held
    /// `[false, "Error:…"]`.
    case error(RedirectErrorCode)
}
