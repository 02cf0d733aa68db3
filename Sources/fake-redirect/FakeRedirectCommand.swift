import ArgumentParser
import Foundation
import Logging
import SnomXMLRPCStandIn
import StandInCommand
import StandInSupport
import UnixSignals

/// Runs the strict stand-in of the Snom redirection service, for local runs and manual checks.
@main
struct FakeRedirectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-redirect",
        abstract: "A strict stand-in of the Snom redirection service (XML-RPC at /xmlrpc/).",
        discussion: """
            SIGUSR1 starts an outage of three phases, each --outage-seconds long: connections refused (the listener \
            is closed), then every call answered 503, then every call held without an answer. Then it serves \
            normally again, with its registrations intact. SIGTERM or SIGINT stops it.
            """
    )

    @OptionGroup var standIn: StandInOptions
    @Option(name: .customLong("account"), help: "USER:PASSWORD[:COMPANY]; repeat for several accounts.")
    var accounts: [String] = []
    @Option(help: "Milliseconds of added latency per call.") var latencyMs = 0
    @Option(help: "Model reported for every MAC by listPhones.") var defaultModel = "snomD785"
    @Option(help: "Seconds each phase of a SIGUSR1 outage lasts.") var outageSeconds = 10.0
    @Option(
        help:
            "Append every call to this file as it is answered, one JSON object per line (method, MACs, status, times; no credentials)."
    )
    var callLog: String?

    func run() async throws {
        var parsed: [String: FakeRedirectState.Account] = [:]
        for account in self.accounts {
            let fields = try StandInOptions.fields(
                of: account, option: "--account", form: "USER:PASSWORD[:COMPANY]", maxFields: 3)
            parsed[fields[0]] = .init(password: fields[1], company: fields.count == 3 ? fields[2] : fields[0])
        }
        guard !parsed.isEmpty else { throw ValidationError("give at least one --account USER:PASSWORD") }
        let state = FakeRedirectState(accounts: parsed, defaultModel: self.defaultModel)
        await state.setLatency(.milliseconds(self.latencyMs))
        if let callLog {
            guard FileManager.default.createFile(atPath: callLog, contents: nil),
                let file = FileHandle(forWritingAtPath: callLog)
            else {
                throw ValidationError("cannot write the call log \(callLog)")
            }
            let encoder = JSONEncoder()
            // The state calls this inside its actor, so the lines are written one at a time, in the order recorded.
            await state.observeCalls { call in
                guard let line = try? encoder.encode(CallLogEntry(call)) else { return }
                try? file.write(contentsOf: line + [0x0A])
            }
        }

        let authority = try self.standIn.authority()
        let logger = Logger(label: "fake-redirect")
        let signals = await UnixSignalsSequence(trapping: [.sigusr1, .sigterm, .sigint])
        var server = try await self.standIn.start(state, tls: authority, port: self.standIn.port, logger: logger)
        try self.standIn.announce(server, urlKey: "endpoint", logger: logger)

        let phase = Duration.milliseconds(Int64(self.outageSeconds * 1000))
        for await signal in signals {
            guard signal == .sigusr1 else { break }
            logger.notice("outage: refusing connections", metadata: ["seconds": "\(self.outageSeconds)"])
            let port = server.port
            await server.stop()
            try await Task.sleep(for: phase)
            server = try await self.standIn.start(state, tls: authority, port: port, logger: logger)
            logger.notice("outage: answering 503")
            await state.failAll(with: .status(503))
            try await Task.sleep(for: phase)
            logger.notice("outage: holding every call without an answer")
            await state.failAll(with: .hang(phase + .seconds(5)))
            try await Task.sleep(for: phase)
            await state.clearFailures()
            logger.notice("outage over: serving normally")
        }
        await server.stop()
    }
}
