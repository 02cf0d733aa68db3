import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore

/// An authenticated request, as the resource handlers see it.
struct SRAPSRequestContext: Sendable {
    var keyID: String
    var method: HTTPRequest.Method
    /// The query's parameters; the first of a repeated one.
    var query: [String: String]
    var contentType: String?
    var body: [UInt8]
    /// `scheme://host[:port]` the client reached, for absolute links.
    var origin: String
    /// The request's path, for the pagination links.
    var path: String
}

extension FakeSRAPSServer {
    /// The answer DRF gives to a method a resource does not take.
    static func methodNotAllowed(_ method: HTTPRequest.Method, allow: String) -> Response {
        Self.json(
            .methodNotAllowed, ["detail": "Method \"\(method.rawValue)\" not allowed."], headers: [.allow: allow])
    }

    /// The answer to a MAC another company holds: SRAPS's texts, as falconieri b7bee26 matches them.
    static let forbiddenEndpoint = Self.json(.forbidden, ["detail": "User lacks permission to endpoint"])

    func dispatch(_ route: SRAPSRoute, _ request: SRAPSRequestContext) async -> Response {
        guard let company = await self.state.keys[request.keyID]?.company else { return Self.notFound }
        switch route {
        case .token(let id):
            guard request.method == .get else { return Self.methodNotAllowed(request.method, allow: "GET") }
            // A key reads only its own token.
            guard id == request.keyID else { return Self.notFound }
            let links = ["company": "\(await self.linkOrigin(request))\(Self.basePath)companies/\(company)/"]
            return Self.json(.ok, ["uuid": id, "links": links])
        case .company(let uuid):
            guard request.method == .get else { return Self.methodNotAllowed(request.method, allow: "GET") }
            guard let name = await self.state.companies[uuid] else { return Self.notFound }
            guard uuid == company else {
                return Self.json(.forbidden, ["detail": "You do not have permission to perform this action."])
            }
            let endpoints = "\(await self.linkOrigin(request))\(Self.basePath)companies/\(uuid)/endpoints/"
            return Self.json(.ok, ["uuid": uuid, "name": name, "links": ["endpoints": endpoints]])
        case .settings:
            guard request.method == .get else { return Self.methodNotAllowed(request.method, allow: "GET") }
            let all: [Any] = await self.state.settings.map {
                [
                    "uuid": $0.uuid, "param_name": $0.paramName, "section": $0.section, "name": $0.name,
                    "field_type": $0.fieldType,
                ]
            }
            return await self.page(all, request)
        case .endpoints(let uuid):
            guard request.method == .get else { return Self.methodNotAllowed(request.method, allow: "GET") }
            guard await self.state.companies[uuid] != nil else { return Self.notFound }
            guard uuid == company else {
                return Self.json(.forbidden, ["detail": "You do not have permission to perform this action."])
            }
            let all: [Any] = await self.state.endpoints(of: uuid).map { Self.record($0.mac, $0.endpoint) }
            return await self.page(all, request)
        case .endpoint(let uuid, let mac):
            guard await self.state.companies[uuid] != nil else { return Self.notFound }
            guard uuid == company else {
                return Self.json(.forbidden, ["detail": "You do not have permission to perform this action."])
            }
            return await self.endpoint(mac, of: company, request)
        }
    }

    /// The company and endpoints links: the stand-in's own origin unless a test set another.
    private func linkOrigin(_ request: SRAPSRequestContext) async -> String {
        await self.state.linkOrigin ?? request.origin
    }

    /// A record as `GET` answers it.
    static func record(_ mac: String, _ endpoint: FakeSRAPSState.Endpoint) -> [String: Any] {
        [
            "mac": mac, "autoprovisioning_enabled": endpoint.autoprovisioningEnabled,
            "settings_manager": endpoint.settings.mapValues { ["value": $0, "attrs": ["perm": "RW"]] },
        ]
    }

    /// One page of `items`, DRF's `PageNumberPagination` with `page_size` (default 20, at most `maxPageSize`) and
    /// RFC 8288 `Link` headers for the next and previous pages.
    private func page(_ items: [Any], _ request: SRAPSRequestContext) async -> Response {
        let maxPageSize = await self.state.maxPageSize
        // DRF ignores a page_size that is not a positive integer, and caps one over the maximum.
        let asked = request.query["page_size"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        let size = min(asked ?? 20, maxPageSize)
        let pageCount = max(1, (items.count + size - 1) / size)
        let number: Int
        if let text = request.query["page"] {
            guard let value = Int(text), (1...pageCount).contains(value) else {
                return Self.json(.notFound, ["detail": "Invalid page."])
            }
            number = value
        } else {
            number = 1
        }
        let slice = Array(items.dropFirst((number - 1) * size).prefix(size))
        var links: [String] = []
        let base = "\(request.origin)\(request.path)?page_size=\(size)&page="
        if number < pageCount { links.append("<\(base)\(number + 1)>; rel=\"next\"") }
        if number > 1 { links.append("<\(base)\(number - 1)>; rel=\"prev\"") }
        links.append("<\(base)1>; rel=\"first\"")
        links.append("<\(base)\(pageCount)>; rel=\"last\"")
        return Self.json(.ok, slice, headers: [HTTPField.Name("Link")!: links.joined(separator: ", ")])
    }
}
