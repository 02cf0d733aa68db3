import ArgumentParser
import Foundation
import Logging
import PolyZTPStandIn
import StandInSupport
import UnixSignals

/// Runs the strict stand-in of Poly's Zero Touch Provisioning API, for local runs and manual checks.
@main
struct FakePolyZTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-poly-ztp",
        abstract: "A strict stand-in of Poly's Zero Touch Provisioning REST API (API-KEY header, at /v1).",
        discussion: "SIGTERM or SIGINT stops it.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") var port = 0
    @Option(
        name: .customLong("key-file"),
        help: "ORGANIZATION:FILE: a file whose first line is an API key of that organisation; repeat for several.")
    var keyFiles: [String] = []
    @Option(help: "Serve HTTPS with a freshly generated private CA, and write the CA certificate (PEM) here.")
    var tlsCAOut: String?
    @Option(help: "Write the bound port to this file once listening.") var portFile: String?

    func run() async throws {
        var keys: [String: String] = [:]
        for entry in self.keyFiles {
            guard let colon = entry.firstIndex(of: ":"), colon != entry.startIndex,
                entry.index(after: colon) != entry.endIndex
            else { throw ValidationError("--key-file takes ORGANIZATION:FILE") }
            let path = String(entry[entry.index(after: colon)...])
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard let key = text.split(whereSeparator: \.isNewline).first.map(String.init), !key.isEmpty else {
                throw ValidationError("\(path) holds no API key")
            }
            keys[key] = String(entry[..<colon])
        }
        guard !keys.isEmpty else { throw ValidationError("give at least one --key-file ORGANIZATION:FILE") }

        var authority: PrivateCertificateAuthority?
        if let tlsCAOut {
            let generated = try PrivateCertificateAuthority()
            try generated.caCertificatePEM.write(toFile: tlsCAOut, atomically: true, encoding: .utf8)
            authority = generated
        }
        let logger = Logger(label: "fake-poly-ztp")
        let signals = await UnixSignalsSequence(trapping: [.sigterm, .sigint])
        let server = try await RunningFakePolyZTP.start(
            state: FakePolyZTPState(keys: keys), tls: authority, host: self.host, port: self.port, logger: logger)
        if let portFile { try "\(server.port)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
        logger.info("stand-in listening", metadata: ["url": "\(server.url)"])
        for await _ in signals { break }
        await server.stop()
    }
}
