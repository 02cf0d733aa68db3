import ArgumentParser
import Foundation
import Integrations
import ProvHookCore

/// `provhook source …`: PBX platforms' own webhooks.
struct SourceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "source", abstract: "Manage inbound sources (a PBX platform's own webhooks).",
        subcommands: [Add.self, List.self, Update.self, Sync.self, RotateToken.self, Remove.self])

    /// What `add` and `rotate-token` print with `--json`.
    struct SourceWithToken: Encodable {
        var source: Source
        var token: String

        func encode(to encoder: any Encoder) throws {
            try self.source.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(self.token, forKey: .token)
        }

        enum Key: String, CodingKey { case token }
    }

    static func show(_ source: Source, token: String?, json: Bool, verb: String) throws {
        if json {
            if let token { return try printJSON(SourceWithToken(source: source, token: token)) }
            return try printJSON(source)
        }
        let owner = source.tenantID.map { "tenant \($0)" } ?? "its mapped accounts"
        print("\(verb) source \(source.name) (\(source.kind.rawValue)) for \(owner)")
        for (account, tenant) in source.accounts.sorted(by: { $0.key < $1.key }) {
            print("  Kazoo account \(account) -> tenant \(tenant)")
        }
        if let api = source.api { print("PBX API for lookups: \(api.url)\(api.user.map { " as \($0)" } ?? "")") }
        print("webhook path: \(source.path)")
        if let token { print("token (shown only now; put it in the hook's URL as ?token=…): \(token)") }
    }

    /// `--account ACCOUNT=TENANT`, repeated.
    static func accounts(_ values: [String]) throws -> [String: String] {
        var accounts: [String: String] = [:]
        for value in values {
            let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw CLIFailure.input(
                    "--account takes KAZOO_ACCOUNT_ID=TENANT, got \(value.prefix(80).debugDescription)")
            }
            accounts[parts[0]] = parts[1]
        }
        return accounts
    }

    /// A mapping file, read and checked.
    static func mapping(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIFailure.input("--mapping: cannot read \(path)")
        }
        do {
            _ = try SourceMapping(adding: Array(data))
        } catch {
            throw CLIFailure.input("--mapping \(path): \(error)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The PBX API options; its secret only ever comes from a file.
    struct APIOptions: ParsableArguments {
        @Option(help: "The PBX API for lookups: Kazoo crossbar with /v2 (https://kazoo:8443/v2), or the Wazo host.")
        var apiURL: String?
        @Option(help: "Kazoo: a file holding the crossbar API key.") var apiKeyFile: String?
        @Option(help: "Wazo: the wazo-auth user (a web-service user that may read confd devices).") var apiUser: String?
        @Option(help: "Wazo: a file holding the user's password.") var apiPasswordFile: String?
        @Option(help: "A PEM file of CAs to trust for the API besides the system's.") var apiCAFile: String?
        @Option(help: "Wazo: the tenant uuid to act in (Wazo-Tenant).") var apiTenant: String?
        @Option(help: "FusionPBX: the domain (v_domains.domain_name) whose devices the source reads.") var domain:
            String?
        @Option(
            help:
                "FusionPBX: its database, postgres://user:password@host:port/fusionpbx (a read-only login); prefer --pbx-database-url-file, since ps shows a command line to every user."
        )
        var pbxDatabaseURL: String?
        @Option(help: "FusionPBX: a file holding that URL.") var pbxDatabaseURLFile: String?

        var isEmpty: Bool {
            [
                self.apiURL, self.apiKeyFile, self.apiUser, self.apiPasswordFile, self.apiCAFile, self.apiTenant,
                self.domain, self.pbxDatabaseURL, self.pbxDatabaseURLFile,
            ].allSatisfy { $0 == nil }
        }

        /// FusionPBX's database and domain, as a source's API: the URL without its password, the URL as the secret.
        func resolveFusionPBX() throws -> (SourceAPI, secret: String) {
            guard self.apiURL == nil, self.apiKeyFile == nil, self.apiUser == nil, self.apiPasswordFile == nil else {
                throw CLIFailure.input("a FusionPBX source takes --domain and --pbx-database-url(-file), no --api-*")
            }
            var text = self.pbxDatabaseURL
            if let file = self.pbxDatabaseURLFile {
                guard text == nil, let data = FileManager.default.contents(atPath: file) else {
                    throw CLIFailure.input(
                        "cannot read --pbx-database-url-file \(file) (or both URL options were given)")
                }
                text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let text, let domain = self.domain else {
                throw CLIFailure.input(
                    "a FusionPBX source needs --domain and --pbx-database-url-file (or --pbx-database-url)")
            }
            let url: DatabaseURL
            do {
                url = try DatabaseURL(text)
            } catch {
                throw CLIFailure.input("--pbx-database-url: \(error.description)")
            }
            if self.pbxDatabaseURL != nil, url.password != nil {
                FileHandle.standardError.write(
                    Data(
                        "warning: --pbx-database-url puts the database password on the command line, where `ps` shows it to every user of this host; use --pbx-database-url-file\n"
                            .utf8))
            }
            return (SourceAPI(url: url.description, tenant: domain), text)
        }

        /// The API and its secret, or nil when no option was given.
        func resolve(kind: SourceKind) throws -> (SourceAPI, secret: String)? {
            guard !self.isEmpty else { return nil }
            if kind == .fusionpbx { return try self.resolveFusionPBX() }
            guard self.domain == nil, self.pbxDatabaseURL == nil, self.pbxDatabaseURLFile == nil else {
                throw CLIFailure.input("--domain and --pbx-database-url(-file) are for --kind fusionpbx")
            }
            guard let url = self.apiURL else { throw CLIFailure.input("the --api-* options need --api-url") }
            let secretFile: String
            switch (kind, self.apiKeyFile, self.apiPasswordFile) {
            case (.kazoo, let file?, nil): secretFile = file
            case (.wazo, nil, let file?): secretFile = file
            case (.kazoo, _, _): throw CLIFailure.input("a Kazoo API takes --api-key-file (and no --api-password-file)")
            case (.wazo, _, _): throw CLIFailure.input("a Wazo API takes --api-user and --api-password-file")
            case (.mapping, _, _), (.fusionpbx, _, _): throw CLIFailure.input("a mapping source has no PBX API")
            }
            guard let data = FileManager.default.contents(atPath: secretFile),
                let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
                !text.isEmpty
            else { throw CLIFailure.input("cannot read the API secret from \(secretFile)") }
            let caFile = self.apiCAFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            let api = SourceAPI(url: url, user: self.apiUser, caFile: caFile, tenant: self.apiTenant)
            do {
                try api.checkTransport(allowsHTTP: Settings().allowsPlainHTTPPBX)
            } catch {
                throw CLIFailure.input(error.description)
            }
            return (api, text)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a source; prints its token once.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "Source name, as it appears in /v1/sources/{name}/events.") var name: String
        @Option(
            help: "kazoo (2600Hz Kazoo object webhooks), wazo (Wazo webhookd device events) or mapping (any other).")
        var kind: String
        @Option(help: "The tenant whose devices the source's events change.") var tenant: String?
        @Option(
            name: .customLong("account"),
            help: "Kazoo: KAZOO_ACCOUNT_ID=TENANT, repeated, for one hook on a reseller account (include_subaccounts).")
        var accounts: [String] = []
        @Option(help: "For --kind mapping: the mapping file (JSON; see docs/platforms.md, \"Mapped panels\").")
        var mapping: String?
        @OptionGroup var api: APIOptions
        @Option(help: "Let provhook serve sync the source with its PBX every SECONDS (60 to 604800); needs --api-url.")
        var syncInterval: Int?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let kind = SourceKind(rawValue: self.kind) else {
                throw CLIFailure.input(
                    "--kind must be one of: \(SourceKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let mapping: String?
            switch (kind, self.mapping) {
            case (.mapping, let path?): mapping = try SourceCommand.mapping(path)
            case (.mapping, nil): throw CLIFailure.input("--kind mapping needs --mapping FILE")
            case (_, _?): throw CLIFailure.input("--mapping is only for --kind mapping")
            case (_, nil): mapping = nil
            }
            let accounts = try SourceCommand.accounts(self.accounts)
            let api = try self.api.resolve(kind: kind)
            // FusionPBX sends no webhooks: it is synced every 5 minutes unless told otherwise.
            let interval = self.syncInterval.map { $0 == 0 ? nil : $0 } ?? (kind == .fusionpbx ? 300 : nil)
            let (source, token) = try await self.database.withStore(needsSecrets: true) { store in
                try await store.addSource(
                    name: self.name, kind: kind, tenantID: self.tenant, mapping: mapping, accounts: accounts, api: api,
                    syncInterval: interval, actor: cliActor)
            }
            try SourceCommand.show(source, token: token, json: self.json, verb: "added")
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a source's tenant, accounts, mapping or PBX API; its token stays.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @Option(help: "The source's own tenant.") var tenant: String?
        @Flag(help: "Kazoo: no own tenant; only the mapped accounts are served.") var noTenant = false
        @Option(name: .customLong("account"), help: "Kazoo: map KAZOO_ACCOUNT_ID=TENANT; repeatable.")
        var accounts: [String] = []
        @Option(name: .customLong("unmap-account"), help: "Kazoo: stop serving this account; repeatable.")
        var unmapAccounts: [String] = []
        @Option(help: "For a mapping source: a new mapping file.") var mapping: String?
        @OptionGroup var api: APIOptions
        @Flag(help: "Remove the source's PBX API: events that need a lookup are rejected from then on.")
        var removeAPI = false
        @Option(help: "Sync the source with its PBX every SECONDS (60 to 604800) in provhook serve; 0 stops it.")
        var syncInterval: Int?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            if self.noTenant, self.tenant != nil {
                throw CLIFailure.input("--tenant and --no-tenant exclude each other")
            }
            if self.removeAPI, !self.api.isEmpty { throw CLIFailure.input("--remove-api excludes the --api-* options") }
            let mapping = try self.mapping.map(SourceCommand.mapping)
            let accounts = try SourceCommand.accounts(self.accounts)
            let source = try await self.database.withStore(needsSecrets: true) { store in
                var api: (SourceAPI, secret: String)?? = self.removeAPI ? .some(nil) : nil
                if !self.api.isEmpty {
                    guard let kind = try await store.sources().first(where: { $0.name == self.name })?.kind else {
                        throw StoreError.notFound("no source \(self.name.debugDescription)")
                    }
                    api = .some(try self.api.resolve(kind: kind))
                }
                let tenant: String?? = self.noTenant ? .some(nil) : self.tenant.map { .some($0) }
                return try await store.updateSource(
                    name: self.name,
                    SourceUpdate(
                        tenantID: tenant, mapping: mapping, mapAccounts: accounts, unmapAccounts: self.unmapAccounts,
                        api: api, syncInterval: self.syncInterval.map { $0 == 0 ? nil : $0 }), actor: cliActor)
            }
            try SourceCommand.show(source, token: nil, json: self.json, verb: "updated")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sources.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Include removed sources.") var all = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let sources = try await self.database.withStore { try await $0.sources(includeRemoved: self.all) }
            if self.json { return try printJSON(sources) }
            printTable(
                ["NAME", "KIND", "TENANT", "ACCOUNTS", "API", "SYNC", "LAST SYNC", "CREATED", "REMOVED", "PATH"],
                sources.map {
                    [
                        $0.name, $0.kind.rawValue, $0.tenantID ?? "-",
                        $0.accounts.isEmpty
                            ? "-"
                            : $0.accounts.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }
                                .joined(separator: ","),
                        $0.api?.url ?? "-", $0.syncInterval.map { "every \($0) s" } ?? "-",
                        $0.lastSync.map {
                            "\($0.at.iso8601) \($0.error == nil ? "ok" : "error: \($0.error!.prefix(80))")"
                        }
                            ?? "-",
                        $0.createdAt.iso8601, $0.removedAt?.iso8601 ?? "-", $0.path,
                    ]
                })
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read every device from the source's PBX and make provhook's devices match.",
            discussion: """
                A device the PBX lists (enabled, with a MAC) that provhook does not hold registered becomes the \
                event a webhook would have sent; a device of this source that the PBX no longer lists, or lists \
                disabled, is deregistered. Journaled with the actor sync:NAME. Exits 1 when something could not \
                be read or recorded, or when the mass-removal guard held removals back. A sync always ends: a PBX \
                that gives no page within --stall-seconds, or answers a page's cursor again, fails it (and nothing \
                is deregistered), as does a run past --max-seconds or --max-devices.
                """)
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @Flag(help: "Report what would change; change nothing.") var dryRun = false
        @Flag(help: "Deregister even when more than --max-removal-percent of a tenant's devices would go.")
        var allowMassRemoval = false
        @Option(help: "The share of a tenant's devices from this source that one sync may deregister.")
        var maxRemovalPercent = 10.0
        @Option(help: "Devices asked for per page.") var pageSize = 200
        @Option(
            help:
                "Fail when the PBX gives no page within SECONDS (PROVHOOK_SYNC_STALL_SECONDS, default 60, 1 to 3600).")
        var stallSeconds: Int?
        @Option(help: "Fail a sync that runs longer (PROVHOOK_SYNC_MAX_SECONDS, default 3600, 1 to 86400).")
        var maxSeconds: Int?
        @Option(help: "Fail a sync that lists more devices (PROVHOOK_SYNC_MAX_DEVICES, default 1000000).")
        var maxDevices: Int?
        @Option(
            help:
                "How long one request to the PBX, or one FusionPBX statement, may take (PROVHOOK_SYNC_READ_TIMEOUT_SECONDS, default 10, 1 to 300)."
        )
        var readTimeoutSeconds: Int?
        @Flag(help: "Print the summary as JSON.") var json = false

        func run() async throws {
            guard (0...100).contains(self.maxRemovalPercent), (1...500).contains(self.pageSize) else {
                throw CLIFailure.input("--max-removal-percent is 0 to 100, --page-size 1 to 500")
            }
            let limits: SourceSync.Limits
            do {
                limits = try Settings().syncLimits(
                    stallSeconds: self.stallSeconds, maxSeconds: self.maxSeconds, maxDevices: self.maxDevices,
                    readTimeoutSeconds: self.readTimeoutSeconds)
            } catch {
                throw CLIFailure.input(error.description)
            }
            let prefixes = try cliVendorPrefixes()
            let summary = try await self.database.withStore(needsSecrets: true) { store in
                let (sync, client): (SourceSync, any DeviceDirectory)
                do {
                    (sync, client) = try await SourceSync.prepare(
                        source: self.name, store: store, planner: EventPlanner(prefixes: prefixes),
                        pageSize: self.pageSize, limits: limits, factory: Platforms.makeDirectory, logger: cliLogger())
                } catch let error as SourceSync.Unavailable {
                    throw CLIFailure.input(error.description)
                } catch let error as DirectoryError {
                    throw CLIFailure(message: error.description, exitCode: CLIFailure.transportExitCode)
                }
                let result: Result<SourceSync.Summary, any Error>
                do {
                    result = .success(
                        try await sync.run(
                            dryRun: self.dryRun, allowMassRemoval: self.allowMassRemoval,
                            maxRemovalShare: self.maxRemovalPercent / 100
                        ) { line in FileHandle.standardError.write(Data((line + "\n").utf8)) })
                } catch {
                    result = .failure(error)
                }
                await client.shutdown()
                return try result.get()
            }
            if self.json {
                try printJSON(summary)
            } else {
                print(
                    "\(self.dryRun ? "dry run: " : "")\(summary.listed) listed, \(summary.unchanged) unchanged, \(summary.registered) registered, \(summary.deregistered) deregistered, \(summary.disabled) disabled, \(summary.withoutMAC) without MAC, \(summary.rejected) rejected"
                )
                for error in summary.errors { print("error: \(error)") }
            }
            if let first = summary.stopMessage ?? summary.errors.first {
                // One line that says why: what stopped the run, else its first error (all are in the summary).
                let reason = first.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(300)
                throw CLIFailure(
                    message: "the sync is incomplete\(summary.stopped.map { " (\($0.rawValue))" } ?? ""): \(reason)",
                    exitCode: 1)
            }
        }
    }

    struct RotateToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-token", abstract: "Give a source a new token (printed once); the old one stops.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let (source, token) = try await self.database.withStore(needsSecrets: true) { store in
                try await store.rotateSourceToken(name: self.name, actor: cliActor)
            }
            try SourceCommand.show(source, token: token, json: self.json, verb: "rotated the token of")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a source: its webhooks are answered 404. Its tenant's devices stay.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String

        func run() async throws {
            try await self.database.withStore { try await $0.removeSource(name: self.name, actor: cliActor) }
            print("removed source \(self.name)")
        }
    }
}
