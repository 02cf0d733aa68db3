import ArgumentParser
import ProvHookCore
import ProvisioningModel

/// `provhook device …`: what provhook knows of each MAC.
struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device", abstract: "Inspect, retry, forget and import devices.",
        subcommands: [List.self, Show.self, Retry.self, Forget.self, Import.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List devices and their status.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only this tenant's devices.") var tenant: String?
        @Option(
            help: "Only devices with this status: \(DeviceStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
        var status: String?
        @Option(help: "Only devices of this vendor (snom, yealink, …).") var vendor: String?
        @Option(help: "At most this many devices.") var limit = 10_000
        @Option(help: "Only MACs after this one: the next page after a page that ended with it (keyset, by MAC).")
        var after: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard (1...100_000).contains(self.limit) else { throw CLIFailure.input("--limit must be in 1...100000") }
            // One more than the page, to know whether a next page exists.
            var filter = DeviceFilter(tenantID: self.tenant, limit: self.limit + 1)
            filter.vendor = try self.vendor.map(parseVendor)
            if let after {
                guard let mac = MACAddress(after) else { throw CLIFailure.input("--after is not a MAC address") }
                filter.afterMAC = mac.canonical
            }
            if let status {
                guard let parsed = DeviceStatus(rawValue: status) else {
                    throw CLIFailure.input("unknown status \(status.debugDescription)")
                }
                filter.status = parsed
            }
            let found = try await self.database.withStore { try await $0.devices(filter) }
            let devices = Array(found.prefix(self.limit))
            if self.json { return try printJSON(devices) }
            printTable(
                [
                    "MAC", "TENANT", "DEVICE ID", "EXT", "VENDOR", "ACCOUNT", "DESIRED", "STATUS", "GEN", "TRIES",
                    "UPDATED", "URL / LAST ERROR",
                ],
                devices.map {
                    [
                        $0.mac, $0.tenantID ?? "(unclaimed)", $0.deviceID ?? "-", $0.extensionNumber ?? "-",
                        $0.vendor?.rawValue ?? "-", $0.account ?? "-", $0.desired.rawValue,
                        $0.status.rawValue + ($0.skippedBecause.map { " (\($0.rawValue))" } ?? ""),
                        String($0.generation), String($0.attempts), $0.updatedAt.iso8601,
                        [$0.url, $0.lastError].compactMap { $0 }.joined(separator: "  "),
                    ]
                })
            let waiting = devices.filter { $0.status == .pending }.count
            print("\(devices.count) device(s), \(waiting) waiting")
            if found.count > self.limit, let last = devices.last {
                print("more: provhook device list --after \(last.mac)")
            }
        }
    }
}
