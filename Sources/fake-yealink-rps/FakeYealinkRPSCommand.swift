import ArgumentParser
import Foundation
import Logging
import StandInSupport
import UnixSignals
import YealinkRPSStandIn

/// Runs the strict stand-in of Yealink's RPS over XML-RPC, for local runs and manual checks.
@main
struct FakeYealinkRPSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-yealink-rps",
        abstract: "A strict stand-in of Yealink's RPS over XML-RPC (basic auth, at /xmlrpc).",
        discussion: "SIGTERM or SIGINT stops it.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") var port = 0
    @Option(name: .customLong("account"), help: "USER:PASSWORD of an RPS account; repeat for several.")
    var accounts: [String] = []
    @Option(help: "Serve HTTPS with a freshly generated private CA, and write the CA certificate (PEM) here.")
    var tlsCAOut: String?
    @Option(help: "Write the bound port to this file once listening.") var portFile: String?

    func run() async throws {
        var accounts: [String: String] = [:]
        for account in self.accounts {
            guard let colon = account.firstIndex(of: ":"), colon != account.startIndex,
                account.index(after: colon) != account.endIndex
            else { throw ValidationError("--account takes USER:PASSWORD") }
            accounts[String(account[..<colon])] = String(account[account.index(after: colon)...])
        }
        guard !accounts.isEmpty else { throw ValidationError("give at least one --account USER:PASSWORD") }

        var authority: PrivateCertificateAuthority?
        if let tlsCAOut {
            let generated = try PrivateCertificateAuthority()
            try generated.caCertificatePEM.write(toFile: tlsCAOut, atomically: true, encoding: .utf8)
            authority = generated
        }
        let logger = Logger(label: "fake-yealink-rps")
        let signals = await UnixSignalsSequence(trapping: [.sigterm, .sigint])
        let server = try await RunningFakeYealinkRPS.start(
            state: FakeYealinkRPSState(accounts: accounts), tls: authority, host: self.host, port: self.port,
            logger: logger)
        if let portFile { try "\(server.port)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
        logger.info("stand-in listening", metadata: ["url": "\(server.url)"])
        for await _ in signals { break }
        await server.stop()
    }
}
