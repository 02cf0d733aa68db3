import ArgumentParser
import Foundation
import ProvHookCore
import ProvisioningModel
import VendorRegistry

/// `provhook account …`: the provisioning-service accounts that tenants' devices are registered with.
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Manage provisioning-service accounts (one per reseller, for example).",
        discussion: """
            A MAC registered at a vendor's provisioning service belongs to the account that registered it. An \
            account has a kind, the service it is for: snom (Snom's XML-RPC redirection service, --user and \
            --password-file) is the default; snom-sraps (Snom SRAPS, --key-id and --key-secret-file); yealink-rps \
            (Yealink RPS over XML-RPC, --user and --password-file, --override to take MACs other RPS accounts hold); \
            yealink-ymcs (Yealink YMCS, --client-id, --client-secret-file and --region, --serial-required for an \
            account not enabled for MAC-only registration); \
            poly-ztp (Poly Zero Touch Provisioning, --api-key-file and no user, --profile ID to assign every phone to \
            a profile of your own instead of provhook's, one per provisioning server); htek and akuvox (Htek's and \
            Akuvox's RPS over XML-RPC, --user and --password-file, --override; Akuvox's published address is plain \
            http://, called only with PROVHOOK_REDIRECT_ALLOW_HTTP=1); panasonic (Panasonic's redirection service \
            over XML-RPC, --user and --password-file); gigaset-grape (Gigaset GRAPE, SRAPS's API: --key-id and \
            --key-secret-file); fanvil (Fanvil FDPS over XML-RPC, --user and --password-file; its published address \
            is plain http://, called only with PROVHOOK_REDIRECT_ALLOW_HTTP=1); gigaset (Gigaset's auto-provisioning service over XML-RPC, \
            --user and --password-file; each phone is registered with the code printed on it, its gigaset_code, \
            and waits as waiting_for_code without one). Each tenant's \
            devices are registered with its account for their vendor (`tenant add|update --account`, one per \
            vendor). The account `default` is the \
            installation's own: PROVHOOK_REDIRECT_URL, _USER, _PASSWORD_FILE, _CA_FILE and _CONCURRENCY, and Snom's \
            default account: the one that serves a vendor's phones of every tenant that names no account for it \
            (--default makes another account its vendor's default). A password \
            is stored encrypted under PROVHOOK_SECRET_KEY_FILE, or, with --password-by-reference, left in its file \
            for serve to read. serve picks up added, changed and removed accounts within 10 seconds.
            """,
        subcommands: [Add.self, List.self, Update.self, Remove.self])

    /// The settings `add` and `update` share.
    struct Settings: ParsableArguments {
        @Option(help: "The service's basic-auth user (kind snom).") var user: String?
        @Option(help: "A file holding the password (its first line).") var passwordFile: String?
        @Option(help: "The API key's Access Key ID (snom-sraps, gigaset-grape).") var keyID: String?
        @Option(help: "A file holding the API key's Access Key Secret (its first line).") var keySecretFile: String?
        @Option(help: "The OAuth client's id: the AccessKey ID (yealink-ymcs).") var clientID: String?
        @Option(help: "A file holding the OAuth client's secret (its first line).") var clientSecretFile: String?
        @Option(help: "A file holding the API key (poly-ztp), which is the whole credential.") var apiKeyFile: String?
        @Flag(help: "Store the password file's path, not the password: serve reads the file at start.")
        var passwordByReference = false
        @Option(help: "The XML-RPC endpoint, trailing slash included (default: PROVHOOK_REDIRECT_URL).") var url:
            String?
        @Option(help: "The YMCS region whose API the account calls: us, eu or au (yealink-ymcs; or --url).")
        var region: String?
        @Option(help: "Extra PEM trust roots for the endpoint (default: PROVHOOK_REDIRECT_CA_FILE).") var caFile:
            String?
        @Option(help: "Calls in flight at most, 1 to 64 (default: PROVHOOK_REDIRECT_CONCURRENCY).") var concurrency:
            Int?
        @Flag(
            inversion: .prefixedNo,
            help: """
                Take MACs another account of the service holds, with the service's override flag (yealink-rps, htek, \
                akuvox); \
                without it such a MAC is a conflict.
                """)
        var override: Bool?
        @Flag(
            inversion: .prefixedNo,
            help: """
                Register phones by serial number: the service has not enabled MAC-only registration for the account \
                (yealink-ymcs; learned from the service when it says so).
                """)
        var serialRequired: Bool?
        @Option(
            help: """
                The service's profile to assign the account's phones to (poly-ztp); `none`: one of provhook's own per \
                provisioning URL.
                """)
        var profile: String?

        /// The account's identity at its service: a user, an API key's id or an OAuth client's id; one at most.
        var identity: String? {
            get throws {
                let given = [self.user, self.keyID, self.clientID].compactMap { $0 }
                if given.count > 1 { throw ValidationError("give one of --user, --key-id and --client-id") }
                return given.first
            }
        }

        /// The file of its secret: a password, an API key's secret, an OAuth client's secret or an API key; one at
        /// most.
        var secretFile: String? {
            get throws {
                let given = [self.passwordFile, self.keySecretFile, self.clientSecretFile, self.apiKeyFile]
                    .compactMap { $0 }
                if given.count > 1 {
                    throw ValidationError(
                        "give one of --password-file, --key-secret-file, --client-secret-file and --api-key-file")
                }
                return given.first
            }
        }

        func changes(kind: ServiceKind? = nil) throws -> AccountChanges {
            var password: AccountPassword?
            if let file = try self.secretFile {
                let path = URL(fileURLWithPath: file).standardizedFileURL.path
                if self.passwordByReference {
                    // Read now, so that a path serve could not read is refused here rather than at its start.
                    _ = try Store.readPasswordFile(path, account: "")
                    password = .file(path)
                } else {
                    password = .sealed(try Store.readPasswordFile(path, account: ""))
                }
            } else if self.passwordByReference {
                throw ValidationError("--password-by-reference needs --password-file or --key-secret-file")
            }
            var url = self.url.map { $0 == "default" ? nil : $0 }
            if let region = self.region {
                guard self.url == nil else { throw ValidationError("give --region or --url, not both") }
                guard let regionURL = ServiceRegistry.ymcsRegionURL(region) else {
                    throw ValidationError("--region is us, eu or au")
                }
                url = regionURL
            }
            return AccountChanges(
                kind: kind, user: try self.identity, password: password,
                url: url,
                caFile: self.caFile.map { $0 == "default" ? nil : URL(fileURLWithPath: $0).standardizedFileURL.path },
                concurrency: self.concurrency.map { $0 }, override: self.override,
                serialRequired: self.serialRequired, profile: self.profile.map { $0 == "none" ? nil : $0 })
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an account.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The account's name: 1 to 63 letters, digits, '_', '.' or '-'.") var name: String
        @Option(
            help:
                "The service the account is for: \(ServiceRegistry.standardKinds.map(\.rawValue).joined(separator: ", "))."
        )
        var kind: String = ServiceKind.snomXMLRPC.rawValue
        @OptionGroup var settings: Settings
        @Flag(
            help: """
                Make it its vendor's default account: it serves that vendor's phones of every tenant that names no \
                account for the vendor, and those waiting for one (no_account_for_vendor) are delivered now.
                """)
        var `default` = false
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard try self.settings.secretFile != nil else {
                throw ValidationError(
                    "an account needs its secret: --password-file, --key-secret-file, --client-secret-file or --api-key-file"
                )
            }
            _ = try self.serviceKind
        }

        var serviceKind: ServiceKind {
            get throws {
                do {
                    return try ServiceRegistry.standardKind(named: self.kind)
                } catch {
                    throw ValidationError("--\(error.description)")
                }
            }
        }

        func run() async throws {
            let kind = try self.serviceKind
            var changes = try self.settings.changes(kind: kind)
            do {
                try ServiceRegistry.check(kind: kind, changes: changes, adding: true)
            } catch {
                throw CLIFailure.input(error.description)
            }
            changes.makeDefault = self.default
            let account = try await self.database.withStore { store in
                try await store.addAccount(name: self.name, changes: changes, actor: cliActor)
            }
            if self.json { return try printJSON(account) }
            print(
                "added account \(account.name) (kind \(account.kind), user \(account.user ?? "-"), secret \(account.passwordStorage?.rawValue ?? "-"))"
                    + (account.isVendorDefault
                        ? "; the default for \(account.vendor?.displayName ?? "its vendor")" : "")
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let accounts = try await self.database.withStore { try await $0.accounts() }
            if self.json { return try printJSON(accounts) }
            printTable(
                [
                    "NAME", "KIND", "VENDOR", "DEFAULT", "USER", "PASSWORD", "URL", "CONCURRENCY", "OVERRIDE",
                    "TENANTS",
                    "DEVICES",
                ],
                accounts.map { account in
                    let password: String
                    switch account.passwordStorage {
                    case .sealed: password = "sealed"
                    case .file: password = "file \(account.passwordFile ?? "")"
                    case nil: password = account.isDefault ? "environment" : "-"
                    }
                    let fromEnvironment = account.isDefault ? "environment" : "default"
                    return [
                        account.name, account.kind.rawValue, account.vendor?.rawValue ?? "-",
                        account.isVendorDefault ? "yes" : "-",
                        account.user ?? "environment", password,
                        account.url ?? fromEnvironment,
                        account.concurrency.map(String.init) ?? fromEnvironment, account.override ? "yes" : "-",
                        String(account.tenants),
                        String(account.devices),
                    ]
                })
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Change an account's user, password, URL, CA file or concurrency, or make it its vendor's default.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @OptionGroup var settings: Settings
        @Flag(
            help: """
                Make it its vendor's default account in place of the current one: the phones it serves move to it \
                (`default` too, to make it Snom's default again).
                """)
        var `default` = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let changes = try self.settings.changes()
            let secretFile = try self.settings.secretFile
            let changesSettings =
                self.settings.user != nil || self.settings.keyID != nil || secretFile != nil
                || self.settings.url != nil || self.settings.caFile != nil || self.settings.concurrency != nil
                || self.settings.region != nil || self.settings.override != nil || self.settings.serialRequired != nil
                || self.settings.profile != nil
            let account = try await self.database.withStore { store in
                if let kind = try await store.account(self.name)?.kind {
                    try ServiceRegistry.check(kind: kind, changes: changes)
                }
                var account: RedirectAccount?
                if changesSettings || !self.default {
                    account = try await store.updateAccount(name: self.name, changes: changes, actor: cliActor)
                }
                if self.default {
                    account = try await store.makeVendorDefault(name: self.name, actor: cliActor)
                }
                guard let account else { throw CLIFailure.input("nothing to change") }
                return account
            }
            if self.json { return try printJSON(account) }
            print(
                "updated account \(account.name)"
                    + (self.default ? "; the default for \(account.vendor?.displayName ?? "its vendor")" : ""))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an account that no tenant uses and that holds no device.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String

        func run() async throws {
            try await self.database.withStore { store in try await store.removeAccount(name: self.name, actor: cliActor)
            }
            print("removed account \(self.name)")
        }
    }
}
