import Foundation
import Testing
import WebhookSignature

@Suite("Standard Webhooks authentication")
struct WebhookAuthenticatorTests {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    let timestamp = "1614265330"
    let body = Array(#"{"test": 2432232314}"#.utf8)
    let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    var now: Date { Date(timeIntervalSince1970: 1_614_265_330) }

    @Test("the specification's published vector")
    func publishedVector() {
        #expect(
            WebhookAuthenticator.sign(id: self.id, timestamp: self.timestamp, body: self.body, secret: self.secret)
                == self.expected)
        let verdict = WebhookAuthenticator().verify(
            id: self.id, timestamp: self.timestamp, signatures: self.expected, body: self.body, secret: self.secret,
            now: self.now)
        #expect((try? verdict.get()) != nil)
    }

    @Test("several signatures are accepted when one matches; none matching is refused")
    func severalSignatures() {
        func verdict(
            _ signatures: String, id: String? = nil, body: [UInt8]? = nil
        ) -> Result<Void, WebhookAuthenticationFailure> {
            WebhookAuthenticator().verify(
                id: id ?? self.id, timestamp: self.timestamp, signatures: signatures, body: body ?? self.body,
                secret: self.secret, now: self.now)
        }
        #expect((try? verdict("v1,Zm9vYmFy v2,abc \(self.expected)").get()) != nil)
        // A space after a prepending mark (U+070F) still separates signatures (found by fuzzing).
        #expect((try? verdict("v1,Zm9vYmFy\u{070F} \(self.expected)").get()) != nil)
        #expect(verdict("v1,Zm9vYmFy") == .failure(.badSignature))
        #expect(verdict(self.expected, body: self.body + [0x20]) == .failure(.badSignature), "a tampered body")
        #expect(verdict(self.expected, id: "msg_other") == .failure(.badSignature), "another webhook-id")
    }

    @Test(
        "timestamps must be within five minutes", arguments: [(-301, false), (-299, true), (299, true), (301, false)])
    func tolerance(offset: Int, accepted: Bool) {
        let verdict = WebhookAuthenticator().verify(
            id: self.id, timestamp: self.timestamp, signatures: self.expected, body: self.body, secret: self.secret,
            now: self.now + TimeInterval(offset))
        #expect(((try? verdict.get()) != nil) == accepted)
        if !accepted { #expect(verdict == .failure(.staleTimestamp)) }
    }

    @Test("missing and malformed headers")
    func headers() {
        let authenticator = WebhookAuthenticator()
        #expect(
            authenticator.verify(
                id: nil, timestamp: self.timestamp, signatures: self.expected, body: self.body, secret: self.secret)
                == .failure(.missingHeaders))
        #expect(
            authenticator.verify(
                id: self.id, timestamp: "soon", signatures: self.expected, body: self.body, secret: self.secret)
                == .failure(.malformedTimestamp))
        #expect(
            authenticator.verify(
                id: self.id, timestamp: "99999999999999999999", signatures: self.expected, body: self.body,
                secret: self.secret) == .failure(.malformedTimestamp))
    }

    @Test("bearer tokens compare exactly")
    func bearer() {
        let authenticator = WebhookAuthenticator()
        #expect(authenticator.verifyBearer("Bearer \(self.secret)", secret: self.secret))
        #expect(authenticator.verifyBearer("bearer \(self.secret)", secret: self.secret))
        #expect(!authenticator.verifyBearer("Bearer \(self.secret)x", secret: self.secret))
        #expect(!authenticator.verifyBearer("Basic \(self.secret)", secret: self.secret))
        #expect(!authenticator.verifyBearer(nil, secret: self.secret))
        #expect(authenticator.verifyBearer("BEARER \(self.secret)", secret: self.secret))
        #expect(!authenticator.verifyBearer("Bearer", secret: self.secret))
        #expect(!authenticator.verifyBearer("Bearer\t\(self.secret)", secret: self.secret))
        // A combining mark after the space joins it into one Character; the token still starts after byte 7.
        #expect(authenticator.verifyBearer("Bearer \u{301}token", secret: "\u{301}token"))
        #expect(!authenticator.verifyBearer("Bearer \u{301}token", secret: "token"))
    }

    @Test("constant-time comparison gives the right answers")
    func constantTime() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(!constantTimeEquals([], [0]))
        // Lengths 256 (and 512) apart, the longer one padded with zero bytes: a difference folded into one byte
        // would call them equal.
        #expect(!constantTimeEquals([], [UInt8](repeating: 0, count: 256)))
        #expect(!constantTimeEquals([7], [7] + [UInt8](repeating: 0, count: 512)))
        // A bearer secret followed by 256 NUL bytes is not the secret.
        let padded = String(decoding: Array(self.secret.utf8) + [UInt8](repeating: 0, count: 256), as: UTF8.self)
        #expect(!WebhookAuthenticator().verifyBearer("Bearer \(padded)", secret: self.secret))
    }
}

/// Two verdicts are the same answer: `Result<Void, _>` is not `Equatable` (`Void` is not), and a conformance of the
/// standard library's type added here would clash with the one it has for `Equatable` successes.
private func == (
    lhs: Result<Void, WebhookAuthenticationFailure>, rhs: Result<Void, WebhookAuthenticationFailure>
) -> Bool {
    switch (lhs, rhs) {
    case (.success, .success): true
    case (.failure(let left), .failure(let right)): left == right
    default: false
    }
}
