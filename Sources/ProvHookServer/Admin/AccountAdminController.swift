import Foundation
import HTTPTypes
import Hummingbird
import ProvHookCore
import ProvisioningModel
import VendorRegistry

/// The admin API's redirection accounts: the same operations as `provhook account …`, behind the same bearer token.
/// A password is taken in the body (the admin listener is the operator's) and sealed; it is never shown.
struct AccountAdminController: Sendable {
    let store: Store

    func addRoutes(to group: RouterGroup<ProvHookRequestContext>) {
        group.get("accounts", use: self.list)
            .post("accounts", use: self.create)
            .patch("accounts/:account", use: self.update)
            .delete("accounts/:account", use: self.remove)
    }

    struct AccountList: ResponseEncodable { var accounts: [RedirectAccount] }

    struct AccountAnswer: ResponseEncodable { var account: RedirectAccount }

    /// An account's settings as the API takes them; `null` for `url`, `ca_file` or `concurrency` in a PATCH returns
    /// that setting to the installation's, and an absent one leaves it as it is.
    struct AccountBody: Decodable {
        var name: String?
        var kind: String?
        var user: String?
        var password: String?
        var passwordFile: String?
        var url: String??
        var caFile: String??
        var concurrency: Int??
        /// `true` makes the account its vendor's default (`false` is refused: make another account the default).
        var makeDefault: Bool?
        /// Whether the account takes MACs other accounts of its service hold (only kinds whose service has the flag).
        var override: Bool?
        /// Whether the service registers the account's phones only by serial number (yealink-ymcs).
        var serialRequired: Bool?
        /// The service's profile for the account's phones (poly-ztp); null: provhook's own per URL.
        var profile: String??

        enum CodingKeys: String, CodingKey {
            case name, kind, user, password, url, concurrency, override, profile
            case serialRequired = "serial_required"
            case makeDefault = "vendor_default"
            case passwordFile = "password_file"
            case caFile = "ca_file"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func setting<T: Decodable>(_ key: CodingKeys) throws -> T?? {
                guard container.contains(key) else { return nil }
                return try container.decodeNil(forKey: key)
                    ? .some(nil) : .some(try container.decode(T.self, forKey: key))
            }
            // These may be absent, but not null: null would read as "unchanged" where the sender meant something.
            func text(_ key: CodingKeys) throws -> String? {
                guard container.contains(key) else { return nil }
                return try container.decode(String.self, forKey: key)
            }
            self.name = try text(.name)
            self.kind = try text(.kind)
            self.user = try text(.user)
            self.password = try text(.password)
            self.passwordFile = try text(.passwordFile)
            self.url = try setting(.url)
            self.caFile = try setting(.caFile)
            self.concurrency = try setting(.concurrency)
            // Absent or true; null is refused like false would be, not read as absent.
            self.makeDefault =
                container.contains(.makeDefault) ? try container.decode(Bool.self, forKey: .makeDefault) : nil
            self.override = container.contains(.override) ? try container.decode(Bool.self, forKey: .override) : nil
            self.serialRequired =
                container.contains(.serialRequired)
                ? try container.decode(Bool.self, forKey: .serialRequired) : nil
            self.profile = try setting(.profile)
        }

        /// Whether anything but `vendor_default` is set.
        var changesSettings: Bool {
            self.user != nil || self.password != nil || self.passwordFile != nil || self.url != nil
                || self.caFile != nil || self.concurrency != nil || self.override != nil
                || self.serialRequired != nil || self.profile != nil
        }

        func changes(account: String, kind existing: ServiceKind? = nil) throws(APIError) -> AccountChanges {
            // A password kept in a file is named with `provhook account`, on the machine that holds the file.
            if self.passwordFile != nil {
                throw .badRequest("invalid", "password_file is set with provhook account, not through the API")
            }
            let password: AccountPassword? = self.password.map { .sealed($0) }
            var kind: ServiceKind?
            if let name = self.kind {
                do {
                    kind = try ServiceRegistry.standardKind(named: name)
                } catch {
                    throw .badRequest("invalid", error.description)
                }
            }
            if self.makeDefault == false {
                throw .badRequest(
                    "invalid", "vendor_default can only be set to true: make another account its vendor's default")
            }
            let changes = AccountChanges(
                kind: kind, user: self.user, password: password, url: self.url, caFile: self.caFile,
                concurrency: self.concurrency, makeDefault: self.makeDefault ?? false, override: self.override,
                serialRequired: self.serialRequired, profile: self.profile)
            do {
                try ServiceRegistry.check(
                    kind: kind ?? existing ?? .snomXMLRPC, changes: changes, adding: existing == nil && self.name != nil
                )
            } catch {
                throw APIError(error)
            }
            return changes
        }
    }

    @Sendable func list(request: Request, context: ProvHookRequestContext) async throws -> AccountList {
        AccountList(accounts: try await AdminController.answer { try await self.store.accounts() })
    }

    @Sendable func create(
        request: Request, context: ProvHookRequestContext
    ) async throws -> EditedResponse<AccountAnswer> {
        let body = try await AdminController.decode(
            AccountBody.self, request,
            expected:
                "{\"name\", \"kind\"?, \"user\", \"password\", \"url\"?, \"ca_file\"?, \"concurrency\"?, \"vendor_default\"?, \"override\"?}"
        )
        guard let name = body.name else { throw APIError.badRequest("invalid", "an account needs a name") }
        let changes = try body.changes(account: name)
        let account = try await AdminController.answer {
            try await self.store.addAccount(name: name, changes: changes, actor: context.adminActor)
        }
        return EditedResponse(status: .created, response: AccountAnswer(account: account))
    }

    @Sendable func update(request: Request, context: ProvHookRequestContext) async throws -> AccountAnswer {
        let name = context.parameters.get("account") ?? ""
        let body = try await AdminController.decode(
            AccountBody.self, request,
            expected:
                "{\"user\"?, \"password\"?, \"url\"?, \"ca_file\"?, \"concurrency\"?, \"vendor_default\"?, \"override\"?}"
        )
        if body.name != nil { throw APIError.badRequest("invalid", "an account's name cannot change") }
        if body.kind != nil {
            throw APIError.badRequest(
                "invalid", "an account's kind cannot change: add an account of the other kind and move its tenants")
        }
        let kind =
            body.override != nil || body.url != nil || body.serialRequired != nil || body.profile != nil
            ? try await AdminController.answer { try await self.store.account(name)?.kind } : nil
        let changes = try body.changes(account: name, kind: kind)
        return AccountAnswer(
            account: try await AdminController.answer {
                var account: RedirectAccount?
                if body.changesSettings || !changes.makeDefault {
                    account = try await self.store.updateAccount(
                        name: name, changes: changes, actor: context.adminActor)
                }
                if changes.makeDefault {
                    account = try await self.store.makeVendorDefault(name: name, actor: context.adminActor)
                }
                guard let account else { throw StoreError.invalid("nothing to change") }
                return account
            })
    }

    @Sendable func remove(request: Request, context: ProvHookRequestContext) async throws -> HTTPResponse.Status {
        let name = context.parameters.get("account") ?? ""
        try await AdminController.answer { try await self.store.removeAccount(name: name, actor: context.adminActor) }
        return .noContent
    }
}
