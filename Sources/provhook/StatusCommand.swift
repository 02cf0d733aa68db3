import ArgumentParser
import Foundation
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import VendorRegistry

/// `provhook status`: one screen for an operator.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the database, the redirection credentials, devices by status, the journal's seal and sources.",
        discussion: """
            Exits 0 when all is well; 1 when the database is not migrated, or the redirection service refuses the \
            credentials of any of our accounts or cannot be reached; 3 when the database cannot be reached. Each \
            redirection account's credentials are checked with one redirect.checkPhone call, which changes nothing.
            """)
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var redirect: RedirectOptions

    /// The status as `--json` prints it.
    struct Report: Encodable {
        var database: String
        var schema: [String: Int]
        var redirection: String
        var redirectionOK: Bool
        /// Each redirection account other than `default`: its credentials check, as `redirection` says it.
        var accounts: [String: String]
        var fleet: FleetStatus

        enum CodingKeys: String, CodingKey {
            case database, schema, redirection, accounts, fleet
            case redirectionOK = "redirection_ok"
        }
    }

    /// The MAC that the credentials check asks about: Snom's own prefix and no phone's MAC.
    static let probeMAC = MACAddress("000413000000")!

    func run() async throws {
        let url = try self.database.url
        let (fleet, schema, accounts) = try await self.database.withStore {
            store -> (FleetStatus, (applied: Int, expected: Int), Result<[AccountCredentials], any Error>) in
            let accounts: Result<[AccountCredentials], any Error>
            do {
                accounts = .success(try await store.accountCredentials())
            } catch {
                accounts = .failure(error)
            }
            return (try await store.fleetStatus(), try await store.schemaVersion(), accounts)
        }
        let (redirection, defaultOK) = await self.checkCredentials()
        let accountChecks = await self.checkAccounts(accounts)
        let redirectionOK = defaultOK && accountChecks.allSatisfy { $0.value.ok }
        let report = Report(
            database: "\(url)", schema: ["applied": schema.applied, "expected": schema.expected],
            redirection: redirection, redirectionOK: redirectionOK,
            accounts: accountChecks.mapValues { $0.text }, fleet: fleet)
        let migrated = schema.applied >= schema.expected
        if self.redirect.json {
            try printJSON(report)
        } else {
            self.printText(report, migrated: migrated)
        }
        if !migrated || !redirectionOK {
            let failing = accountChecks.filter { !$0.value.ok }.keys.sorted()
            throw CLIFailure(
                message: !migrated
                    ? "the database is not migrated; run `provhook migrate`"
                    : defaultOK ? "the credentials of account(s) \(failing.joined(separator: ", ")) fail" : redirection,
                exitCode: 1)
        }
    }

    /// One `checkPhone` call: any answer of the service, `Error:` included, means it took the credentials.
    func checkCredentials() async -> (String, Bool) {
        let endpoint = self.redirect.redirectURL ?? Settings().value(nil, "PROVHOOK_REDIRECT_URL") ?? "?"
        var options = self.redirect
        options.json = false  // the failure goes into the report, not out on its own
        do {
            _ = try await options.withClient { try await $0.checkPhone(Self.probeMAC) }
            return ("ok: \(endpoint) accepts the credentials", true)
        } catch let failure as CLIFailure {
            return (failure.message, false)
        } catch {
            return ("\(error)", false)
        }
    }

    /// One credentials check per account other than `default` (`checkPhone`, or for SRAPS one read of the key's
    /// token), with its own credentials and the installation's settings for what it does not set.
    func checkAccounts(
        _ loaded: Result<[AccountCredentials], any Error>
    ) async -> [String: (text: String, ok: Bool)] {
        let accounts: [AccountCredentials]
        do {
            accounts = try loaded.get().filter { !$0.isDefault }
        } catch {
            return ["(accounts)": ("cannot read the accounts: \(error)", false)]
        }
        guard !accounts.isEmpty else { return [:] }
        var options = self.redirect
        options.json = false
        var results: [String: (text: String, ok: Bool)] = [:]
        do {
            try await options.withClient { client in
                let makeService = AccountService.standardFactory(
                    default: client, base: client.configuration, logger: cliLogger())
                for account in accounts {
                    let endpoint = account.serviceURL(base: client.configuration)
                    var made: AccountService?
                    do {
                        made = try makeService(account)
                        try await made?.service.checkCredentials()
                        results[account.name] = ("ok: \(endpoint) accepts the credentials", true)
                    } catch {
                        results[account.name] = ("\(error)", false)
                    }
                    await made?.close?()
                }
            }
        } catch {
            for account in accounts where results[account.name] == nil {
                results[account.name] = ("not checked: the installation's settings fail (\(error))", false)
            }
        }
        return results
    }

    func printText(_ report: Report, migrated: Bool) {
        let fleet = report.fleet
        var lines: [(String, String)] = [
            (
                "database",
                (migrated ? "ok: " : "NOT MIGRATED: ")
                    + "\(report.database), migration \(report.schema["applied"] ?? -1) of \(report.schema["expected"] ?? 0)"
            ),
            (
                "redirection",
                report.redirection.hasPrefix("ok:") ? report.redirection : "FAILING: \(report.redirection)"
            ),
            (
                "devices",
                DeviceStatus.allCases.map { "\($0.rawValue) \(fleet.devicesByStatus[$0.rawValue] ?? 0)" }
                    .joined(separator: ", ")
            ),
            (
                "oldest waiting",
                fleet.oldestWaiting.map {
                    "\($0.mac) (\($0.tenantID ?? "unclaimed")) since \($0.since.iso8601), "
                        + "\(Int(Date().timeIntervalSince($0.since))) s"
                } ?? "none"
            ),
            (
                "journal",
                "\(fleet.journal.lastID ?? 0) row(s); "
                    + (fleet.journal.lastSealedID.map { id in
                        "sealed through row \(id) at \(fleet.journal.lastSealedAt?.iso8601 ?? "?"), "
                            + "\(fleet.journal.unsealed) not sealed yet"
                    } ?? "never sealed (provhook journal seal, or serve seals it)")
            ),
        ]
        lines.insert(
            contentsOf: report.accounts.sorted { $0.key < $1.key }.map { name, check in
                ("account \(name)", check.hasPrefix("ok:") ? check : "FAILING: \(check)")
            }, at: 2)
        for source in fleet.sources {
            lines.append(
                (
                    "source \(source.name)",
                    "\(source.kind): last event \(source.lastEventAt?.iso8601 ?? "never"), last sync "
                        + (source.lastSyncAt?.iso8601 ?? "never")
                        + (source.lastSyncError.map { " (failed: \($0))" } ?? "")
                ))
        }
        let width = lines.map(\.0.count).max() ?? 0
        for (label, value) in lines {
            print(label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + terminalSafe(value))
        }
    }
}
