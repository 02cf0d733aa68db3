import ArgumentParser
import Foundation
import Logging
import StandInSupport
import UnixSignals

/// The options every vendor stand-in's command takes (`fake-redirect`, `fake-sraps`, …): where it listens, whether
/// it serves HTTPS with a throwaway CA, and where it writes its bound port; and how such a command runs.
public struct StandInOptions: ParsableArguments {
    @Option(help: "Address to listen on.") public var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") public var port = 0
    @Option(help: "Serve HTTPS with a freshly generated private CA, and write the CA certificate (PEM) here.")
    public var tlsCAOut: String?
    @Option(help: "Write the bound port to this file once listening.") public var portFile: String?

    public init() {}

    /// With `--tls-ca-out`, a freshly generated private CA whose certificate is written there; else nil (plain HTTP).
    public func authority() throws -> PrivateCertificateAuthority? {
        guard let tlsCAOut else { return nil }
        let authority = try PrivateCertificateAuthority()
        try authority.caCertificatePEM.write(toFile: tlsCAOut, atomically: true, encoding: .utf8)
        return authority
    }

    /// Starts a stand-in of `state` on `--host` and `--port`, writes its port to `--port-file`, logs its URL as
    /// `urlKey`, and stops it at SIGTERM or SIGINT.
    public func serve<State: ServedStandInState>(_ state: State, label: String, urlKey: String = "url") async throws {
        let logger = Logger(label: label)
        let signals = await UnixSignalsSequence(trapping: [.sigterm, .sigint])
        let server = try await self.start(state, tls: try self.authority(), port: self.port, logger: logger)
        try self.announce(server, urlKey: urlKey, logger: logger)
        for await _ in signals { break }
        await server.stop()
    }

    /// Starts a stand-in of `state` on `--host` and `port` with `tls`.
    public func start<State: ServedStandInState>(
        _ state: State, tls: PrivateCertificateAuthority?, port: Int, logger: Logger
    ) async throws -> RunningStandIn<State> {
        try await RunningStandIn.start(state: state, tls: tls, host: self.host, port: port, logger: logger)
    }

    /// Writes the stand-in's port to `--port-file`, when given, and logs its URL as `urlKey`.
    public func announce<State>(_ server: RunningStandIn<State>, urlKey: String, logger: Logger) throws {
        if let portFile { try "\(server.port)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
        logger.info("stand-in listening", metadata: [urlKey: "\(server.url)"])
    }

    /// The fields of an option's value written `A:B[:C]`: split at ':' into at most `maxFields`, the first two not
    /// empty. A value of another shape is refused with a message that names `option` and its `form`.
    public static func fields(of value: String, option: String, form: String, maxFields: Int = 2) throws -> [String] {
        let fields = value.split(separator: ":", maxSplits: maxFields - 1, omittingEmptySubsequences: false)
            .map(String.init)
        guard fields.count >= 2, !fields[0].isEmpty, !fields[1].isEmpty else {
            throw ValidationError("\(option) takes \(form)")
        }
        return fields
    }
}
