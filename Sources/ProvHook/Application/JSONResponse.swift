import Foundation
import Hummingbird
import NIOCore

/// JSON answers: `{"status":…}` bodies and the contract's `{"error":{"code":…,"message":…}}`.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var buffer = ByteBuffer()
        buffer.writeBytes(data)
        buffer.writeString("\n")
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    static func error(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        Self.make(status, ["error": ["code": code, "message": message]])
    }
}
