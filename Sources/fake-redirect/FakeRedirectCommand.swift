import ArgumentParser
import FakeRedirectService
import Foundation
import Hummingbird
import Logging

/// Runs the strict stand-in of the Snom redirection service, for local runs and manual checks.
@main
struct FakeRedirectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-redirect",
        abstract: "A strict stand-in of the Snom redirection service (XML-RPC at /xmlrpc/)."
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") var port = 0
    @Option(name: .customLong("account"), help: "USER:PASSWORD[:COMPANY]; repeat for several accounts.")
    var accounts: [String] = []
    @Option(help: "Serve HTTPS with a freshly generated private CA, and write the CA certificate (PEM) here.")
    var tlsCAOut: String?
    @Option(help: "Write the bound port to this file once listening.") var portFile: String?
    @Option(help: "Milliseconds of added latency per call.") var latencyMs = 0
    @Option(help: "Model reported for every MAC by listPhones.") var defaultModel = "snomD785"

    func run() async throws {
        var parsed: [String: FakeRedirectState.Account] = [:]
        for account in self.accounts {
            let parts = account.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, !parts[0].isEmpty else {
                throw ValidationError("--account takes USER:PASSWORD[:COMPANY]")
            }
            parsed[parts[0]] = .init(password: parts[1], company: parts.count == 3 ? parts[2] : parts[0])
        }
        guard !parsed.isEmpty else { throw ValidationError("give at least one --account USER:PASSWORD") }
        let state = FakeRedirectState(accounts: parsed, defaultModel: self.defaultModel)
        await state.setLatency(.milliseconds(self.latencyMs))

        var authority: PrivateCertificateAuthority?
        if let tlsCAOut {
            let generated = try PrivateCertificateAuthority()
            try generated.caCertificatePEM.write(toFile: tlsCAOut, atomically: true, encoding: .utf8)
            authority = generated
        }
        let logger = Logger(label: "fake-redirect")
        let scheme = authority == nil ? "http" : "https"
        let host = authority == nil ? self.host : "localhost"
        let portFile = self.portFile
        let app = try FakeRedirectServer(state: state).makeApplication(
            host: self.host, port: self.port, tls: authority, logger: logger,
            onServerRunning: { port in
                if let portFile { try? "\(port)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
                logger.info("stand-in listening", metadata: ["endpoint": "\(scheme)://\(host):\(port)\(FakeRedirectServer.path)"])
            })
        try await app.runService()
    }
}
