import Foundation
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing

/// `provhook serve` started as an operator starts it: its own process, settings from the environment, the password
/// from a file, the worker calling the stand-in over HTTPS with a private CA, and events signed by
/// `contrib/send-event.sh`, which signs with openssl and shares no code with provhook.
@Suite("serve as a process: the worker over TLS, events signed by openssl")
struct ServeProcessTests {
    static let template = "https://prov.example.com/<mac>.xml"

    @Test("send-event.sh's events are registered and deregistered over HTTPS; SIGTERM lets an in-flight call finish")
    func signedEventsOverTLS() async throws {
        try await TestDatabase.with { database in
            let (_, secret) = try await database.store.addTenant("acme", urlTemplate: URLTemplate(Self.template))
            let state = StandInAccounts.makeState()
            let authority = try PrivateCertificateAuthority()
            let standIn = try await RunningFakeRedirect.start(state: state, tls: authority)
            let caFile = try TemporaryFile.write(authority.caCertificatePEM, suffix: ".pem")
            let passwordFile = try TemporaryFile.write(StandInAccounts.password + "\n")
            defer { for path in [caFile, passwordFile] { try? FileManager.default.removeItem(atPath: path) } }
            let outcome: Result<Void, any Error>
            do {
                let serve = try await ServeProcess.start(environment: [
                    "PROVHOOK_DATABASE_URL": database.urlString, "PROVHOOK_SECRET_KEY_FILE": database.secretKeyFile,
                    "PROVHOOK_REDIRECT_URL": standIn.endpoint, "PROVHOOK_REDIRECT_USER": StandInAccounts.user,
                    "PROVHOOK_REDIRECT_PASSWORD_FILE": passwordFile, "PROVHOOK_REDIRECT_CA_FILE": caFile,
                    "PROVHOOK_LOG_LEVEL": "debug",
                ])
                try await Self.exercise(serve, database: database, state: state, secret: secret)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            await standIn.stop()
            try outcome.get()
        }
    }

    static func exercise(
        _ serve: ServeProcess, database: TestDatabase, state: FakeRedirectState, secret: String
    ) async throws {
        var stopped = false
        defer { if !stopped { serve.stop() } }
        let base = "http://127.0.0.1:\(serve.ports.webhook)"

        let added = try await Self.sendEvent(
            #"{"type":"device.added","mac":"00:04:13:61:0f:f5","device_id":"pbx-1"}"#, secret: secret, base: base)
        #expect(added.status == 0 && added.output.contains("HTTP 202"), "\(added.output)\(added.error)")
        #expect(added.output.contains(#""status":"accepted""#), "\(added.output)")
        try await eventually("registered at the stand-in over HTTPS") {
            await state.registration("000413610FF5")
                == .init(owner: StandInAccounts.user, url: "https://prov.example.com/000413610FF5.xml")
        }

        // A signature made with another secret is refused: the stand-in's registration above was no accident.
        let forged = try await Self.sendEvent(
            #"{"type":"device.removed","device_id":"pbx-1"}"#,
            secret: "whsec_" + Data(repeating: 7, count: 32).base64EncodedString(), base: base)
        #expect(forged.output.contains("HTTP 401"), "\(forged.output)")

        let removed = try await Self.sendEvent(
            #"{"type":"device.removed","device_id":"pbx-1"}"#, secret: secret, base: base)
        #expect(removed.output.contains("HTTP 202"), "\(removed.output)")
        try await eventually("deregistered at the stand-in") { await state.registration("000413610FF5") == nil }

        // A call held at the service when SIGTERM arrives is finished and its outcome recorded before serve exits.
        // Long enough that the call is surely still at the stand-in when SIGTERM arrives, even on a loaded machine.
        await state.setLatency(.seconds(10))
        let before = await state.hold.received
        let slow = try await Self.sendEvent(
            #"{"type":"device.added","mac":"000413610FF6","device_id":"pbx-2"}"#, secret: secret, base: base)
        #expect(slow.output.contains("HTTP 202"), "\(slow.output)")
        try await eventually("the call is at the stand-in") { await state.hold.received > before }
        #expect(await state.calls.count < state.hold.received, "the call is still being answered")
        stopped = true
        let status = await serve.terminate()
        #expect(status == 0, "serve exits 0 after a graceful shutdown:\n\(serve.log)")
        let device = try await database.store.device(MACAddress("000413610FF6")!)
        #expect(device?.status == .registered, "the in-flight call's outcome was written before the exit")
        let journal = try await database.store.journal(JournalFilter(mac: "000413610FF6"))
        #expect(journal.contains { $0.action == "redirect.registerPhone" && $0.outcome == "ok" })
        #expect(await state.registration("000413610FF6") != nil)

        #expect(serve.log.contains("delivery worker stopped"), "\(serve.log)")
        // Checked as booleans: a failing expectation prints its operands, and neither the log nor a secret may be.
        let log = serve.log
        let leaks = [
            "the redirection password": log.contains(StandInAccounts.password),
            "the webhook secret": log.contains(secret.dropFirst("whsec_".count)),
            "the database URL's password": log.contains(database.url.password ?? "\u{0}"),
        ].filter(\.value).keys.sorted()
        #expect(leaks.isEmpty, "serve's debug log holds \(leaks)")
        #expect(log.contains("Starting service lifecycle"), "the log is the debug log that lists the services")
    }

    /// Runs `contrib/send-event.sh TENANT SECRET JSON URL`, as the README shows it.
    static func sendEvent(_ json: String, secret: String, base: String) async throws -> CommandLineRunner.Result {
        let script = ScratchCluster.repositoryRoot + "/contrib/send-event.sh"
        return try await CommandLineRunner(executablePath: script).run(["acme", secret, json, base])
    }
}
