import ArgumentParser
import Foundation
import ProvHookCore
import SnomRedirect

/// `provhook status`: one screen for an operator.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the database, the redirection credentials, devices by status, the journal's seal and sources.",
        discussion: """
            Exits 0 when all is well; 1 when the database is not migrated, or the redirection service refuses the \
            credentials or cannot be reached; 3 when the database cannot be reached. The credentials are checked \
            with one redirect.checkPhone call, which changes nothing.
            """)
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var redirect: RedirectOptions

    /// The status as `--json` prints it.
    struct Report: Encodable {
        var database: String
        var schema: [String: Int]
        var redirection: String
        var redirectionOK: Bool
        var fleet: FleetStatus

        enum CodingKeys: String, CodingKey {
            case database, schema, redirection, fleet
            case redirectionOK = "redirection_ok"
        }
    }

    /// The MAC that the credentials check asks about: Snom's own prefix and no phone's MAC.
    static let probeMAC = MACAddress("000413000000")!

    func run() async throws {
        let url = try self.database.url
        let (fleet, schema) = try await self.database.withStore { store in
            (try await store.fleetStatus(), try await store.schemaVersion())
        }
        let (redirection, redirectionOK) = await self.checkCredentials()
        let report = Report(
            database: "\(url)", schema: ["applied": schema.applied, "expected": schema.expected],
            redirection: redirection, redirectionOK: redirectionOK, fleet: fleet)
        let migrated = schema.applied >= schema.expected
        if self.redirect.json {
            try printJSON(report)
        } else {
            self.printText(report, migrated: migrated)
        }
        if !migrated || !redirectionOK {
            throw CLIFailure(
                message: !migrated ? "the database is not migrated; run `provhook migrate`" : redirection,
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

    func printText(_ report: Report, migrated: Bool) {
        let fleet = report.fleet
        var lines: [(String, String)] = [
            (
                "database",
                (migrated ? "ok: " : "NOT MIGRATED: ")
                    + "\(report.database), migration \(report.schema["applied"] ?? -1) of \(report.schema["expected"] ?? 0)"
            ),
            ("redirection", report.redirectionOK ? report.redirection : "FAILING: \(report.redirection)"),
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
