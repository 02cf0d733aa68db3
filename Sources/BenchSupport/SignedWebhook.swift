import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import WebhookSignature

/// Builds webhook requests the way a PBX sends them: Standard Webhooks headers, signed with the tenant's secret.
public enum SignedWebhook {
    /// A signed POST of `body` to `/v1/tenants/TENANT/events`, stamped `timestamp`; `forge` replaces the signature
    /// with random bytes.
    public static func request(
        baseURL: String, tenant: String, id: String, body: [UInt8], secret: String, timestamp date: Date = Date(),
        forge: Bool = false
    ) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "\(baseURL)/v1/tenants/\(tenant)/events")
        request.method = .POST
        let timestamp = String(Int(date.timeIntervalSince1970))
        var signature = WebhookAuthenticator.sign(id: id, timestamp: timestamp, body: body, secret: secret) ?? ""
        if forge { signature = "v1," + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "webhook-id", value: id)
        request.headers.add(name: "webhook-timestamp", value: timestamp)
        request.headers.add(name: "webhook-signature", value: signature)
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    /// Reads a secret from a file, without its trailing newline.
    public static func secret(fromFile path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
