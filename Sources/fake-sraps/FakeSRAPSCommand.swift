import ArgumentParser
import Foundation
import Logging
import SnomSRAPSStandIn
import StandInSupport
import UnixSignals

/// Runs the strict stand-in of Snom SRAPS, for local runs and manual checks.
@main
struct FakeSRAPSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-sraps",
        abstract: "A strict stand-in of Snom SRAPS (REST signed with Hawk, at /api/v1/).",
        discussion: "SIGTERM or SIGINT stops it.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") var port = 0
    @Option(
        name: .customLong("key"),
        help: "KEY_ID:KEY_SECRET[:COMPANY_NAME] of an API key, each with a company of its own; repeat for several.")
    var keys: [String] = []
    @Option(help: "Serve HTTPS with a freshly generated private CA, and write the CA certificate (PEM) here.")
    var tlsCAOut: String?
    @Option(help: "Write the bound port to this file once listening.") var portFile: String?

    func run() async throws {
        var keys: [String: FakeSRAPSState.APIKey] = [:]
        var companies: [String: String] = [:]
        for key in self.keys {
            let parts = key.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--key takes KEY_ID:KEY_SECRET[:COMPANY_NAME]")
            }
            let company = UUID().uuidString.lowercased()
            keys[parts[0]] = .init(secret: parts[1], company: company)
            companies[company] = parts.count == 3 ? parts[2] : parts[0]
        }
        guard !keys.isEmpty else { throw ValidationError("give at least one --key KEY_ID:KEY_SECRET") }

        var authority: PrivateCertificateAuthority?
        if let tlsCAOut {
            let generated = try PrivateCertificateAuthority()
            try generated.caCertificatePEM.write(toFile: tlsCAOut, atomically: true, encoding: .utf8)
            authority = generated
        }
        let logger = Logger(label: "fake-sraps")
        let signals = await UnixSignalsSequence(trapping: [.sigterm, .sigint])
        let server = try await RunningFakeSRAPS.start(
            state: FakeSRAPSState(keys: keys, companies: companies), tls: authority, host: self.host, port: self.port,
            logger: logger)
        if let portFile { try "\(server.port)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
        logger.info("stand-in listening", metadata: ["base_url": "\(server.baseURL)"])
        for await _ in signals { break }
        await server.stop()
    }
}
