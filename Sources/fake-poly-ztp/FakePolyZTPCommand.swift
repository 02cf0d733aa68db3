import ArgumentParser
import Foundation
import PolyZTPStandIn
import StandInCommand

/// Runs the strict stand-in of Poly's Zero Touch Provisioning API, for local runs and manual checks.
@main
struct FakePolyZTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-poly-ztp",
        abstract: "A strict stand-in of Poly's Zero Touch Provisioning REST API (API-KEY header, at /v1).",
        discussion: "SIGTERM or SIGINT stops it.")

    @OptionGroup var standIn: StandInOptions

    @Option(
        name: .customLong("key-file"),
        help: "ORGANIZATION:FILE: a file whose first line is an API key of that organisation; repeat for several.")
    var keyFiles: [String] = []

    func run() async throws {
        var keys: [String: String] = [:]
        for entry in self.keyFiles {
            let fields = try StandInOptions.fields(of: entry, option: "--key-file", form: "ORGANIZATION:FILE")
            let text = try String(contentsOfFile: fields[1], encoding: .utf8)
            guard let key = text.split(whereSeparator: \.isNewline).first.map(String.init), !key.isEmpty else {
                throw ValidationError("\(fields[1]) holds no API key")
            }
            keys[key] = fields[0]
        }
        guard !keys.isEmpty else { throw ValidationError("give at least one --key-file ORGANIZATION:FILE") }
        try await self.standIn.serve(FakePolyZTPState(keys: keys), label: "fake-poly-ztp")
    }
}
