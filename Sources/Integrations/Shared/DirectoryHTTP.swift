import AsyncHTTPClient
import Deadlines
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import ProvHookCore

/// The HTTP exchanges of the directory clients: JSON in and out, one deadline over the whole answer, bodies of at
/// most 1 MiB, and every failure turned into a `DirectoryError` that names no secret.
struct DirectoryHTTP: Sendable {
    let client: HTTPClient
    let deadline: Duration
    static let maxResponseBytes = 1 << 20

    /// A client for one PBX, whose whole exchange (connecting included) is bounded by the two timeouts.
    init(_ configuration: DirectoryConfiguration) throws(DirectoryError) {
        self.client = try Self.makeClient(configuration)
        self.deadline = configuration.connectTimeout + configuration.readTimeout
    }

    func shutdown() async {
        try? await self.client.shutdown()
    }

    /// A client for one PBX: no redirects, TLS verified against the system roots plus the optional CA file.
    static func makeClient(_ configuration: DirectoryConfiguration) throws(DirectoryError) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let caFile = configuration.caFile {
            guard let certificates = try? NIOSSLCertificate.fromPEMFile(caFile), !certificates.isEmpty else {
                throw .unavailable("cannot read a certificate from the API CA file \(caFile)")
            }
            tls.additionalTrustRoots = [.certificates(certificates)]
        }
        var httpConfiguration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .init(configuration.connectTimeout), read: .init(configuration.readTimeout)),
            connectionPool: .init(idleTimeout: .seconds(60)))
        httpConfiguration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
    }

    /// Sends `request`; returns the status and the body parsed as JSON (nil for an empty or non-JSON body).
    func exchange(
        _ request: HTTPClientRequest, what: String
    ) async throws(DirectoryError) -> (status: UInt, json: Any?) {
        let (client, deadline) = (self.client, self.deadline)
        do {
            let (status, body) = try await withDeadline(deadline, what) {
                let response = try await client.execute(request, timeout: .init(deadline))
                return (response.status.code, try await response.body.collect(upTo: Self.maxResponseBytes))
            }
            let json = try? JSONSerialization.jsonObject(
                with: Data(body.readableBytesView), options: [.fragmentsAllowed])
            return (status, json)
        } catch is DeadlineExceeded {
            throw .unavailable("\(what): no answer within \(deadline)")
        } catch is NIOTooManyBytesError {
            throw .invalidAnswer("\(what): the answer exceeds 1 MiB")
        } catch let error as HTTPClientError {
            throw .unavailable("\(what): \(error.shortDescription)")
        } catch {
            throw .unavailable("\(what): \(String(describing: error).prefix(200))")
        }
    }

    /// Sends the request that `make` builds with a credential from `login`; when the PBX answers 401, the
    /// credential has expired or been revoked, and the request is sent once more with a new one (`login(true)`).
    /// Returns the last answer.
    func sendAuthorized(
        what: String, isolation: isolated (any Actor)? = #isolation,
        login: (_ renew: Bool) async throws(DirectoryError) -> String,
        _ make: (_ credential: String) throws(DirectoryError) -> HTTPClientRequest
    ) async throws(DirectoryError) -> (status: UInt, json: Any?) {
        var answer = try await self.exchange(try make(try await login(false)), what: what)
        if answer.status == 401 {
            answer = try await self.exchange(try make(try await login(true)), what: what)
        }
        return answer
    }

    /// The error for an answer other than 200: a 401 or 403 refused the credentials (`refused`, with the status), a
    /// 404 has no such thing (`missing`, where the call names one), anything else failed (`failed`).
    static func failure(_ status: UInt, refused: String, missing: String?, failed: String) -> DirectoryError {
        switch status {
        case 401, 403: .unauthorized("\(refused) (\(status))")
        case 404 where missing != nil: .notFound(missing ?? "")
        default: .unavailable(failed)
        }
    }

    /// A JSON request with `body`, or none.
    static func request(_ url: String, method: HTTPMethod, json body: [String: Any]? = nil) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let body, let data = try? JSONSerialization.data(withJSONObject: body) {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: data))
        }
        return request
    }

    /// `id` as one path segment: only characters that need no escaping, so an id can never reach another resource.
    static func pathSegment(_ id: String) -> String? {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")
        guard !id.isEmpty, id != ".", id != "..", id.unicodeScalars.allSatisfy(allowed.contains) else { return nil }
        return id
    }

    /// A device id as one path segment, or `notFound` naming the platform's id (`"the Kazoo device id"`) and what
    /// such an id is (`"a crossbar id"`): an id no API could hold is never sent.
    static func deviceSegment(_ id: String, named name: String, expected: String) throws(DirectoryError) -> String {
        guard let segment = Self.pathSegment(id) else {
            throw .notFound("\(name) \(String(id.prefix(64)).debugDescription) is not \(expected)")
        }
        return segment
    }
}

/// A model name from its parts, joined with spaces, at most 64 characters; nil when empty.
func modelName(_ parts: [Any?]) -> String? {
    let texts = parts.compactMap { value -> String? in
        if let text = value as? String, !text.isEmpty { return text }
        if let number = value as? NSNumber { return number.stringValue }
        return nil
    }
    let model = String(texts.joined(separator: " ").unicodeScalars.prefix(64))
    return model.isEmpty ? nil : model
}

/// A brand as a PBX gives it, passed on as text: a non-empty string, at most 64 characters (as a model is cut); nil
/// otherwise.
func brandName(_ value: Any?) -> String? {
    guard let text = value as? String, !text.isEmpty else { return nil }
    return String(text.unicodeScalars.prefix(64))
}
