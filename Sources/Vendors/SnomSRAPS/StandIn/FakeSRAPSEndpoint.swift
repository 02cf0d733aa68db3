import Foundation
import Hummingbird
import HummingbirdCore

extension FakeSRAPSServer {
    /// `PUT`, `GET` or `DELETE` on `companies/{company}/endpoints/{mac}`.
    func endpoint(_ pathMAC: String, of company: String, _ request: SRAPSRequestContext) async -> Response {
        guard let mac = Self.validMAC(pathMAC) else {
            return Self.json(.badRequest, ["mac": ["Enter a valid MAC address."]])
        }
        let existing = await self.state.endpoint(mac)
        let heldByOther = existing.map { $0.company != company } ?? false
        switch request.method {
        case .get:
            if heldByOther { return Self.forbiddenEndpoint }
            guard let existing else { return Self.notFound }
            return Self.json(.ok, Self.record(mac, existing))
        case .delete:
            if heldByOther { return Self.forbiddenEndpoint }
            guard existing != nil else { return Self.notFound }
            await self.state.removeEndpoint(mac)
            return Response(status: .noContent)
        case .put:
            let endpoint: FakeSRAPSState.Endpoint
            switch await self.parseRecord(request, mac: mac, company: company) {
            case .record(let parsed): endpoint = parsed
            case .refused(let response): return response
            }
            // The MAC field's validator refuses a MAC another company holds, as a field error.
            if heldByOther { return Self.json(.badRequest, ["mac": ["taken_mac_or_forbidden"]]) }
            await self.state.putEndpoint(mac, endpoint)
            return Self.json(existing == nil ? .created : .ok, Self.record(mac, endpoint))
        default:
            return Self.methodNotAllowed(request.method, allow: "GET, PUT, DELETE")
        }
    }

    /// A PUT body read, or refused with its answer.
    enum ParsedRecord {
        case record(FakeSRAPSState.Endpoint)
        case refused(Response)
    }

    /// Reads a PUT body as DRF's JSONParser and a strict serializer would: JSON only (415 otherwise), an object,
    /// no `null`, the body's MAC the path's, every `settings_manager` key a known setting with a string `value`.
    private func parseRecord(
        _ request: SRAPSRequestContext, mac: String, company: String
    ) async -> ParsedRecord {
        // DRF picks a parser by media type and answers 415 UnsupportedMediaType when none takes it, also when the
        // header is missing; the JSON parser takes `application/json` with any parameters.
        let mediaType =
            request.contentType?.split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard mediaType == "application/json" else {
            return .refused(
                Self.json(.unsupportedMediaType, ["detail": "Unsupported media type \"\(mediaType)\" in request."]))
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(request.body)) else {
            return .refused(Self.json(.badRequest, ["detail": "JSON parse error"]))
        }
        guard let object = json as? [String: Any] else {
            return .refused(Self.json(.badRequest, ["non_field_errors": ["Invalid data. Expected a dictionary."]]))
        }
        func fieldError(_ field: String, _ message: String) -> ParsedRecord {
            .refused(Self.json(.badRequest, [field: [message]]))
        }
        // A null resets the server's default (falconieri 21de451): never what a client means, so it is refused.
        if let null = object.first(where: { $0.value is NSNull })?.key {
            return fieldError(null, "This field may not be null.")
        }
        guard let bodyMAC = object["mac"] as? String else { return fieldError("mac", "This field is required.") }
        guard Self.validMAC(bodyMAC) == mac else {
            return fieldError("mac", "The MAC address does not match the endpoint's URL.")
        }
        var endpoint = FakeSRAPSState.Endpoint(company: company)
        if let flag = object["autoprovisioning_enabled"] {
            // DRF's BooleanField takes JSON booleans and the strings ngcp sends ("true").
            switch flag {
            case let value as Bool: endpoint.autoprovisioningEnabled = value
            case let text as String where ["true", "false"].contains(text.lowercased()):
                endpoint.autoprovisioningEnabled = text.lowercased() == "true"
            default: return fieldError("autoprovisioning_enabled", "Must be a valid boolean.")
            }
        }
        if let manager = object["settings_manager"] {
            guard let settings = manager as? [String: Any] else {
                return fieldError("settings_manager", "Expected a dictionary of settings.")
            }
            let known = Set(await self.state.settings.map(\.uuid))
            for (uuid, entry) in settings {
                guard known.contains(uuid) else {
                    return fieldError("settings_manager", "Unknown setting \"\(uuid)\".")
                }
                guard let entry = entry as? [String: Any], let value = entry["value"] as? String,
                    value.utf8.count <= 2048
                else { return fieldError("settings_manager", "Setting \"\(uuid)\" needs a string value.") }
                if let attrs = entry["attrs"], !(attrs is [String: Any]) {
                    return fieldError("settings_manager", "Setting \"\(uuid)\" has invalid attrs.")
                }
                endpoint.settings[uuid] = value
            }
        }
        return .record(endpoint)
    }

    /// The service's MAC syntax: 12 hex digits in either case (falconieri and hello send lowercase, ngcp uppercase),
    /// kept lowercase.
    static func validMAC(_ text: String) -> String? {
        guard text.utf8.count == 12, text.unicodeScalars.allSatisfy(\.properties.isASCIIHexDigit) else { return nil }
        return text.lowercased()
    }
}
