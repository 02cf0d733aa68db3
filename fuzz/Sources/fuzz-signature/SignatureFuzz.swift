// libFuzzer target: the Standard Webhooks verifier. The input is split at NUL bytes into the webhook-id,
// webhook-timestamp, webhook-signature (or an Authorization header), body and secret; a missing secret is a valid
// one, so that most inputs reach the HMAC comparison. Every input must be answered, never crash, and obey:
//   - accepted only if one `v1,` candidate decodes to the HMAC of "id.timestamp.body";
//   - the right signature appended to any header is accepted, and the right signature with one bit flipped is not;
//   - a bearer token is accepted only if its bytes after "Bearer " are the secret's bytes, and always then;
//   - `constantTimeEquals` agrees with `==`, and a secret's key bytes survive a round trip.
// Built by fuzz/run.sh with `swift build --sanitize=fuzzer --sanitize=address`, because the verifier needs swift-crypto.
import Foundation
import WebhookSignature

private let validSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSignature(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let fields = bytes.split(separator: 0, maxSplits: 4, omittingEmptySubsequences: false).map { Array($0) }
    func text(_ index: Int) -> String? { index < fields.count ? String(decoding: fields[index], as: UTF8.self) : nil }
    let id = text(0)
    let timestamp = text(1)
    let header = text(2)
    let body = fields.count > 3 ? fields[3] : []
    let secret = text(4) ?? validSecret
    // "Now" is the sent timestamp when it parses, so that the signature comparison is reached.
    let now = timestamp.flatMap { Int64($0) }.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
    let authenticator = WebhookAuthenticator()

    let verdict = authenticator.verify(
        id: id, timestamp: timestamp, signatures: header, body: body, secret: secret, now: now)
    let key = WebhookSecret.keyBytes(secret)
    if case .success = verdict, let id, let timestamp, let header, let key {
        let expected = WebhookAuthenticator.signature(id: id, timestamp: timestamp, body: body, key: key)
        // The header is space-separated tokens of bytes (ASCII in practice), so it is split on the byte 0x20.
        precondition(
            Array(header.utf8).split(separator: 0x20).contains { token in
                token.starts(with: Array("v1,".utf8))
                    && Data(base64Encoded: Data(token.dropFirst(3))).map(Array.init) == expected
            }, "accepted without a matching signature")
    } else if case .success = verdict {
        preconditionFailure("accepted without an id, a timestamp, a signature or a valid secret")
    }

    if let id, !id.isEmpty, let timestamp, timestamp.utf8.count <= 12, Int64(timestamp) != nil, let key,
        let right = WebhookAuthenticator.sign(id: id, timestamp: timestamp, body: body, secret: secret)
    {
        let rotated = (header ?? "") + " " + right
        let accepted = authenticator.verify(
            id: id, timestamp: timestamp, signatures: rotated, body: body, secret: secret, now: now)
        precondition((try? accepted.get()) != nil, "the right signature was refused")
        var flipped = WebhookAuthenticator.signature(id: id, timestamp: timestamp, body: body, key: key)
        let position = bytes.count % flipped.count
        flipped[position] ^= 1 << UInt8(bytes.count % 8)
        let forged = "v1," + Data(flipped).base64EncodedString()
        let refused = authenticator.verify(
            id: id, timestamp: timestamp, signatures: forged, body: body, secret: secret, now: now)
        precondition(refused.failureReason == .badSignature, "a signature with one bit flipped was accepted")
    }

    if let header {
        let given = Array(header.utf8)
        if authenticator.verifyBearer(header, secret: secret) {
            precondition(
                given.count > 7 && Array(given.dropFirst(7)) == Array(secret.utf8),
                "a bearer token was accepted for another secret")
        }
        if !secret.isEmpty {
            precondition(
                authenticator.verifyBearer("Bearer " + secret, secret: secret), "the right bearer token was refused")
        }
    }

    if fields.count > 1 {
        precondition(
            constantTimeEquals(fields[0], fields[1]) == (fields[0] == fields[1]), "constantTimeEquals disagrees with =="
        )
    }
    if let key {
        precondition(secret.hasPrefix("whsec_") && key.count >= 16, "a key from something that is not a whsec_ secret")
        precondition(
            WebhookSecret.keyBytes("whsec_" + Data(key).base64EncodedString()) == key,
            "a key did not survive a round trip")
    }
    return 0
}

extension Result where Failure == WebhookAuthenticationFailure {
    fileprivate var failureReason: WebhookAuthenticationFailure? {
        if case .failure(let reason) = self { reason } else { nil }
    }
}
