import ArgumentParser
import Foundation
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import VendorRegistry

extension DeviceCommand {
    /// `provhook device show MAC`: one device, what was applied for it, what to do about it, and its journal.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one device: its state, what was last applied, what to do, and its journal history.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The MAC, in any spelling.") var mac: String
        @Option(help: "At most this many journal rows, newest first.") var limit = 20
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let mac = try parseMAC(self.mac)
            let limit = max(1, min(self.limit, 10_000))
            guard
                let detail = try await self.database.withStore({ try await $0.deviceDetail(mac, historyLimit: limit) })
            else {
                throw CLIFailure(message: "provhook does not know \(mac.canonical)", exitCode: 1)
            }
            if self.json { return try printJSON(detail) }
            let device = detail.device
            var lines: [(String, String)] = [
                ("MAC", device.mac),
                (
                    "tenant",
                    device.tenantID.map { id in detail.tenantName.map { "\(id) (\($0))" } ?? id } ?? "(unclaimed)"
                ),
                ("device id", device.deviceID ?? "-"),
                ("extension", device.extensionNumber ?? "-"),
                ("model", device.model ?? "-"),
                ("vendor", device.vendor.map { "\($0.displayName) (\($0))" } ?? "unknown"),
                ("serial", device.serial ?? "-"),
                ("gigaset code", device.gigasetCode ?? "-"),
            ]
            if let pin = detail.pin {
                lines.append(("PIN", pin))
            } else if let reason = detail.pinUnavailable {
                lines.append(("PIN", "kept, but cannot be shown: \(reason)"))
            }
            lines += [
                (
                    "account",
                    device.account.map { account in device.moveTo.map { "\(account), moving to \($0)" } ?? account }
                        ?? "none"
                ),
                ("desired", "\(device.desired.rawValue) at generation \(device.generation)"),
                ("status", Self.status(detail) + (device.skippedBecause.map { " (\($0.rawValue))" } ?? "")),
                ("URL", device.url ?? "-"),
                ("applied", Self.applied(detail.lastApplied)),
            ]
            if device.status == .pending {
                lines.append(
                    (
                        "next try",
                        detail.claimedUntil.map { "in flight until \($0.iso8601)" }
                            ?? device.nextAttemptAt.iso8601
                    ))
            }
            if let error = device.lastError { lines.append(("last error", error)) }
            let width = lines.map(\.0.count).max() ?? 0
            for (label, value) in lines {
                print(label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + terminalSafe(value))
            }
            if let advice = detail.advice { print("\nwhat to do: " + advice) }
            print("\njournal, newest first (\(detail.history.count) of \(detail.historyCount)):")
            printTable(
                ["ID", "AT", "ACTOR", "ACTION", "OUTCOME", "DETAIL"],
                detail.history.map {
                    [
                        $0.id.map(String.init) ?? "-", $0.at?.iso8601 ?? "-", $0.actor, $0.action, $0.outcome,
                        JSONValue.encodeObject($0.detail),
                    ]
                })
        }

        /// The status with how long it has held and how many tries it took.
        static func status(_ detail: DeviceDetail) -> String {
            let device = detail.device
            let tries = "\(device.attempts) \(device.attempts == 1 ? "try" : "tries")"
            switch device.status {
            case .pending: return "pending since \(detail.pendingSince.iso8601), \(tries) so far"
            case .failed, .conflict:
                return "\(device.status.rawValue) since \(device.updatedAt.iso8601), after \(tries)"
            case .registered, .deregistered, .skipped, .waitingForSerial, .waitingForCode:
                return "\(device.status.rawValue) since \(device.updatedAt.iso8601)"
            }
        }

        /// The last call that the service answered `Ok`.
        static func applied(_ entry: JournalEntry?) -> String {
            guard let entry else { return "nothing yet: no call for this MAC was answered Ok" }
            let url = entry.detail["url"].flatMap { if case .string(let url) = $0 { url } else { nil } }
            return "\(entry.action) answered Ok at \(entry.at?.iso8601 ?? "?")" + (url.map { ", URL \($0)" } ?? "")
        }
    }

    /// `provhook device retry`: queues devices again at a new generation.
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue devices again at a new generation: after a failure is fixed, or a conflict is released.",
            discussion: """
                Give MACs, or --tenant with --status failed|conflict. Each device queued is journaled (device.retry) \
                with who asked. A skipped or unknown MAC is refused, with the reason, and the command exits 1. \
                With --move, for MACs in conflict: each of our other redirection accounts is asked whether it holds \
                the MAC (checkPhone); the one that does deregisters it, then the device's own account registers it \
                (device.move). A MAC that no account of ours holds is refused: it belongs to someone else.
                """)
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Move each MAC from the other account of ours that holds it (see above; PROVHOOK_REDIRECT_*).")
        var move = false
        @Argument(help: "MACs, in any spelling.") var macs: [String] = []
        @Option(help: "Every device of this tenant with --status.") var tenant: String?
        @Option(help: "With --tenant: failed or conflict.") var status: String?
        @Flag(help: "List what would be queued, and queue nothing.") var dryRun = false
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if self.move, self.macs.isEmpty { throw ValidationError("--move takes MACs") }
            switch (self.macs.isEmpty, self.tenant, self.status) {
            case (false, nil, nil), (true, _?, _?): return
            case (false, _, _): throw ValidationError("give MACs, or --tenant with --status, not both")
            case (true, nil, _), (true, _, nil): throw ValidationError("give MACs, or --tenant with --status")
            }
        }

        func run() async throws {
            if self.move { return try await self.runMove() }
            let selection: RetrySelection
            if let tenant, let status {
                guard let parsed = DeviceStatus(rawValue: status), parsed == .failed || parsed == .conflict else {
                    throw CLIFailure.input("--status must be failed or conflict")
                }
                selection = .tenant(tenant, status: parsed)
            } else {
                selection = .macs(try self.macs.map(parseMAC))
            }
            let result = try await self.database.withStore {
                try await $0.retry(selection, actor: cliActor, dryRun: self.dryRun)
            }
            if self.json {
                try printJSON(result)
            } else {
                printTable(
                    ["MAC", "TENANT", "WAS", "GEN", "LAST ERROR"],
                    result.queued.map {
                        [
                            $0.mac, $0.tenantID ?? "(unclaimed)", $0.previousStatus.rawValue,
                            $0.generation.map(String.init) ?? "-", $0.lastError ?? "-",
                        ]
                    })
                for refused in result.refused {
                    FileHandle.standardError.write(Data("refused \(refused.mac): \(refused.reason)\n".utf8))
                }
                print("\(result.queued.count) device(s) \(self.dryRun ? "would be queued (dry run)" : "queued")")
            }
            if !result.refused.isEmpty {
                throw CLIFailure(message: "\(result.refused.count) MAC(s) refused", exitCode: 1)
            }
        }

        /// `--move`: finds the account of ours that holds each MAC and queues its move to the device's own account.
        func runMove() async throws {
            let macs = try self.macs.map(parseMAC)
            var refused = 0
            try await self.database.withStore { store in
                // The installation's account from PROVHOOK_REDIRECT_*, as `provhook redirect` reads it.
                try await RedirectOptions.parse([]).withClient { client in
                    let makeService = AccountService.standardFactory(
                        default: client, base: client.configuration, logger: cliLogger())
                    // Each account's client is made once, for all the MACs, and closed at the end.
                    var made: [(name: String, service: AccountService)] = []
                    func closeAll() async { for (_, service) in made { await service.close?() } }
                    do {
                        for account in try await store.accountCredentials() {
                            made.append((account.name, try makeService(account)))
                        }
                        try await self.move(macs, store: store, services: made, refused: &refused)
                    } catch {
                        await closeAll()
                        throw error
                    }
                    await closeAll()
                }
            }
            if refused > 0 { throw ExitCode(1) }
        }

        /// Queues the move of each MAC from the account of ours that holds it; counts the MACs refused.
        func move(
            _ macs: [MACAddress], store: Store, services made: [(name: String, service: AccountService)],
            refused: inout Int
        ) async throws {
            let services = made.map { (name: $0.name, service: $0.service.service) }
            for mac in macs {
                guard let device = try await store.device(mac) else {
                    refused += 1
                    FileHandle.standardError.write(
                        Data("refused \(mac): provhook does not know this MAC\n".utf8))
                    continue
                }
                guard let target = device.account else {
                    refused += 1
                    FileHandle.standardError.write(
                        Data("refused \(mac): no account of ours serves it, so there is none to move it to\n".utf8))
                    continue
                }
                guard
                    let holder = try await Reconciler.holdingAccount(
                        of: mac, except: target, services: services)
                else {
                    refused += 1
                    FileHandle.standardError.write(
                        Data(
                            "refused \(mac): no other account of ours holds it; another Snom account does, which must deregister it (then: provhook device retry \(mac))\n"
                                .utf8))
                    continue
                }
                if self.dryRun {
                    print("\(mac): would move from account \(holder) to account \(target) (dry run)")
                    continue
                }
                let queued = try await store.queueMove(
                    mac, from: holder, actor: cliActor,
                    detail: ["reason": .string("device retry --move: account \(holder) holds it")])
                print(
                    queued == nil
                        ? "\(mac): already moving or skipped; nothing queued"
                        : "\(mac): moving from account \(holder) to account \(target)")
            }
        }
    }

    /// `provhook device forget MAC`: removes a device that holds nothing at the service.
    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget a device that is deregistered, or that was never applied at the service.",
            discussion: """
                Refused, with the reason and exit 1, for a device that may still be registered at the service or \
                that has a call in flight. The journal keeps the device's history and a device.forget row.
                """)
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The MAC, in any spelling.") var mac: String

        func run() async throws {
            let mac = try parseMAC(self.mac)
            do {
                let device = try await self.database.withStore { store in
                    do {
                        return try await store.forget(mac, actor: cliActor)
                    } catch let error as StoreError {
                        switch error {
                        case .notFound(let message), .conflict(let message):
                            throw CLIFailure(message: message, exitCode: 1)
                        default: throw error
                        }
                    }
                }
                print("forgot \(device.mac) (\(device.status.rawValue), tenant \(device.tenantID ?? "none"))")
            }
        }
    }
}
