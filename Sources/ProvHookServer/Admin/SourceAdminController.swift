import Foundation
import HTTPTypes
import Hummingbird
import Integrations
import NIOCore
import ProvHookCore

/// The admin API's sources: the same operations as `provhook source …`, behind the same bearer token. A source's
/// token is shown once, when it is made or rotated; its PBX API secret is never shown.
struct SourceAdminController: Sendable {
    let store: Store

    func addRoutes(to group: RouterGroup<ProvHookRequestContext>) {
        group.get("sources", use: self.list)
            .post("sources", use: self.create)
            .patch("sources/:source", use: self.update)
            .delete("sources/:source", use: self.remove)
    }

    struct SourceList: ResponseEncodable { var sources: [Source] }

    struct SourceWithToken: ResponseEncodable {
        var source: Source
        var token: String?
    }

    /// A source's PBX API, as the API takes it: its secret in the body (the admin listener is the operator's).
    struct APIBody: Decodable {
        var url: String
        var user: String?
        var caFile: String?
        var tenant: String?
        var secret: String
        enum CodingKeys: String, CodingKey { case url, user, tenant, secret, caFile = "ca_file" }

        /// The API and its secret; an `http://` API only with `PROVHOOK_PBX_ALLOW_HTTP`.
        func resolved() throws(APIError) -> (SourceAPI, secret: String) {
            let api = SourceAPI(url: self.url, user: self.user, caFile: self.caFile, tenant: self.tenant)
            do {
                try api.checkTransport(allowsHTTP: Settings().allowsPlainHTTPPBX)
            } catch {
                throw .badRequest("invalid", error.description)
            }
            return (api, self.secret)
        }
    }

    struct SourceCreate: Decodable {
        var name: String
        var kind: SourceKind
        var tenant: String?
        var accounts: [String: String]?
        var mapping: JSONValue?
        var api: APIBody?
    }

    struct SourcePatch: Decodable {
        var tenant: String?
        var noTenant: Bool?
        var accounts: [String: String]?
        var unmapAccounts: [String]?
        var mapping: JSONValue?
        var api: APIBody?
        var removeAPI: Bool?
        var rotateToken: Bool?
        enum CodingKeys: String, CodingKey {
            case tenant, accounts, mapping, api
            case noTenant = "no_tenant"
            case unmapAccounts = "unmap_accounts"
            case removeAPI = "remove_api"
            case rotateToken = "rotate_token"
        }
    }

    @Sendable func list(request: Request, context: ProvHookRequestContext) async throws -> SourceList {
        let all = try AdminController.includeRemoved(request)
        return SourceList(
            sources: try await AdminController.answer { try await self.store.sources(includeRemoved: all) })
    }

    @Sendable func create(
        request: Request, context: ProvHookRequestContext
    ) async throws -> EditedResponse<SourceWithToken> {
        let body = try await AdminController.decode(
            SourceCreate.self, request,
            expected: "{\"name\", \"kind\", \"tenant\"?, \"accounts\"?, \"mapping\"?, \"api\"?}")
        let mapping = try body.mapping.map(Self.mappingText)
        if body.kind == .fusionpbx {
            throw APIError.badRequest(
                "invalid", "a FusionPBX source is added with provhook source add (its database URL is a file)")
        }
        let api = try body.api?.resolved()
        let (source, token) = try await AdminController.answer {
            try await self.store.addSource(
                name: body.name, kind: body.kind, tenantID: body.tenant,
                mapping: mapping, accounts: body.accounts ?? [:],
                api: api, actor: context.adminActor)
        }
        return EditedResponse(status: .created, response: SourceWithToken(source: source, token: token))
    }

    @Sendable func update(request: Request, context: ProvHookRequestContext) async throws -> SourceWithToken {
        let name = context.parameters.get("source") ?? ""
        let body = try await AdminController.decode(
            SourcePatch.self, request,
            expected:
                "{\"tenant\"?, \"no_tenant\"?, \"accounts\"?, \"unmap_accounts\"?, \"mapping\"?, \"api\"?, \"remove_api\"?, \"rotate_token\"?}"
        )
        if body.noTenant == true, body.tenant != nil {
            throw APIError.badRequest("invalid", "tenant and no_tenant exclude each other")
        }
        if body.removeAPI == true, body.api != nil {
            throw APIError.badRequest("invalid", "api and remove_api exclude each other")
        }
        let mapping = try body.mapping.map(Self.mappingText)
        let tenant: String?? = body.noTenant == true ? .some(nil) : body.tenant.map { .some($0) }
        var api: (SourceAPI, secret: String)?? = body.removeAPI == true ? .some(nil) : nil
        if let given = body.api { api = .some(try given.resolved()) }
        let update = SourceUpdate(
            tenantID: tenant, mapping: mapping, mapAccounts: body.accounts ?? [:],
            unmapAccounts: body.unmapAccounts ?? [], api: api)
        return try await AdminController.answer {
            var source = try await self.store.updateSource(name: name, update, actor: context.adminActor)
            var token: String?
            if body.rotateToken == true {
                (source, token) = try await self.store.rotateSourceToken(name: name, actor: context.adminActor)
            }
            return SourceWithToken(source: source, token: token)
        }
    }

    @Sendable func remove(request: Request, context: ProvHookRequestContext) async throws -> HTTPResponse.Status {
        let name = context.parameters.get("source") ?? ""
        try await AdminController.answer { try await self.store.removeSource(name: name, actor: context.adminActor) }
        return .noContent
    }

    /// A mapping as JSON text, checked as `source add` checks it.
    static func mappingText(_ value: JSONValue) throws(APIError) -> String {
        guard let data = try? JSONEncoder().encode(value) else {
            throw .badRequest("invalid_mapping", "the mapping is not JSON")
        }
        do {
            _ = try SourceMapping(adding: Array(data))
        } catch {
            throw .badRequest("invalid_mapping", "\(error)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
