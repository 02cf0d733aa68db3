import ArgumentParser
import Foundation
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import VendorHTTP
import VendorRegistry

/// `provhook reconcile`: finds where the service disagrees with the database and queues fixes.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare every device with the redirection service and queue a fix for each difference.",
        discussion: """
            Registered devices are checked with getPhoneRedirection, deregistered ones with checkPhone; listPhones over \
            the models (PROVHOOK_RECONCILE_MODELS or --models) finds MACs registered to our account that the database \
            does not know. Fixes are applied by the delivery worker of `provhook serve`; reconcile is safe while it runs. \
            Every finding is a journal row. An account whose service cannot say what it holds (Fanvil FDPS) is one \
            not_checkable finding: reported, not a failure (`provhook device retry MAC` applies a device again).
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var redirect: RedirectOptions
    @Option(help: "Only this tenant's devices (unknown MACs are looked for only without it).") var tenant: String?
    @Flag(help: "Report differences; change nothing.") var dryRun = false
    @Flag(help: "Deregister MACs registered to our account that the database does not know.") var prune = false
    @Option(
        help: "Comma-separated models for listPhones (default: PROVHOOK_RECONCILE_MODELS or a list of Snom models).")
    var models: String?
    @Option(help: "Seconds to spend applying the queued fixes here (0: leave them to `provhook serve`).")
    var apply: Int = 60

    func run() async throws {
        let models =
            (Settings().value(self.models, "PROVHOOK_RECONCILE_MODELS")?.split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }) ?? Reconciler.defaultModels
        let actor = JournalActor.reconcile(by: cliUser).rawValue
        let (summary, calls): (Reconciler.Summary, Int) = try await self.database.withStore { store in
            try await self.redirect.withClient { client in
                // Each account with its own credentials; `default` with the client the options made.
                let makeService = AccountService.standardFactory(
                    default: client, base: client.configuration, logger: cliLogger())
                let many = try await store.accounts().count > 1
                let summary = try await Reconciler.runPerAccount(
                    store: store, makeService: makeService, concurrency: client.configuration.connection.maxConnections,
                    models: models, actor: actor, logger: cliLogger(), tenantID: self.tenant, dryRun: self.dryRun,
                    prune: self.prune
                ) { account, done, total in
                    let which = many ? " (account \(account))" : ""
                    FileHandle.standardError.write(Data("checked \(done)/\(total) devices\(which)\n".utf8))
                }
                var calls = 0
                if !self.dryRun, self.apply > 0, summary.findings.contains(where: { $0.action == .queued }) {
                    calls = try await AccountDelivery.drain(
                        store: store, makeService: makeService,
                        configuration: DeliveryConfiguration(
                            concurrency: client.configuration.connection.maxConnections,
                            callDeadline: client.configuration.connection.callDeadline, instance: actor),
                        limit: .seconds(self.apply), logger: cliLogger())
                }
                return (summary, calls)
            }
        }
        if !summary.findings.isEmpty {
            printTable(
                ["MAC", "TENANT", "FINDING", "EXPECTED", "ACTUAL", "ACTION"],
                summary.findings.map {
                    [
                        $0.mac.isEmpty ? "-" : $0.mac, $0.tenantID ?? "-", $0.kind, $0.expected ?? "-",
                        $0.actual ?? "-", $0.action.rawValue,
                    ]
                })
            print("")
        }
        let counts = Dictionary(grouping: summary.findings, by: \.kind).map { "\($0.key): \($0.value.count)" }.sorted()
        print(
            "checked \(summary.devicesChecked) device(s): \(summary.inSync) in sync, \(summary.findings.count) finding(s)"
                + (counts.isEmpty ? "" : " (\(counts.joined(separator: ", ")))")
                + (self.dryRun ? "; dry run, nothing changed" : ""))
        let perDevice =
            summary.devicesChecked > 0
            ? String(format: "%.3f", Double(summary.calls) / Double(summary.devicesChecked)) : "0"
        print(
            "asked the service with \(summary.calls) call(s), \(perDevice) a device: \(summary.settledByLists) device(s) settled by lists"
        )
        if calls > 0 {
            print("applied the queued fixes with \(calls) call(s); see `provhook device list` and `provhook journal`")
        }
        // A run that could not check everything is not a clean run: a cron job must see it.
        let unchecked = summary.findings.filter { $0.kind == "check_failed" }.count
        if unchecked > 0 {
            FileHandle.standardError.write(
                Data("provhook: \(unchecked) check(s) failed (check_failed above); the rest was reconciled\n".utf8))
            throw ExitCode(1)
        }
    }
}
