import ArgumentParser
import Foundation
import ProvHookCore
import ProvisioningModel

/// `provhook tenant …`: the PBX customers whose webhooks provhook accepts.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants.",
        subcommands: [Add.self, List.self, Update.self, Remove.self, Reseal.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a tenant; prints its webhook secret once.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "Tenant id, as it appears in /v1/tenants/{id}/events.") var id: String
        @Option(
            help: """
                Provisioning URL template; <mac> becomes the MAC as 12 uppercase hex digits. Repeat as \
                VENDOR=TEMPLATE (yealink=https://…) for the phones of one vendor.
                """)
        var urlTemplate: [String]
        @Option(help: "Display name (default: the id).") var name: String?
        @Flag(help: "Also accept Authorization: Bearer <secret> for panels that cannot sign.") var allowBearer = false
        @Option(help: "Comma-separated MAC prefixes (1-12 hex digits) the tenant may claim (default: any).")
        var macPrefixes: String?
        @Option(
            help: """
                An account that registers its vendor's phones, one per vendor; may be repeated. A vendor the tenant \
                names none for is served by that vendor's default account (account add … --default).
                """)
        var account: [String] = []
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let templates = try TenantTemplates(self.urlTemplate)
            guard let template = templates.plain else {
                throw CLIFailure.input("--url-template needs one template for every vendor (without VENDOR=)")
            }
            let vendorTemplates = try templates.byVendor.mapValues { template throws(CLIFailure) in
                guard let template else { throw CLIFailure.input("a new tenant's VENDOR= template may not be empty") }
                return template
            }
            let ranges = try self.macPrefixes.flatMap(parseMACRanges)
            let (tenant, secret) = try await self.database.withStore(needsSecrets: true) { store in
                try await store.addTenant(
                    id: self.id, name: self.name, urlTemplate: template, allowBearer: self.allowBearer,
                    macRanges: ranges, accounts: self.account, vendorURLTemplates: vendorTemplates, actor: cliActor)
            }
            if self.json {
                try printJSON(TenantWithSecret(tenant: tenant, webhookSecret: secret))
            } else {
                print("added tenant \(tenant.id)")
                print("webhook URL path: /v1/tenants/\(tenant.id)/events")
                print("webhook secret (shown only now; configure it in the PBX): \(secret)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Include removed tenants.") var all = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let tenants = try await self.database.withStore { try await $0.tenants(includeRemoved: self.all) }
            if self.json { return try printJSON(tenants) }
            printTable(
                ["ID", "NAME", "ACCOUNTS", "BEARER", "MAC RANGES", "CREATED", "REMOVED", "URL TEMPLATE"],
                tenants.map {
                    [
                        $0.id, $0.name,
                        $0.accounts.isEmpty
                            ? "defaults"
                            : $0.accounts.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: ","),
                        $0.allowBearer ? "yes" : "no",
                        $0.macPrefixes?.joined(separator: ",") ?? "any", $0.createdAt.iso8601,
                        $0.removedAt?.iso8601 ?? "-",
                        ([$0.urlTemplate] + $0.vendorURLTemplates.sorted { $0.key < $1.key }.map { "\($0)=\($1)" })
                            .joined(separator: " "),
                    ]
                })
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a tenant. A new URL template re-points all of its devices; a new account moves them.")
        @OptionGroup var database: DatabaseOptions
        @Argument var id: String
        @Option(
            help: """
                New provisioning URL template; repeat as VENDOR=TEMPLATE for the phones of one vendor, and VENDOR= \
                to let them use the tenant's template again.
                """)
        var urlTemplate: [String] = []
        @Option(help: "New display name.") var name: String?
        @Option(help: "true or false: accept Authorization: Bearer <secret>.") var allowBearer: Bool?
        @Flag(help: "Generate a new webhook secret and print it once.") var rotateSecret = false
        @Option(help: "Comma-separated MAC prefixes the tenant may claim, or `any` to lift the restriction.")
        var macPrefixes: String?
        @Option(
            help: """
                Serve the tenant's phones of this account's vendor with it (may be repeated, one per vendor): each \
                device is deregistered with the account that holds it, then registered with the new one.
                """)
        var account: [String] = []
        @Option(
            help: "Drop the tenant's own account for this vendor: the vendor's default serves it (may be repeated).")
        var dropAccount: [String] = []
        @Flag(
            help:
                "With --url-template or --account: follow the change until no device of the tenant waits (a line every 2 s)."
        )
        var wait = false

        func run() async throws {
            let templates = try TenantTemplates(self.urlTemplate)
            let template = templates.plain
            let dropped = try self.dropAccount.map(parseVendor)
            let ranges: MACRanges?? = try self.macPrefixes.map { $0 == "any" ? nil : try parseMACRanges($0) }
            let update = try await self.database.withStore(needsSecrets: self.rotateSecret) { store in
                try await store.updateTenant(
                    id: self.id, name: self.name, urlTemplate: template, allowBearer: self.allowBearer,
                    macRanges: ranges, rotateSecret: self.rotateSecret, accounts: self.account, dropAccounts: dropped,
                    vendorURLTemplates: templates.byVendor, actor: cliActor)
            }
            print("updated tenant \(update.tenant.id)")
            if let secret = update.newSecret { print("new webhook secret (shown only now): \(secret)") }
            let moves = !self.account.isEmpty || !dropped.isEmpty
            guard !self.urlTemplate.isEmpty || moves else { return }
            let total = max(update.repointedDevices, update.movingDevices)
            let doing =
                moves
                ? "moving \(update.movingDevices) device(s) to "
                    + (self.account.map { "account \($0)" } + dropped.map { "\($0.displayName)'s default account" })
                    .joined(separator: " and ")
                : "re-pointing \(total) device(s)"
            guard self.wait, total > 0 else {
                print("\(doing); follow with `provhook device list --tenant \(self.id)` or --wait")
                return
            }
            print(doing)
            try await self.database.withStore { store in
                while true {
                    let counts = try await store.deviceCounts(tenantID: self.id)
                    let waiting = counts[.pending] ?? 0
                    let (failed, conflict) = (counts[.failed] ?? 0, counts[.conflict] ?? 0)
                    print(
                        "  \(max(0, total - waiting)) of \(total) done, \(waiting) waiting"
                            + (failed + conflict > 0 ? ", \(failed) failed, \(conflict) in conflict" : ""))
                    fflush(nil)  // every stream: the line shows at once through a pipe
                    if waiting == 0 { break }
                    try await Task.sleep(for: .seconds(2))
                }
            }
        }
    }

    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every sealed secret under PROVHOOK_SECRET_KEY_FILE (a key rotation).",
            discussion: """
                Rotating the key: make a new one, give every provhook the new key as PROVHOOK_SECRET_KEY_FILE and \
                the old one as PROVHOOK_PREVIOUS_SECRET_KEY_FILE (so that serve opens both while this runs), run \
                `provhook tenant reseal`, then drop PROVHOOK_PREVIOUS_SECRET_KEY_FILE and destroy the old key. \
                Idempotent; each re-sealed tenant, source and account is journaled as a tenant.update, \
                source.update or account.update (devices' PINs are re-sealed too, without a journal row).
                """)
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (resealed, inventory) = try await self.database.withStore(needsSecrets: true) { store in
                (try await store.resealSecrets(actor: cliActor), try await store.secretsInventory())
            }
            print("re-sealed \(resealed.count) secret(s) under the current key")
            if inventory.inClear > 0 {
                print("\(inventory.inClear) secret(s) are still in clear: run `provhook migrate` with this key")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a tenant: its webhooks are refused and its devices are deregistered.")
        @OptionGroup var database: DatabaseOptions
        @Argument var id: String

        func run() async throws {
            let queued = try await self.database.withStore { try await $0.removeTenant(id: self.id, actor: cliActor) }
            print("removed tenant \(self.id); \(queued) device(s) queued for deregistration")
        }
    }
}

private struct TenantWithSecret: Encodable {
    var tenant: Tenant
    var webhookSecret: String

    func encode(to encoder: any Encoder) throws {
        try self.tenant.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(self.webhookSecret, forKey: .webhookSecret)
    }

    enum Key: String, CodingKey { case webhookSecret = "webhook_secret" }
}

/// `--url-template` given one or more times: one plain template at most, and `VENDOR=TEMPLATE` for a vendor's
/// phones (`VENDOR=` alone: nil, the vendor's template removed).
struct TenantTemplates {
    /// The template for every vendor; nil when none was given.
    var plain: URLTemplate?
    var byVendor: [Vendor: URLTemplate?] = [:]

    init(_ values: [String]) throws {
        for value in values {
            // A URL's scheme ends in ':' before any '=', so text before the first '=' without ':' or '/' is a vendor.
            if let equals = value.firstIndex(of: "="), !value[..<equals].contains(where: { $0 == ":" || $0 == "/" }) {
                let vendor = try parseVendor(String(value[..<equals]))
                guard self.byVendor[vendor] == nil else {
                    throw CLIFailure.input("--url-template gives \(vendor) two templates")
                }
                let text = value[value.index(after: equals)...]
                self.byVendor[vendor] = text.isEmpty ? .some(nil) : try parseTemplate(String(text))
            } else {
                guard self.plain == nil else {
                    throw CLIFailure.input("--url-template gives two templates for every vendor")
                }
                self.plain = try parseTemplate(value)
            }
        }
    }
}

/// A vendor named on the command line: its slug, or a brand such as `Polycom`.
func parseVendor(_ text: String) throws -> Vendor {
    guard let vendor = Vendor(brand: text) else {
        throw CLIFailure.input(
            "\(text.debugDescription) is not a vendor: 1 to 32 letters, digits or '-', like snom or yealink")
    }
    return vendor
}

func parseTemplate(_ text: String) throws -> URLTemplate {
    do {
        return try URLTemplate(text)
    } catch {
        throw CLIFailure.input(error.description)
    }
}

/// Parses `--mac-prefixes`: comma-separated hex prefixes; an input error (exit 2) otherwise.
func parseMACRanges(_ text: String) throws -> MACRanges {
    let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    do {
        guard let ranges = try MACRanges(items) else {
            throw CLIFailure.input("--mac-prefixes needs at least one prefix, such as 000413 (or `any` with update)")
        }
        return ranges
    } catch let error as StoreError {
        throw CLIFailure.input(error.description)
    }
}
