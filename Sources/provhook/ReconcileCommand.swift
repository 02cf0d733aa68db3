import ArgumentParser
import Foundation
import ProvHookCore
import SnomRedirect

/// `provhook reconcile`: finds where the service disagrees with the database and queues fixes.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare every device with the redirection service and queue a fix for each difference.",
        discussion: """
            Registered devices are checked with getPhoneRedirection, deregistered ones with checkPhone; listPhones over \
            the models (PROVHOOK_RECONCILE_MODELS or --models) finds MACs registered to our account that the database \
            does not know. Fixes are applied by the delivery worker of `provhook serve`; reconcile is safe while it runs. \
            Every finding is a journal row.
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
        let actor = cliActor.replacingOccurrences(of: "cli:", with: "reconcile:")
        let (summary, calls): (Reconciler.Summary, Int) = try await self.database.withStore { store in
            try await self.redirect.withClient { client in
                // Each account is compared with its own credentials: a tenant's devices with its account, and the
                // MACs an account holds against the devices that should be there.
                var accounts = try await store.accountCredentials()
                if let tenant = self.tenant {
                    guard let account = try await store.tenant(tenant)?.account else {
                        throw CLIFailure.input("no tenant \(tenant.debugDescription)")
                    }
                    accounts = accounts.filter { $0.name == account }
                }
                var summary = Reconciler.Summary()
                var calls = 0
                for account in accounts {
                    let (service, close): (any RedirectService, (@Sendable () async -> Void)?)
                    var configuration = client.configuration
                    if account.isDefault {
                        (service, close) = (client, nil)
                    } else {
                        configuration = account.redirectConfiguration(base: client.configuration)
                        let made = try RedirectClient.withOwnPool(configuration: configuration, logger: cliLogger())
                        (service, close) = (made.client, made.close)
                    }
                    let reconciler = Reconciler(
                        store: store, service: service, concurrency: configuration.maxConnections, models: models,
                        account: account.name, actor: actor, logger: cliLogger())
                    let which = accounts.count > 1 ? " (account \(account.name))" : ""
                    let part: Reconciler.Summary
                    do {
                        part = try await reconciler.run(
                            tenantID: self.tenant, dryRun: self.dryRun, prune: self.prune
                        ) { done, total in
                            FileHandle.standardError.write(Data("checked \(done)/\(total) devices\(which)\n".utf8))
                        }
                    } catch {
                        await close?()
                        throw error
                    }
                    await close?()
                    summary.add(part)
                }
                if !self.dryRun, self.apply > 0, summary.findings.contains(where: { $0.action == .queued }) {
                    calls = try await Self.apply(
                        accounts, store: store, client: client, seconds: self.apply, actor: actor)
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

    /// Applies the queued fixes here, each account's with its own client, all at once; returns the calls made.
    static func apply(
        _ accounts: [AccountCredentials], store: Store, client: RedirectClient, seconds: Int, actor: String
    ) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for account in accounts {
                let configuration = account.redirectConfiguration(base: client.configuration)
                let made: AccountService
                if account.isDefault {
                    made = AccountService(service: client)
                } else {
                    let (own, close) = try RedirectClient.withOwnPool(configuration: configuration, logger: cliLogger())
                    made = AccountService(service: own, close: close)
                }
                group.addTask {
                    let delivery = Delivery(
                        store: store, account: account.name, redirect: made.service,
                        configuration: DeliveryConfiguration(
                            concurrency: configuration.maxConnections, callDeadline: configuration.callDeadline,
                            instance: actor),
                        metrics: ProvHookMetrics(), listenURL: nil, logger: cliLogger())
                    let calls = await delivery.worker.drain(limit: .seconds(seconds))
                    await made.close?()
                    return calls
                }
            }
            return try await group.reduce(0, +)
        }
    }
}
