import Foundation
import Logging
import NIOCore
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import Testing
import WebhookSignature

/// The webhook listener against clients that hold connections: a request must arrive whole within the body timeout
/// of its head (`PROVHOOK_BODY_TIMEOUT_SECONDS`), and past `PROVHOOK_MAX_CONNECTIONS` a new connection is answered
/// 503 at once. Before these limits a sender trickling a body byte now and then kept its connection for ever (each
/// byte restarted the 60 s idle time), and nothing bounded how many such connections there were.
@Suite("Webhook listener against slow senders: the body timeout, the connection cap")
struct ListenerSlowSenderTests {
    /// The body timeout these tests configure: short, so that a test does not wait 30 s for it.
    static let bodyTimeout = Duration.seconds(2)
    /// A hang guard, far above `bodyTimeout` and still under the 60 s idle time, which alone never closed a sender of
    /// a byte a second.
    static let cutOffBound = Duration.seconds(30)

    @Test("a body trickled a byte a second is cut off once the body timeout passes: nothing recorded, counted, logged")
    func slowBodyCutOff() async throws {
        let log = CapturedLog()
        try await EndToEnd.run(log: log, logLevel: .notice, bodyTimeout: Self.bodyTimeout) { run in
            let id = ListenerLimitsTests.newID()
            // A valid, signed event: had it arrived whole it would be accepted, so only the timeout refuses it.
            let body = ListenerLimitsTests.paddedEvent(mac: "000413A1B2E1", size: 200)
            let connection = try ListenerLimitsTests.RawConnection(port: run.provhook.port)
            defer { connection.close() }
            try connection.send(Self.head(run, id: id, body: body))

            // One byte a second, far more often than the 60 s idle time: under that rule alone this went on for as
            // long as the body lasted (200 s), and the loop below would stop at `cutOffBound` with the connection open.
            let started = ContinuousClock.now
            var sent = 0
            while connection.isOpen, sent < body.count, ContinuousClock.now - started < Self.cutOffBound {
                // Once the server has closed, a send may fail; the loop's check then ends it.
                try? connection.send(String(decoding: [body[sent]], as: UTF8.self))
                sent += 1
                try await Task.sleep(for: .seconds(1))
            }
            let elapsed = ContinuousClock.now - started
            #expect(!connection.isOpen, "still open after \(elapsed) and \(sent) of \(body.count) body bytes")
            #expect(sent < body.count, "the whole body was sent")
            #expect(elapsed >= .seconds(1), "closed after \(elapsed), before the body timeout")

            #expect(
                try await ListenerLimitsTests.recorded(id, in: run)
                    == ListenerLimitsTests.Recorded(events: 0, journal: 0))
            #expect(try await run.device("000413A1B2E1") == nil, "no device from a request cut off")
            let metrics = String(decoding: run.provhook.metrics.render(), as: UTF8.self)
            #expect(
                metrics.contains(#"provhook_webhook_rejections_total{reason="body_timeout",source="native"} 1"#),
                "\(metrics.split(separator: "\n").filter { $0.contains("rejections") })")
            #expect(!metrics.contains(#"reason="too_large""#), "a request cut off is not a body too large")
            let lines = log.text.split(separator: "\n").filter { $0.contains("body timeout") }
            #expect(lines.count == 1 && lines.allSatisfy { $0.hasPrefix("notice") }, "\(lines)")
            #expect(lines.allSatisfy { $0.contains("/v1/tenants/acme/events") }, "\(lines)")
            #expect(!log.text.contains("000413A1B2E1"), "nothing of the body is logged")

            // The listener answers on.
            let next = try await run.send(#"{"type":"device.added","mac":"000413A1B2E2"}"#)
            #expect(next.status == 202, "\(next.body)")
        }
    }

    @Test("over the connection cap (3): the 4th gets 503 + Retry-After without its body; a freed place serves again")
    func connectionCap() async throws {
        try await EndToEnd.run(maxConnections: 3) { run in
            let port = run.provhook.port
            // Three connections, each known to be admitted: each has been answered.
            var held: [ListenerLimitsTests.RawConnection] = []
            defer { for connection in held { connection.close() } }
            for _ in 0..<3 {
                let connection = try ListenerLimitsTests.RawConnection(port: port)
                held.append(connection)
                try connection.send(Self.healthz)
                let answer = try await connection.readAnswer()
                #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            }

            // The fourth announces a body it never sends: without the cap it would wait for it (the answer's read is
            // bounded at 30 s, then fails), with the cap it is answered at once.
            let fourth = try ListenerLimitsTests.RawConnection(port: port)
            defer { fourth.close() }
            let id = ListenerLimitsTests.newID()
            let body = ListenerLimitsTests.paddedEvent(mac: "000413A1B2E3", size: 200)
            try fourth.send(Self.head(run, id: id, body: body))
            let refused = try await fourth.readAnswer()
            #expect(refused.hasPrefix("HTTP/1.1 503"), "\(refused)")
            let headers = refused.lowercased()
            #expect(headers.contains("\r\nretry-after: 5\r\n"), "\(refused)")
            #expect(headers.contains("\r\nconnection: close\r\n"), "\(refused)")
            #expect(refused.contains(#""code":"too_many_connections""#), "\(refused)")
            try await eventually("the refused connection closed by the server", within: .seconds(30)) {
                !fourth.isOpen
            }
            #expect(
                try await ListenerLimitsTests.recorded(id, in: run)
                    == ListenerLimitsTests.Recorded(events: 0, journal: 0))
            let metrics = String(decoding: run.provhook.metrics.render(), as: UTF8.self)
            #expect(
                metrics.contains(#"provhook_webhook_rejections_total{reason="too_many_connections",source="unknown"}"#))

            // The admitted ones are served on, keep-alive.
            try held[1].send(Self.healthz)
            let again = try await held[1].readAnswer()
            #expect(again.hasPrefix("HTTP/1.1 200"), "\(again)")

            // One closes; its place is freed once the server has seen the close, and a new connection is served.
            held.removeFirst().close()
            try await eventually("a new connection served after one closed") {
                let connection = try ListenerLimitsTests.RawConnection(port: port)
                defer { connection.close() }
                try connection.send(Self.healthz)
                return (try? await connection.readAnswer())?.hasPrefix("HTTP/1.1 200") ?? false
            }
            // A whole webhook too, on a new connection (the one above has closed).
            try await eventually("a webhook accepted on a new connection") {
                let connection = try ListenerLimitsTests.RawConnection(port: port)
                defer { connection.close() }
                try connection.send(Self.head(run, id: id, body: body) + String(decoding: body, as: UTF8.self))
                return (try? await connection.readAnswer())?.hasPrefix("HTTP/1.1 202") ?? false
            }
            #expect(
                try await ListenerLimitsTests.recorded(id, in: run)
                    == ListenerLimitsTests.Recorded(events: 1, journal: 1))
        }
    }

    @Test("with a 2 s body timeout: requests, keep-alive past the timeout, a body sent in pieces, a chunked body")
    func normalRequestsUnaffected() async throws {
        try await EndToEnd.run(bodyTimeout: Self.bodyTimeout) { run in
            let connection = try ListenerLimitsTests.RawConnection(port: run.provhook.port)
            defer { connection.close() }
            let id = ListenerLimitsTests.newID()
            let body = ListenerLimitsTests.paddedEvent(mac: "000413A1B2E4", size: 120)
            try connection.send(Self.head(run, id: id, body: body) + String(decoding: body, as: UTF8.self))
            let first = try await connection.readAnswer()
            #expect(first.hasPrefix("HTTP/1.1 202"), "\(first)")

            // Idle longer than the body timeout between two requests: the timeout counts a request's arrival only.
            try await Task.sleep(for: Self.bodyTimeout + .seconds(2))
            #expect(connection.isOpen, "a keep-alive connection idle past the body timeout is still open")
            try connection.send(Self.healthz)
            let second = try await connection.readAnswer()
            #expect(second.hasPrefix("HTTP/1.1 200"), "the same connection serves a second request: \(second)")

            // A body in two pieces, 1 s apart: slow, but whole within the timeout.
            let pieceID = ListenerLimitsTests.newID()
            let pieces = ListenerLimitsTests.paddedEvent(mac: "000413A1B2E5", size: 120)
            try connection.send(
                Self.head(run, id: pieceID, body: pieces) + String(decoding: pieces[..<60], as: UTF8.self))
            try await Task.sleep(for: .seconds(1))
            try connection.send(String(decoding: pieces[60...], as: UTF8.self))
            let third = try await connection.readAnswer()
            #expect(third.hasPrefix("HTTP/1.1 202"), "\(third)")

            // A chunked body of exactly the 64 KiB limit, streamed by the HTTP client.
            let chunkedID = ListenerLimitsTests.newID()
            let chunked = try await ListenerLimitsTests.postChunked(
                run, body: ListenerLimitsTests.paddedEvent(mac: "000413A1B2E6", size: ListenerLimitsTests.bodyLimit),
                id: chunkedID)
            #expect(chunked.answer.status == 202, "\(chunked.answer.body)")
            for recorded in [id, pieceID, chunkedID] {
                #expect(
                    try await ListenerLimitsTests.recorded(recorded, in: run)
                        == ListenerLimitsTests.Recorded(events: 1, journal: 1))
            }
            let metrics = String(decoding: run.provhook.metrics.render(), as: UTF8.self)
            #expect(!metrics.contains(#"reason="body_timeout""#), "nothing was cut off")
        }
    }

    // MARK: Helpers

    static let healthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"

    /// The head of a signed webhook for `body` (sent separately, or not at all), keep-alive.
    static func head(_ run: EndToEnd, id: String, body: [UInt8]) -> String {
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let signature = WebhookAuthenticator.sign(id: id, timestamp: timestamp, body: body, secret: run.secret) ?? ""
        return "POST /v1/tenants/\(EndToEnd.tenant)/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Content-Type: application/json\r\nwebhook-id: \(id)\r\nwebhook-timestamp: \(timestamp)\r\n"
            + "webhook-signature: \(signature)\r\nContent-Length: \(body.count)\r\n\r\n"
    }
}
