import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOSSL
import StandInSupport

/// Strict stand-ins of the two PBX APIs that provhook looks devices up in, on one port:
///
/// - Kazoo crossbar under `/v2`: `PUT /v2/api_auth` (JSON `{"data": {"api_key": …}}` with a 64-character key,
///   answering 201 with a top-level `auth_token`; an unknown key 404 "bad identifier", a missing `data` or key 400
///   "validation error") and `GET /v2/accounts/{account}/devices/{id}` with
///   `X-Auth-Token` (401 without a valid token, 403 for an account outside the token's, 404 `bad_identifier`),
///   in crossbar's envelope.
/// - Wazo under `/api`: wazo-auth's `POST /api/auth/0.1/token` (basic auth and a JSON body, `{}` at least,
///   answering `{"data": {"token", "expires_at", "utc_expires_at", …}}`) and wazo-confd's
///   `GET /api/confd/1.1/devices/{id}` with `X-Auth-Token` and an optional `Wazo-Tenant` (401 without a valid
///   token or for a tenant that is not the token's, 404 as a JSON array of one message, devices of other tenants
///   included). The bodies are those of the services' sources (crossbar's envelope, wazo-auth's `reason` list).
public struct FakePBXServer: Sendable {
    public let state: FakePBXState

    public init(state: FakePBXState) {
        self.state = state
    }

    /// The Hummingbird application on `host` and `port`; HTTPS with `tls`.
    public func makeApplication(
        host: String = "127.0.0.1", port: Int = 0, tls: TLSConfiguration? = nil, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let router = Router()
        router.middlewares.add(LatencyMiddleware(state: self.state))
        router.put("/v2/api_auth", use: self.kazooLogin)
        router.get("/v2/accounts/:account/devices/:id", use: self.kazooDevice)
        router.get("/v2/accounts/:account/devices", use: self.kazooDevices)
        router.get("/api/confd/1.1/devices", use: self.wazoDevices)
        router.post("/api/auth/0.1/token", use: self.wazoToken)
        router.get("/api/confd/1.1/devices/:id", use: self.wazoDevice)
        return try makeStandInApplication(
            responder: router.buildResponder(), host: host, port: port, tls: tls, logger: logger,
            onServerRunning: onServerRunning)
    }

    // MARK: Kazoo crossbar

    @Sendable func kazooLogin(request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 16)
        let object =
            body.readableBytes == 0
            ? [:] : try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        guard let object else {
            return await self.kazooError(request, .badRequest, "400", "invalid json", data: ["message": "invalid json"])
        }
        guard let data = object["data"] as? [String: Any] else {
            return await self.kazooError(
                request, .badRequest, "400", "validation error",
                data: ["data": ["required": ["message": "Field is required but missing"]]])
        }
        guard let apiKey = data["api_key"] as? String, apiKey.count == 64 else {
            let rule = data["api_key"] == nil ? "required" : "minLength"
            return await self.kazooError(
                request, .badRequest, "400", "validation error",
                data: ["api_key": [rule: ["message": "Field is required but missing or not 64 characters"]]])
        }
        guard let token = await self.state.kazooLogin(apiKey: apiKey),
            let account = await self.state.kazooAccount(ofToken: token)
        else {
            return await self.kazooError(request, .notFound, "404", "bad identifier", data: [apiKey])
        }
        return await self.respond(
            request, .created,
            Self.kazooEnvelope(
                ["account_id": account, "owner_id": NSNull(), "apps": [], "is_reseller": false, "language": "en-us"],
                token: token))
    }

    @Sendable func kazooDevice(request: Request, context: BasicRequestContext) async throws -> Response {
        let account = context.parameters.get("account") ?? ""
        let id = context.parameters.get("id") ?? ""
        guard let token = request.headers[HTTPField.Name("X-Auth-Token")!], !token.isEmpty else {
            return await self.kazooError(
                request, .unauthorized, "401", "invalid_credentials", data: ["message": "invalid credentials"])
        }
        guard let tokenAccount = await self.state.kazooAccount(ofToken: token) else {
            return await self.kazooError(request, .unauthorized, "401", "invalid credentials", data: [:])
        }
        guard await self.state.kazooAccount(account, isWithin: tokenAccount) else {
            return await self.kazooError(request, .forbidden, "403", "forbidden", data: ["cause": "access denied"])
        }
        guard let device = await self.state.kazooAccount(account)?.devices[id] else {
            return await self.kazooError(
                request, .notFound, "404", "bad_identifier", data: ["cause": id, "message": "bad identifier"])
        }
        var provision: [String: Any] = [:]
        if let brand = device.brand { provision["endpoint_brand"] = brand }
        if let model = device.model { provision["endpoint_model"] = model }
        return await self.respond(
            request, .ok,
            Self.kazooEnvelope(
                [
                    "id": id, "name": "device \(id.prefix(8))", "device_type": "sip_device", "enabled": true,
                    "mac_address": device.macAddress, "provision": provision,
                    "sip": ["username": "user_\(id.prefix(6))", "password": "not-a-real-password"],
                ], token: token))
    }

    /// Crossbar's listing: `page_size` (1 to 500, default 50) and the opaque `start_key` of the previous page's
    /// `next_start_key`, absent on the last page. Items are crossbar's summary: no `provision` block.
    @Sendable func kazooDevices(request: Request, context: BasicRequestContext) async throws -> Response {
        let account = context.parameters.get("account") ?? ""
        guard let token = request.headers[HTTPField.Name("X-Auth-Token")!], !token.isEmpty,
            let tokenAccount = await self.state.kazooAccount(ofToken: token)
        else {
            return await self.kazooError(
                request, .unauthorized, "401", "invalid_credentials", data: ["message": "invalid credentials"])
        }
        guard await self.state.kazooAccount(account, isWithin: tokenAccount) else {
            return await self.kazooError(request, .forbidden, "403", "forbidden", data: ["cause": "access denied"])
        }
        switch await self.state.listing(account: account) {
        case .none: break
        case .fail: return await self.kazooError(request, .internalServerError, "500", "datastore_fault", data: [:])
        case .hold(let delay): try await Task.sleep(for: delay)
        }
        let query = request.uri.queryParameters
        let pageSize = query["page_size"].flatMap { Int(String($0)) } ?? 50
        guard (1...500).contains(pageSize) else {
            return await self.kazooError(request, .badRequest, "400", "invalid page_size", data: [:])
        }
        var startKey: String?
        if let key = query["start_key"] {
            guard let decoded = Data(base64Encoded: String(key)).flatMap({ String(data: $0, encoding: .utf8) }) else {
                return await self.kazooError(request, .badRequest, "400", "invalid start_key", data: [:])
            }
            startKey = decoded
        }
        let (page, next) = await self.state.kazooPage(account: account, from: startKey, size: pageSize)
        var envelope = Self.kazooEnvelope([:], token: token)
        envelope["data"] = page.map { id, device in
            [
                "id": id, "name": "device \(id.prefix(8))", "username": "user_\(id.prefix(6))",
                "mac_address": device.macAddress, "owner_id": NSNull(), "enabled": device.enabled,
                "device_type": "sip_device", "mobile": [:], "call_recording": [:], "flags": [],
            ] as [String: Any]
        }
        envelope["page_size"] = page.count
        envelope["start_key"] = query["start_key"].map(String.init) ?? NSNull()
        if let next {
            envelope["next_start_key"] = Data(next.utf8).base64EncodedString()
            // Broken paging: the key of the second page, again and again.
            if await self.state.repeatsNextStartKey, let key = query["start_key"] {
                envelope["next_start_key"] = String(key)
            }
        }
        return await self.respond(request, .ok, envelope)
    }

    /// Crossbar's success envelope.
    static func kazooEnvelope(_ data: [String: Any], token: String) -> [String: Any] {
        [
            "auth_token": token, "data": data, "status": "success", "request_id": UUID().uuidString,
            "node": "stand-in", "version": "4.3.0", "timestamp": ISO8601DateFormatter().string(from: Date()),
        ]
    }

    private func kazooError(
        _ request: Request, _ status: HTTPResponse.Status, _ code: String, _ message: String, data: Any
    ) async -> Response {
        await self.respond(
            request, status,
            [
                "data": data, "error": code, "message": message, "status": "error", "request_id": UUID().uuidString,
                "node": "stand-in", "timestamp": ISO8601DateFormatter().string(from: Date()),
            ])
    }

    // MARK: Wazo

    @Sendable func wazoToken(request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 16)
        guard let (user, password) = StandInHTTP.basicCredentials(request.headers[.authorization]) else {
            return await self.wazoError(request, .unauthorized, "Authentication Failed")
        }
        // wazo-auth reads the body with get_json(force=True): JSON whatever the Content-Type, and none is an error.
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        else {
            return await self.wazoError(request, .badRequest, "Bad Request: invalid JSON body")
        }
        var expiration = 7200
        if let requested = object["expiration"] {
            guard let number = requested as? Int, (1...315_360_000).contains(number) else {
                return await self.wazoError(request, .badRequest, "Invalid value for expiration")
            }
            expiration = number
        }
        guard let (token, expires) = await self.state.wazoLogin(user: user, password: password, expiration: expiration)
        else {
            return await self.wazoError(request, .unauthorized, "Authentication Failed")
        }
        let issued = Date()
        return await self.respond(
            request, .ok,
            [
                "data": [
                    "token": token, "auth_id": UUID().uuidString.lowercased(),
                    "xivo_uuid": UUID().uuidString.lowercased(),
                    "session_uuid": UUID().uuidString.lowercased(), "expires_at": Self.wazoDate(expires),
                    "utc_expires_at": Self.wazoDate(expires), "issued_at": Self.wazoDate(issued),
                    "utc_issued_at": Self.wazoDate(issued), "acl": ["confd.devices.*.read"], "metadata": [:],
                ]
            ])
    }

    @Sendable func wazoDevice(request: Request, context: BasicRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        // confd answers 401 with the str() of its exception's arguments: the token and the ACL it needed.
        let token = request.headers[HTTPField.Name("X-Auth-Token")!] ?? ""
        let refusal = ["('\(token)', 'confd.devices.\(id).read')"]
        guard let tenant = await self.state.wazoTenant(ofToken: token) else {
            return await self.respond(request, .unauthorized, refusal)
        }
        if let asked = request.headers[HTTPField.Name("Wazo-Tenant")!], asked != tenant {
            return await self.respond(request, .unauthorized, refusal)
        }
        guard let device = await self.state.wazoDevices[id], device.tenantUUID == tenant else {
            return await self.respond(request, .notFound, ["Resource Not Found - Device was not found ('id': '\(id)')"])
        }
        return await self.respond(
            request, .ok,
            [
                "id": id, "mac": Self.orNull(device.mac), "vendor": Self.orNull(device.vendor),
                "model": Self.orNull(device.model), "ip": NSNull(), "sn": Self.orNull(device.sn), "plugin": NSNull(),
                "version": NSNull(), "description": NSNull(), "status": "configured", "template_id": NSNull(),
                "options": [:], "is_new": false, "tenant_uuid": device.tenantUUID,
                "links": [["rel": "devices", "href": "https://wazo.example/api/confd/1.1/devices/\(id)"]],
            ])
    }

    /// confd's listing in the token's tenant: `limit`, `offset`, `order`, `direction`; `{"total", "items"}`.
    @Sendable func wazoDevices(request: Request, context: BasicRequestContext) async throws -> Response {
        let token = request.headers[HTTPField.Name("X-Auth-Token")!] ?? ""
        guard let tenant = await self.state.wazoTenant(ofToken: token) else {
            return await self.respond(request, .unauthorized, ["('\(token)', 'confd.devices.read')"])
        }
        if let asked = request.headers[HTTPField.Name("Wazo-Tenant")!], asked != tenant {
            return await self.respond(request, .unauthorized, ["('\(token)', 'confd.devices.read')"])
        }
        switch await self.state.listing() {
        case .none: break
        case .fail: return await self.respond(request, .internalServerError, ["Unexpected error: provd is unreachable"])
        case .hold(let delay): try await Task.sleep(for: delay)
        }
        let query = request.uri.queryParameters
        guard let limit = Int(String(query["limit"] ?? "1000")), limit >= 0,
            let offset = Int(String(query["offset"] ?? "0")), offset >= 0
        else { return await self.respond(request, .badRequest, ["Input Error - limit and offset are integers"]) }
        let (page, total) = await self.state.wazoPage(tenant: tenant, offset: offset, limit: limit)
        return await self.respond(
            request, .ok,
            [
                "total": total,
                "items": page.map { id, device in
                    [
                        "id": id, "mac": Self.orNull(device.mac), "vendor": Self.orNull(device.vendor),
                        "model": Self.orNull(device.model), "sn": Self.orNull(device.sn), "status": "configured",
                        "tenant_uuid": device.tenantUUID,
                    ] as [String: Any]
                },
            ])
    }

    private func wazoError(_ request: Request, _ status: HTTPResponse.Status, _ reason: String) async -> Response {
        await self.respond(
            request, status,
            ["reason": [reason], "timestamp": [Date().timeIntervalSince1970], "status_code": Int(status.code)])
    }

    // MARK: Shared

    private func respond(_ request: Request, _ status: HTTPResponse.Status, _ json: Any) async -> Response {
        await self.state.record(request.method.rawValue, request.uri.path, Int(status.code))
        let data = (try? JSONSerialization.data(withJSONObject: json)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func orNull(_ text: String?) -> Any { text.map { $0 as Any } ?? NSNull() }

    static func wazoDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS"
        return formatter.string(from: date)
    }
}

/// Holds every answer for the state's latency (a slow PBX, for the lookup timeout), and while the state holds requests.
struct LatencyMiddleware: RouterMiddleware {
    let state: FakePBXState

    func handle(
        _ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response
    ) async throws -> Response {
        await self.state.hold.arrive()
        let latency = await self.state.latency
        if latency > .zero { try await Task.sleep(for: latency) }
        await self.state.hold.pass()
        return try await next(request, context)
    }
}
