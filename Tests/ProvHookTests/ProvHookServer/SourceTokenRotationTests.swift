import Foundation
import ProvHookCore
import ProvHookTestSupport
import Testing

/// A source's token is checked when its event is recorded: a request whose body was still arriving when the token
/// was rotated, or the source removed, records nothing.
@Suite("source tokens: rotated or removed while a request's body arrives")
struct SourceTokenRotationTests {
    /// Sends a mapped panel's event with `token` in two halves, running `meanwhile` between them once the listener
    /// has had time to read the source (it reads it before the body); returns the answer's status line and body.
    static func sendInTwoHalves(
        _ run: EndToEnd, token: String, mac: String, meanwhile: () async throws -> Void
    ) async throws -> String {
        let body = #"{"event":"phone.created","phone":{"id":"p-\#(mac)","mac":"\#(mac)"}}"#
        let half = body.utf8.count / 2
        let connection = try ListenerLimitsTests.RawConnection(port: run.provhook.port)
        defer { connection.close() }
        try connection.send(
            "POST /v1/sources/panel/events?token=\(token) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                + String(decoding: Array(body.utf8)[..<half], as: UTF8.self))
        // Not a timing assertion: time for the listener to read the source before the rest of the body comes.
        try await Task.sleep(for: .seconds(1))
        try await meanwhile()
        try connection.send(String(decoding: Array(body.utf8)[half...], as: UTF8.self))
        return try await connection.readAnswer()
    }

    @Test(
        "a token rotated, or a source removed, while the body arrives records nothing; unchanged, the event is accepted"
    )
    func rotatedWhileReading() async throws {
        try await EndToEnd.run { run in
            var (_, token) = try await run.store.addSource(
                name: "panel", kind: .mapping, tenantID: EndToEnd.tenant, mapping: MappingSourceTests.panel,
                actor: "cli:test")
            let unchanged = try await Self.sendInTwoHalves(run, token: token, mac: "000413000E01") {}
            #expect(unchanged.hasPrefix("HTTP/1.1 202"), "\(unchanged)")

            let rotated = try await Self.sendInTwoHalves(run, token: token, mac: "000413000E02") {
                token = try await run.store.rotateSourceToken(name: "panel", actor: "cli:test").token
            }
            #expect(rotated.hasPrefix("HTTP/1.1 401"), "the old token, rotated while the body arrived: \(rotated)")

            let removed = try await Self.sendInTwoHalves(run, token: token, mac: "000413000E03") {
                try await run.store.removeSource(name: "panel", actor: "cli:test")
            }
            #expect(removed.hasPrefix("HTTP/1.1 404"), "a source removed while the body arrived: \(removed)")

            for mac in ["000413000E02", "000413000E03"] {
                #expect(try await run.device(mac) == nil, "nothing recorded for \(mac)")
            }
            let events = try await run.store.journal(JournalFilter(action: "event.device.added"))
            #expect(events.compactMap(\.mac) == ["000413000E01"])
        }
    }
}
