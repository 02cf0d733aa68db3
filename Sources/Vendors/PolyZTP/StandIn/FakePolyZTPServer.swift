import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import StandInSupport

/// A strict stand-in of Poly's Zero Touch Provisioning REST API (`/v1`), served over HTTP or HTTPS.
///
/// It takes what the clients that work against the real service send (fspbx's `PolycomCloudProvider`), and nothing
/// more lenient: the `API-KEY` header exactly, JSON bodies as `application/json`, a MAC as 12 lowercase hex digits,
/// `POST /devices` with `id` and `profile` only, profiles with fspbx's fields (a name of 1 to 100 characters, a
/// server address of at most 255), listings by `limit` (1 to 100) and an opaque `cursor`. Where the reference does not
/// say, it takes the stricter reading: a device this organisation holds already is refused by `POST /devices` rather
/// than re-pointed, and a device of another organisation is "not found" to `GET` and `DELETE`. Errors are
/// `{"error": …}`, which fspbx reads first; the statuses are its choice (the reference records none), except that
/// the words "claimed by another organization" are the service's own.
public struct FakePolyZTPServer: RespondingStandInServer {
    /// The API root path.
    public static let basePath = "/v1"
    /// The largest request body taken.
    public static let maxRequestBytes = 64 << 10
    /// The largest `limit` a listing takes.
    public static let maxLimit = 100
    /// The `limit` of a listing that gives none.
    public static let defaultLimit = 50
    /// The longest profile name (fspbx's form) and server address (idem).
    public static let maxNameLength = 100
    public static let maxAddressLength = 255
    /// The service's refusal of a device another organisation holds (fspbx#554: the service's exact words).
    public static let claimedText = "Device claimed by another organization"

    static let apiKeyField = HTTPField.Name("API-KEY")!

    public let state: FakePolyZTPState

    public init(state: FakePolyZTPState) { self.state = state }

    /// Answers one HTTP request.
    public func respond(to request: Request, context: BasicRequestContext) async -> Response {
        var call = FakePolyZTPState.Call(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
            organization: nil, hadKey: request.headers[Self.apiKeyField] != nil, status: 0)
        let response = await self.handle(request, call: &call)
        call.status = Int(response.status.code)
        await self.state.record(call)
        return response
    }

    private func handle(_ request: Request, call: inout FakePolyZTPState.Call) async -> Response {
        if let status = await self.state.takeFailure() {
            return Self.error(HTTPResponse.Status(code: status), "injected failure")
        }
        // The key is checked before anything else, as a gateway in front of the API would.
        guard let key = request.headers[Self.apiKeyField] else { return Self.error(.unauthorized, "Missing API key") }
        guard let organization = await self.state.organization(forKey: key) else {
            return Self.error(.unauthorized, "Invalid API key")
        }
        call.organization = organization
        let path = request.uri.path
        guard path.hasPrefix(Self.basePath + "/") else { return Self.error(.notFound, "Not found") }
        let segments = path.dropFirst(Self.basePath.count + 1).split(separator: "/", omittingEmptySubsequences: false)
            .map(String.init)

        let body: [UInt8]
        do {
            body = Array(try await request.body.collect(upTo: Self.maxRequestBytes).readableBytesView)
        } catch {
            return Self.error(.contentTooLarge, "Request body too large")
        }
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = query[String(name)] ?? String(value) }
        let incoming = Incoming(
            organization: organization, method: request.method, query: query,
            contentType: request.headers[.contentType], body: body)

        switch (segments.count, segments.first) {
        case (1, "devices"):
            switch request.method {
            case .get: return await self.listDevices(incoming)
            case .post: return await self.createDevice(incoming)
            default: return Self.methodNotAllowed("GET, POST")
            }
        case (2, "devices") where !segments[1].isEmpty:
            switch request.method {
            case .get, .delete: return await self.device(segments[1], incoming)
            default: return Self.methodNotAllowed("GET, DELETE")
            }
        case (1, "profiles"):
            switch request.method {
            case .get: return await self.listProfiles(incoming)
            case .post: return await self.writeProfile(nil, incoming)
            default: return Self.methodNotAllowed("GET, POST")
            }
        case (2, "profiles") where !segments[1].isEmpty:
            switch request.method {
            case .get, .delete: return await self.profile(segments[1], incoming)
            case .put: return await self.writeProfile(segments[1], incoming)
            default: return Self.methodNotAllowed("GET, PUT, DELETE")
            }
        default:
            return Self.error(.notFound, "Not found")
        }
    }

    /// A request past the key check, as the resource handlers see it.
    struct Incoming: Sendable {
        var organization: String
        var method: HTTPRequest.Method
        var query: [String: String]
        var contentType: String?
        var body: [UInt8]
    }

    // MARK: - Devices

    /// `GET /devices?limit=&cursor=`: the organisation's devices by MAC, `next` naming the last one of a full page.
    private func listDevices(_ incoming: Incoming) async -> Response {
        let devices = await self.state.devices.filter { $0.value.organization == incoming.organization }
        let items = devices.keys.sorted().map { ($0, ["id": $0, "profile": devices[$0]!.profile] as [String: Any]) }
        return Self.page(items, incoming)
    }

    /// `POST /devices {"id", "profile"}`.
    private func createDevice(_ incoming: Incoming) async -> Response {
        let object: [String: Any]
        switch Self.jsonObject(incoming) {
        case .success(let parsed): object = parsed
        case .failure(let refusal): return refusal.response
        }
        if let unknown = object.keys.sorted().first(where: { $0 != "id" && $0 != "profile" }) {
            return Self.error(.badRequest, "Unknown field: \(unknown)")
        }
        guard let id = object["id"] as? String else { return Self.error(.badRequest, "id is required") }
        guard let mac = Self.validMAC(id) else { return Self.error(.badRequest, "Invalid device id") }
        guard let profile = object["profile"] as? String, !profile.isEmpty else {
            return Self.error(.badRequest, "profile is required")
        }
        if let held = await self.state.device(mac) {
            // The stricter reading of what the reference leaves open: a device of ours is not re-pointed by POST.
            return held.organization == incoming.organization
                ? Self.error(.conflict, "Device already exists") : Self.error(.conflict, Self.claimedText)
        }
        guard await self.state.profiles[profile]?.organization == incoming.organization else {
            return Self.error(.badRequest, "Profile not found")
        }
        await self.state.putDevice(mac, .init(organization: incoming.organization, profile: profile))
        return Self.json(.created, ["id": mac, "profile": profile])
    }

    /// `GET` or `DELETE /devices/{id}`; a device of another organisation is not found.
    private func device(_ id: String, _ incoming: Incoming) async -> Response {
        guard let mac = Self.validMAC(id) else { return Self.error(.badRequest, "Invalid device id") }
        guard let device = await self.state.device(mac), device.organization == incoming.organization else {
            return Self.error(.notFound, "Device not found")
        }
        if incoming.method == .delete {
            await self.state.removeDevice(mac)
            return Self.json(.ok, ["message": "Device deleted"])
        }
        return Self.json(.ok, ["id": mac, "profile": device.profile])
    }

    // MARK: - Profiles

    /// `GET /profiles`: every profile of the organisation, paged by `limit` and `cursor` when given.
    private func listProfiles(_ incoming: Incoming) async -> Response {
        let profiles = await self.state.profiles(of: incoming.organization)
        let items = profiles.keys.sorted().map { ($0, Self.record($0, profiles[$0]!)) }
        return Self.page(items, incoming, limitRequired: false)
    }

    /// `GET` or `DELETE /profiles/{id}`.
    private func profile(_ id: String, _ incoming: Incoming) async -> Response {
        guard let profile = await self.state.profiles[id], profile.organization == incoming.organization else {
            return Self.error(.notFound, "Profile not found")
        }
        if incoming.method == .delete {
            await self.state.setProfile(id, nil)
            return Self.json(.ok, ["message": "Profile deleted"])
        }
        return Self.json(.ok, Self.record(id, profile))
    }

    /// `POST /profiles` (`id` nil) or `PUT /profiles/{id}`: the whole profile, checked against fspbx's fields.
    private func writeProfile(_ id: String?, _ incoming: Incoming) async -> Response {
        if let id, await self.state.profiles[id]?.organization != incoming.organization {
            return Self.error(.notFound, "Profile not found")
        }
        let object: [String: Any]
        switch Self.jsonObject(incoming) {
        case .success(let parsed): object = parsed
        case .failure(let refusal): return refusal.response
        }
        let profile: FakePolyZTPState.Profile
        switch Self.readProfile(object, organization: incoming.organization) {
        case .success(let read): profile = read
        case .failure(let refusal): return refusal.response
        }
        if let id {
            await self.state.setProfile(id, profile)
            return Self.json(.ok, Self.record(id, profile))
        }
        let created = await self.state.addProfile(profile)
        return Self.json(.created, Self.record(created, profile))
    }

    // MARK: - Shared

    /// A refused request, with its answer.
    struct Refusal: Error {
        var status: HTTPResponse.Status
        var message: String

        init(_ status: HTTPResponse.Status, _ message: String) { (self.status, self.message) = (status, message) }

        var response: Response { FakePolyZTPServer.error(self.status, self.message) }
    }

    /// A body that must be a JSON object sent as `application/json` (parameters such as `charset` allowed).
    private static func jsonObject(_ incoming: Incoming) -> Result<[String: Any], Refusal> {
        let mediaType = incoming.contentType?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard mediaType == "application/json" else {
            return .failure(Refusal(.unsupportedMediaType, "Content-Type must be application/json"))
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(incoming.body)) else {
            return .failure(Refusal(.badRequest, "Invalid JSON"))
        }
        guard let object = json as? [String: Any] else {
            return .failure(Refusal(.badRequest, "Expected a JSON object"))
        }
        return .success(object)
    }

    /// One page of `items` (sorted by key) after `cursor`, `limit` of them (1 to `maxLimit`; `defaultLimit` when
    /// absent), with `next` when more follow. `cursor` and `limit` are the only parameters taken.
    private static func page(
        _ items: [(key: String, value: [String: Any])], _ incoming: Incoming, limitRequired: Bool = true
    ) -> Response {
        if let unknown = incoming.query.keys.sorted().first(where: { $0 != "limit" && $0 != "cursor" }) {
            return Self.error(.badRequest, "Unknown parameter: \(unknown)")
        }
        var limit = limitRequired ? Self.defaultLimit : max(items.count, 1)
        if let text = incoming.query["limit"] {
            guard let value = Int(text), (1...Self.maxLimit).contains(value) else {
                return Self.error(.badRequest, "limit must be between 1 and \(Self.maxLimit)")
            }
            limit = value
        }
        var rest = items[...]
        if let cursor = incoming.query["cursor"], !cursor.isEmpty {
            guard let after = Self.decodeCursor(cursor) else { return Self.error(.badRequest, "Invalid cursor") }
            rest = items.drop { $0.key <= after }
        }
        let slice = Array(rest.prefix(limit))
        var answer: [String: Any] = ["results": slice.map(\.value)]
        if rest.count > limit, let last = slice.last { answer["next"] = Self.encodeCursor(last.key) }
        return Self.json(.ok, answer)
    }

    /// An opaque cursor: the last key of the page, base64url.
    static func encodeCursor(_ key: String) -> String {
        Data("after:\(key)".utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decodeCursor(_ cursor: String) -> String? {
        var text = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8),
            decoded.hasPrefix("after:")
        else { return nil }
        return String(decoded.dropFirst(6))
    }

    /// A MAC as fspbx sends it: 12 lowercase hex digits, no separators.
    public static func validMAC(_ text: String) -> String? {
        guard text.utf8.count == 12, text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        return text
    }

    static func methodNotAllowed(_ allow: String) -> Response {
        var response = Self.error(.methodNotAllowed, "Method not allowed")
        response.headers[.allow] = allow
        return response
    }

    /// `{"error": message}`, the field fspbx reads first.
    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Self.json(status, ["error": message])
    }

    /// A JSON answer with sorted keys.
    static func json(_ status: HTTPResponse.Status, _ value: Any) -> Response {
        let data =
            (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
