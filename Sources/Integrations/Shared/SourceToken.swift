import Foundation
import HTTPTypes
import WebhookSignature

/// How a platform that cannot sign presents its source's token: as the query parameter `token` (a URL the PBX
/// admin pastes), as `Authorization: Bearer <token>`, or as the password of basic auth (`https://x:<token>@…`).
/// Compared in constant time; never logged or journaled.
enum SourceToken {
    /// Whether the request carries `token` in one of the three places.
    static func verify(_ request: InboundRequest, token: String) -> Bool {
        let expected = Array(token.utf8)
        var presented: [[UInt8]] = []
        if let query = FormBody.parse(request.query), let given = query["token"] as? String {
            presented.append(Array(given.utf8))
        }
        let authorization = request.headers[.authorization]
        if let authorization, authorization.utf8.count > 6,
            String(decoding: authorization.utf8.prefix(6), as: UTF8.self).lowercased() == "basic ",
            let decoded = Data(base64Encoded: String(decoding: authorization.utf8.dropFirst(6), as: UTF8.self)),
            let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
        {
            presented.append(Array(decoded[decoded.index(after: colon)...]))
        }
        // Every place is checked, so the time does not tell which one held a near miss; the bearer form is the
        // native contract's own check.
        var matched = WebhookAuthenticator().verifyBearer(authorization, secret: token)
        for candidate in presented where constantTimeEquals(candidate, expected) { matched = true }
        return matched
    }
}
