import FakeRedirectService
import Foundation
import Logging
import ProvHookCore
import ProvHookTestSupport
import SnomRedirect
import Testing

@Suite("Database outage")
struct DatabaseOutageTests {
    @Test(
        "the database stopped → the webhook answers 503, never 2xx; provhook recovers without a restart; nothing acknowledged is lost"
    )
    func databaseStopped() async throws {
        let cluster = try ScratchCluster.create()
        defer { cluster.destroy() }
        let logger = Logger(label: "test")
        try await Database.withConnection(cluster.url, logger: logger) { connection in
            _ = try await Migrator().migrate(on: connection, logger: logger)
        }
        let template = try URLTemplate("https://p.example/<mac>.xml")
        let secrets = SecretKeyring.generate()
        let client = try RunningStore(url: cluster.url, maxConnections: 2, secrets: secrets)
        let (_, secret) = try await client.store.addTenant(
            id: "acme", name: nil, urlTemplate: template, allowBearer: false, actor: "cli:test")
        let (_, kazooToken) = try await client.store.addSource(
            name: "kazoo-acme", kind: .kazoo, tenantID: "acme", actor: "cli:test")
        await client.stop()

        try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { standIn in
            try await RunningProvHook.start(
                database: cluster.url, secrets: secrets, redirectEndpoint: standIn.endpoint,
                databaseDeadline: .seconds(1)
            ).whileRunning { provhook in
                var acknowledged: [String] = []
                func add(_ mac: String) async throws -> Int {
                    let answer = try await provhook.send(
                        tenant: "acme", body: #"{"type":"device.added","mac":"\#(mac)"}"#, secret: secret)
                    if (200..<300).contains(answer.status) { acknowledged.append(mac) }
                    return answer.status
                }
                // With a 1 s deadline a loaded machine may answer the very first event 503 while the pool connects;
                // a PBX sends it again, and so does the test. Only 2xx answers count as acknowledged.
                try await eventually("the first event accepted while the database is up") {
                    try await add("000413000001") == 202
                }

                try cluster.stop()
                for index in 2...6 {
                    let status = try await add(String(format: "0004130000%02X", index))
                    #expect(status == 503, "while the database is down the answer is 503, never 2xx")
                }
                #expect(try await provhook.get("/readyz").status == 503)
                // Kazoo drops every HTTP error and retries only transport errors: it gets a closed connection, no
                // answer.
                let kazoo = "http://127.0.0.1:\(provhook.port)/v1/sources/kazoo-acme/events?token=\(kazooToken)"
                let closedAt = ContinuousClock.now
                do {
                    let answer = try await SourceRig.send(
                        kazoo, body: KazooSourceTests.v1FormCreated,
                        contentType: "application/x-www-form-urlencoded",
                        headers: [("X-Hook-ID", "7d3f1e2c9b8a4d6e5f0a1b2c3d4e5f60")])
                    Issue.record("Kazoo got an answer it drops: \(answer.status)")
                } catch {
                    #expect(
                        ContinuousClock.now - closedAt < .seconds(15),
                        "closed once the database failed, not timed out: \(error)")
                }

                try cluster.start()
                // An operation caught on a connection that died with the server is abandoned only after
                // Store.stalledBodyLimit (40 s): recovery is bounded by that, not by a quiet machine's speed.
                let recovery = Store.stalledBodyLimit + .seconds(50)
                try await eventually("accepting again", within: recovery) { try await add("000413000010") == 202 }
                try await eventually("ready again", within: recovery) {
                    try await provhook.get("/readyz").status == 200
                }
                for mac in acknowledged {
                    try await eventually("\(mac) applied", within: recovery) {
                        await standIn.state.registration(mac) != nil
                    }
                }
                #expect(acknowledged.count >= 2)
                // Kazoo's retry, once the database is back, is recorded.
                let retried = try await SourceRig.send(
                    kazoo, body: KazooSourceTests.v1FormCreated, contentType: "application/x-www-form-urlencoded",
                    headers: [("X-Hook-ID", "7d3f1e2c9b8a4d6e5f0a1b2c3d4e5f60")])
                #expect(retried.status == 200 && retried.body.contains("accepted"), "\(retried.body)")
            }
        }
    }
}
