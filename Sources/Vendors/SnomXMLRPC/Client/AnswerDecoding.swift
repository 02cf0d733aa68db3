import ProvisioningModel
import XMLRPC

/// Reads the service's answers into typed outcomes, refusing any shape the API reference does not describe.
enum AnswerDecoding {
    /// `[true, "Ok"]` or `[false, "Error:…"]`.
    static func outcome(_ value: XMLRPCValue) throws(RedirectError) -> RedirectOutcome {
        guard case .array(let items) = value, items.count == 2, case .bool(let success) = items[0],
            case .string(let text) = items[1]
        else { throw .invalidResponse("expected [boolean, string], got \(Self.shape(value))") }
        if success {
            guard text == "Ok" else { throw .invalidResponse("success flag with text \(text.debugDescription)") }
            return .ok
        }
        return .error(RedirectErrorCode(answer: text))
    }

    /// `[true, "Ok"]`, `[false, "Error:…"]`, or per-MAC failures as `{mac: "Error:…"}`, bare or after a flag.
    static func listOutcome(_ value: XMLRPCValue) throws(RedirectError) -> ListOutcome {
        switch value {
        case .struct(let members):
            return try Self.partial(members)
        case .array(let items) where items.count == 2:
            if case .struct(let members) = items[1], case .bool = items[0] {
                return try Self.partial(members)
            }
            switch try Self.outcome(value) {
            case .ok: return .ok
            case .error(let code): return .error(code)
            }
        default:
            throw .invalidResponse("expected [boolean, string] or a struct of failures, got \(Self.shape(value))")
        }
    }

    private static func partial(_ members: [String: XMLRPCValue]) throws(RedirectError) -> ListOutcome {
        guard !members.isEmpty else { return .ok }
        var failures: [MACFailure] = []
        for (mac, answer) in members.sorted(by: { $0.key < $1.key }) {
            guard case .string(let text) = answer else {
                throw .invalidResponse("failure for \(mac.debugDescription) is a \(answer.typeName), not a string")
            }
            failures.append(MACFailure(mac: mac, code: RedirectErrorCode(answer: text)))
        }
        return .partial(failures)
    }

    /// `[company, url]`, `[true, company, url]`, or `[false, "Error:…"]`.
    static func redirection(_ value: XMLRPCValue) throws(RedirectError) -> PhoneRedirection {
        guard case .array(let items) = value else {
            throw .invalidResponse("expected an array, got \(Self.shape(value))")
        }
        switch (items.count, items.first) {
        case (2, .string(let company)?):
            guard case .string(let url) = items[1] else { break }
            return .redirected(company: company, url: url)
        case (3, .bool(true)?):
            guard case .string(let company) = items[1], case .string(let url) = items[2] else { break }
            return .redirected(company: company, url: url)
        case (2, .bool(false)?):
            guard case .string(let text) = items[1] else { break }
            return .error(RedirectErrorCode(answer: text))
        default:
            break
        }
        throw .invalidResponse(
            "expected [company, url], [true, company, url] or [false, error], got \(Self.shape(value))")
    }

    /// An array of MACs, in whatever case the service wrote them.
    static func macList(_ value: XMLRPCValue) throws(RedirectError) -> [MACAddress] {
        guard case .array(let items) = value else {
            throw .invalidResponse("expected an array of MACs, got \(Self.shape(value))")
        }
        var macs: [MACAddress] = []
        macs.reserveCapacity(items.count)
        for item in items {
            guard case .string(let text) = item else {
                throw .invalidResponse("expected MAC strings, got a \(item.typeName)")
            }
            do {
                macs.append(try MACAddress(parsing: text))
            } catch {
                throw .invalidResponse("listed \(String(text.prefix(32)).debugDescription) is not a MAC: \(error)")
            }
        }
        return macs
    }

    /// A short picture of a value's shape, for error messages: `[boolean, string]`, `struct`, …
    static func shape(_ value: XMLRPCValue) -> String {
        guard case .array(let items) = value else { return value.typeName }
        return "[" + items.prefix(4).map(\.typeName).joined(separator: ", ") + (items.count > 4 ? ", …" : "") + "]"
    }
}
