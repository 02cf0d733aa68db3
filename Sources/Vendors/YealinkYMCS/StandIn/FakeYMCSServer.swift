import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import StandInSupport

/// A strict stand-in of Yealink's YMCS API v2, served over HTTP or HTTPS.
///
/// It checks what falconieri's and fspbx's clients send and nothing less: `timestamp` (Unix milliseconds, within
/// five minutes) and a fresh 32-hex `nonce` on every request, JSON bodies, basic auth and
/// `{"grant_type":"client_credentials"}` for a token, a valid unexpired bearer token for everything else, at most 100
/// MACs per `addDevicesByMac`, and MAC-only registration only for organisations enabled for it (the others are
/// answered `900501`, and must add each phone with its serial number). Errors are YMCS's `{code, error, requestId,
/// message}` with the codes falconieri documents.
public struct FakeYMCSServer: RespondingStandInServer {
    public let state: FakeYMCSState
    public static let maxRequestBytes = 1 << 20

    public init(state: FakeYMCSState) { self.state = state }

    /// Answers one HTTP request.
    public func respond(to request: Request, context: BasicRequestContext) async -> Response {
        var call = FakeYMCSState.Call(path: request.uri.path, organisation: nil, status: 0, macs: [])
        let response = await self.handle(request, call: &call)
        call.status = Int(response.status.code)
        await self.state.record(call)
        return response
    }

    private func handle(_ request: Request, call: inout FakeYMCSState.Call) async -> Response {
        let path = request.uri.path
        let known = [
            "/v2/token", "/v2/rps/addDevicesByMac", "/v2/rps/devices", "/v2/rps/delDevices", "/v2/rps/listDevices",
            "/v2/rps/listDevicePins",
        ]
        guard known.contains(path) else { return Self.error(.notFound, "900404", "Resource not found") }
        guard request.method == .post else { return Self.error(.methodNotAllowed, "900400", "POST only") }
        guard let stamp = request.headers[HTTPField.Name("timestamp")!].flatMap(Double.init),
            abs(stamp / 1000 - Date().timeIntervalSince1970) < 300
        else { return Self.error(.badRequest, "900400", "the timestamp header is missing or off by over 5 minutes") }
        guard let nonce = request.headers[HTTPField.Name("nonce")!], nonce.utf8.count == 32,
            nonce.allSatisfy(\.isHexDigit)
        else { return Self.error(.badRequest, "900400", "the nonce header must be 32 hex digits") }
        guard await self.state.useNonce(nonce) else {
            return Self.error(.badRequest, "900400", "the nonce was used already")
        }
        let mediaType = request.headers[.contentType]?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard mediaType == "application/json" else {
            return Self.error(.unsupportedMediaType, "900400", "Content-Type must be application/json")
        }
        let json: Any
        do {
            let body = try await request.body.collect(upTo: Self.maxRequestBytes)
            json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: [.fragmentsAllowed])
        } catch {
            return Self.error(.badRequest, "900400", "the body is not JSON")
        }

        if path == "/v2/token" {
            guard let (id, secret) = StandInHTTP.basicCredentials(request.headers[.authorization]) else {
                return Self.error(.unauthorized, nil, "basic authentication is required", oauth: "invalid_client")
            }
            guard (json as? [String: Any])?["grant_type"] as? String == "client_credentials" else {
                return Self.error(.badRequest, "70011", "Invalid grant_type", oauth: "unsupported_grant_type")
            }
            guard let token = await self.state.issueToken(clientID: id, secret: secret) else {
                return Self.error(.unauthorized, nil, "Bad client credentials", oauth: "invalid_client")
            }
            call.organisation = await self.state.clients[id]?.organisation
            let lifetime = await Int(self.state.tokenLifetime)
            return Self.json(.ok, ["access_token": token, "token_type": "bearer", "expires_in": lifetime])
        }

        let authorization = request.headers[.authorization] ?? ""
        guard authorization.hasPrefix("Bearer "),
            let organisation = await self.state.organisation(ofToken: String(authorization.dropFirst(7)))
        else { return Self.error(.unauthorized, "900401", "Not logged in or session expired") }
        call.organisation = organisation
        if let (status, code) = await self.state.takeFailure() {
            return Self.error(HTTPResponse.Status(code: status), code, "injected failure")
        }

        switch path {
        case "/v2/rps/addDevicesByMac":
            guard let entries = json as? [[String: Any]], !entries.isEmpty,
                entries.allSatisfy({
                    $0["mac"] is String && ($0["uniqueServerUrl"] == nil || $0["uniqueServerUrl"] is String)
                })
            else { return Self.error(.badRequest, "800007", "Invalid parameters") }
            call.macs = entries.compactMap { $0["mac"] as? String }
            guard entries.count <= 100 else { return Self.error(.badRequest, "800006", "Batch size exceeds limit") }
            guard await self.state.macOnlyOrganisations.contains(organisation) else {
                return Self.error(
                    .forbidden, "900501",
                    "Operation not supported: adding devices by MAC is not enabled; add them with their SN")
            }
            let errors = await self.state.addByMAC(
                entries.map { ($0["mac"] as! String, $0["uniqueServerUrl"] as? String) }, organisation: organisation)
            let delay = await self.state.addAnswerDelay
            if delay > .zero { try? await Task.sleep(for: delay) }
            return Self.json(
                .ok,
                [
                    "total": entries.count, "successCount": entries.count - errors.count, "failureCount": errors.count,
                    "errors": errors.map { ["mac": $0.mac, "sn": "", "errorInfo": $0.info] },
                ])
        case "/v2/rps/devices":
            guard let object = json as? [String: Any], let mac = object["mac"] as? String,
                let serial = object["sn"] as? String
            else { return Self.error(.badRequest, "800007", "Invalid parameters: mac and sn are required") }
            call.macs = [mac]
            let url = object["uniqueServerUrl"] as? String
            if let (code, message) = await self.state.addWithSerial(
                mac: mac, serial: serial, url: url, organisation: organisation)
            {
                return Self.error(code == "800004" ? .conflict : .badRequest, code, message)
            }
            let device = await self.state.device(mac)
            return Self.json(
                .created, ["id": device?.id ?? "", "mac": mac.lowercased(), "sn": serial, "uniqueServerUrl": url ?? ""])
        case "/v2/rps/delDevices":
            guard let object = json as? [String: Any], object["deviceIdType"] as? String == "mac",
                let ids = object["deviceIds"] as? [String], !ids.isEmpty
            else { return Self.error(.badRequest, "800007", "Invalid parameters") }
            call.macs = ids
            guard ids.count <= 100 else { return Self.error(.badRequest, "800006", "Batch size exceeds limit") }
            let errors = await self.state.delete(ids, organisation: organisation)
            return Self.json(
                .ok,
                [
                    "total": ids.count, "successCount": ids.count - errors.count, "failureCount": errors.count,
                    "errors": errors.map { ["field": $0.field, "msg": $0.msg] },
                ])
        case "/v2/rps/listDevices":
            guard let object = json as? [String: Any], let skip = object["skip"] as? Int,
                let limit = object["limit"] as? Int, (1...100).contains(limit), skip >= 0
            else { return Self.error(.badRequest, "800007", "Invalid parameters: skip, and limit 1 to 100") }
            let mac = ((object["filter"] as? [String: Any])?["mac"] as? String)?.lowercased()
            let (page, total) = await self.state.list(organisation: organisation, skip: skip, limit: limit, mac: mac)
            return Self.json(
                .ok,
                [
                    "skip": skip, "limit": limit, "total": total,
                    "data": page.map { mac, device in
                        [
                            "id": device.id, "mac": mac, "sn": device.serial as Any, "serverId": NSNull(),
                            "serverUrl": NSNull(), "uniqueServerUrl": device.url as Any,
                        ]
                    },
                ])
        default:  // listDevicePins
            guard let macs = (json as? [String: Any])?["macs"] as? [String], !macs.isEmpty else {
                return Self.error(.badRequest, "800007", "Invalid parameters")
            }
            call.macs = macs
            var pins: [[String: String]] = []
            for mac in macs {
                if let device = await self.state.device(mac), device.organisation == organisation {
                    pins.append(["mac": mac.lowercased(), "pin": device.pin])
                }
            }
            return Self.json(.ok, pins)
        }
    }

    static func json(_ status: HTTPResponse.Status, _ value: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(
        _ status: HTTPResponse.Status, _ code: String?, _ message: String, oauth: String? = nil
    )
        -> Response
    {
        var body: [String: Any] = ["message": message, "requestId": UUID().uuidString.lowercased()]
        if let code { body["code"] = code }
        if let oauth { body["error"] = oauth }
        return Self.json(status, body)
    }
}
