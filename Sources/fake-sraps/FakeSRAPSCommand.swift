import ArgumentParser
import Foundation
import SnomSRAPSStandIn
import StandInCommand

/// Runs the strict stand-in of Snom SRAPS, for local runs and manual checks.
@main
struct FakeSRAPSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-sraps",
        abstract: "A strict stand-in of Snom SRAPS (REST signed with Hawk, at /api/v1/).",
        discussion: "SIGTERM or SIGINT stops it.")

    @OptionGroup var standIn: StandInOptions

    @Option(
        name: .customLong("key"),
        help: "KEY_ID:KEY_SECRET[:COMPANY_NAME] of an API key, each with a company of its own; repeat for several.")
    var keys: [String] = []

    func run() async throws {
        var keys: [String: FakeSRAPSState.APIKey] = [:]
        var companies: [String: String] = [:]
        for key in self.keys {
            let fields = try StandInOptions.fields(
                of: key, option: "--key", form: "KEY_ID:KEY_SECRET[:COMPANY_NAME]", maxFields: 3)
            let company = UUID().uuidString.lowercased()
            keys[fields[0]] = .init(secret: fields[1], company: company)
            companies[company] = fields.count == 3 ? fields[2] : fields[0]
        }
        guard !keys.isEmpty else { throw ValidationError("give at least one --key KEY_ID:KEY_SECRET") }
        try await self.standIn.serve(
            FakeSRAPSState(keys: keys, companies: companies), label: "fake-sraps", urlKey: "base_url")
    }
}
