import Crypto
import Foundation
import WebhookSignature

/// The signature of a Kazoo 5 v2 hook with `security_settings.sha256_key`: the body's `hmac` is
/// Base64(HMAC-SHA256(key, the `timestamp` as decimal text followed by the JSON of `data`)) (kazoo-webhooks
/// `webhooks_util:add_hmac/2`). Kazoo reads its clock again for the signature, so the signed timestamp may be the
/// body's ± 1 s.
///
/// It covers `timestamp` and `data` and nothing else: `action`, `name` and any other top-level member are not
/// signed, so `KazooSource` takes what decides an event from `data` and holds the rest against it.
///
/// The JSON of `data` is taken as sent, byte for byte, from the body: Kazoo encodes the body with the same encoder
/// as it signs `data` with, and re-encoding a parsed object could not give the same bytes. The bytes are those of a
/// member found by `StrictJSON`, which also says whether the body names `data` (or anything) twice.
enum KazooHMAC {
    /// Kazoo's `timestamp` counts seconds from year 0 of the Gregorian calendar (`kz_time:now_s/0`), not from 1970.
    static let gregorianOffset: Int64 = 62_167_219_200

    /// What a body's signature says.
    enum Check: Equatable, Sendable {
        /// The body has no `hmac`.
        case absent
        /// `key` made the `hmac`, over this timestamp (Gregorian seconds) and the `data` member at `data`.
        case valid(signedAt: Int64, data: Range<Int>)
        /// The body has an `hmac` that `key` did not make, or one that cannot be checked (no single `timestamp`,
        /// no `data`).
        case invalid
    }

    /// At most this many `data` members are tried: a body with more is no body Kazoo made, and trying each costs an
    /// HMAC over up to 64 KiB.
    static let maxDataMembers = 4

    /// Checks the `hmac` of a scanned body against `key`. A body that names `data` twice (refused anyway) is
    /// checked against each, so that a signed body with a `data` added is known as a signed body altered, not as an
    /// unauthenticated one; `hmac` and `timestamp` must each be given once.
    static func check(_ body: [UInt8], scan: StrictJSON.Scan, key: String) -> Check {
        let hmacs = scan.members(named: "hmac")
        guard !hmacs.isEmpty else { return .absent }
        let timestamps = scan.members(named: "timestamp")
        let datas = scan.members(named: "data")
        guard hmacs.count == 1, timestamps.count == 1, (1...Self.maxDataMembers).contains(datas.count),
            let given = StrictJSON.string(body[hmacs[0].value]), let expected = Data(base64Encoded: given),
            let timestamp = Self.timestamp(body[timestamps[0].value]), timestamp > 1, timestamp < Int64.max - 1
        else { return .invalid }
        let symmetricKey = SymmetricKey(data: Data(key.utf8))
        var matched: Check = .invalid
        // Every candidate is computed, so the time does not tell which one came close.
        for data in datas {
            for signed in [timestamp, timestamp - 1, timestamp + 1] {
                var message = Array(String(signed).utf8)
                message.append(contentsOf: body[data.value])
                let code = Array(HMAC<SHA256>.authenticationCode(for: message, using: symmetricKey))
                if constantTimeEquals(code, Array(expected)), matched == .invalid {
                    matched = .valid(signedAt: signed, data: data.value)
                }
            }
        }
        return matched
    }

    /// The timestamp's seconds: a JSON integer, as `add_v2_generic/1` sets it, or the same digits as a string, as
    /// the published documentation shows it (the hmac covers the digits either way).
    static func timestamp(_ literal: ArraySlice<UInt8>) -> Int64? {
        if let seconds = StrictJSON.integer(literal) { return seconds }
        guard let text = StrictJSON.string(literal), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return nil
        }
        return StrictJSON.integer(Array(text.utf8)[...])
    }
}
