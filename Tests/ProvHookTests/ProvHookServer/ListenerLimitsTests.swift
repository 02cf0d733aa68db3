import AsyncHTTPClient
import BenchSupport
import Foundation
import Glibc
import NIOCore
import NIOHTTP1
import PostgresNIO
import ProvHookTestSupport
import Testing

/// The webhook listener's limits as docs/platforms.md and docs/security.md state them: a body over 64 KiB is 413 `too_large` however it is
/// framed, a database slower than the deadline is 503 `unavailable` (and the PBX's retry then counts once), and an
/// idle keep-alive connection is closed after 60 s.
@Suite("Webhook listener limits: body size, a slow database, idle keep-alive connections")
struct ListenerLimitsTests {
    /// The documented body limit: "body over 64 KiB" is refused.
    static let bodyLimit = 64 * 1024
    /// The documented idle time of a keep-alive connection (docs/testing.md, "Defects the suite found").
    static let idleTimeout = Duration.seconds(60)

    @Test("a chunked body over 64 KiB → 413 too_large, nothing recorded, the listener answers on; 64 KiB is accepted")
    func chunkedBodyOverTheLimit() async throws {
        try await EndToEnd.run { run in
            // Each body is a valid event, signed: without the limit it would be accepted, so a 413 is the limit's.
            for size in [Self.bodyLimit + 1, 1 << 20] {
                let id = Self.newID()
                let reply = try await Self.postChunked(
                    run, body: Self.paddedEvent(mac: "000413A1B201", size: size), id: id)
                #expect(reply.answer.status == 413, "\(size) bytes: \(reply.answer.body)")
                #expect(reply.answer.errorCode == "too_large", "\(size) bytes")
                #expect(try await Self.recorded(id, in: run) == Recorded(events: 0, journal: 0), "\(size) bytes")
            }
            #expect(try await run.device("000413A1B201") == nil, "no device from a refused body")

            // The listener still answers, and the limit itself is not refused for its size.
            let next = try await run.send(#"{"type":"device.added","mac":"000413A1B202"}"#)
            #expect(next.status == 202, "\(next.body)")
            let id = Self.newID()
            let atLimit = try await Self.postChunked(
                run, body: Self.paddedEvent(mac: "000413A1B203", size: Self.bodyLimit), id: id)
            #expect(atLimit.answer.status == 202, "\(atLimit.answer.body)")
            #expect(try await Self.recorded(id, in: run) == Recorded(events: 1, journal: 1))
        }
    }

    @Test(
        "a database slower than the deadline → 503 unavailable + Retry-After; the retry is accepted, recorded once"
    )
    func databaseSlowerThanTheDeadline() async throws {
        let log = CapturedLog()
        try await EndToEnd.run(databaseDeadline: .seconds(2), log: log) { run in
            // The pool connects on first use, and with a 2 s deadline a loaded machine may answer that first event
            // 503; the PBX would send it again, and so does the test. Afterwards a connection is at hand.
            try await eventually("a first event accepted") {
                try await run.send(#"{"type":"device.added","mac":"000413A1B2D0"}"#).status == 202
            }

            let id = Self.newID()
            let body = Array(#"{"type":"device.added","mac":"000413A1B2D1"}"#.utf8)
            // The superuser holds the table the ingest writes its idempotency key to, until provhook has answered.
            // The deadline is also the pool's lock_timeout, so the ingest gives up waiting for the lock after 2 s
            // rather than at the server's 30 s statement_timeout; the log shows which ended it.
            let refused = try await run.database.withConnection { connection in
                try await connection.query("BEGIN", logger: TestDatabase.logger)
                try await connection.query(
                    "LOCK TABLE webhook_events IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.logger)
                let reply = try await Self.post(run, body: body, id: id, chunked: false)
                let recorded = try await Self.recorded(id, on: connection)
                #expect(recorded == Recorded(events: 0, journal: 0), "nothing committed while the table was held")
                try await connection.query("ROLLBACK", logger: TestDatabase.logger)
                return reply
            }
            #expect(refused.answer.status == 503, "\(refused.answer.body)")
            #expect(refused.answer.errorCode == "unavailable")
            let retryAfter = refused.headers.first(name: "Retry-After")
            #expect(retryAfter.flatMap { Int($0) }.map { $0 > 0 } == true, "Retry-After: \(retryAfter ?? "none")")
            let refusal = log.text.split(separator: "\n").filter { $0.contains("answering 503") }
            #expect(
                refusal.contains { $0.contains("lock timeout") }, "ended by the deadline's lock_timeout: \(refusal)")

            // The PBX retries the same webhook once the database is free: accepted, and recorded exactly once.
            let retried = try await Self.post(run, body: body, id: id, chunked: false)
            #expect(retried.answer.status == 202, "\(retried.answer.body)")
            #expect(retried.answer.json["event"] as? String == id)
            #expect(try await Self.recorded(id, in: run) == Recorded(events: 1, journal: 1))
            let again = try await Self.post(run, body: body, id: id, chunked: false)
            #expect(again.answer.status == 200 && again.answer.json["status"] as? String == "duplicate")
            #expect(try await Self.recorded(id, in: run) == Recorded(events: 1, journal: 1))
        }
    }

    @Test("an idle keep-alive connection serves requests, is still open seconds later, and is closed after 60 s idle")
    func idleKeepAliveConnectionClosed() async throws {
        try await EndToEnd.run { run in
            let connection = try RawConnection(port: run.provhook.port)
            defer { connection.close() }
            let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
            try connection.send(request)
            let first = try await connection.readAnswer()
            #expect(first.hasPrefix("HTTP/1.1 200"), "\(first)")
            #expect(!first.lowercased().contains("connection: close"), "\(first)")

            try await Task.sleep(for: .seconds(5))
            #expect(connection.isOpen, "a keep-alive connection idle for 5 s is still open")
            let sentAt = ContinuousClock.now
            try connection.send(request)
            let second = try await connection.readAnswer()
            #expect(second.hasPrefix("HTTP/1.1 200"), "the same connection serves a second request: \(second)")

            // A hang guard, not a timing assertion: the close is due 60 s after the last request.
            try await eventually("the idle connection closed by the server", within: Self.idleTimeout + .seconds(60)) {
                !connection.isOpen
            }
            let idle = ContinuousClock.now - sentAt
            #expect(idle >= Self.idleTimeout - .seconds(1), "closed after \(idle) idle, before the idle time")
        }
    }

    // MARK: Helpers

    static func newID() -> String { "msg_" + UUID().uuidString.lowercased() }

    /// A `device.added` event for `mac` padded with whitespace to exactly `size` bytes: valid JSON of any size.
    static func paddedEvent(mac: String, size: Int) -> [UInt8] {
        let head = #"{"type":"device.added","mac":"\#(mac)""#
        return Array((head + String(repeating: " ", count: size - head.utf8.count - 1) + "}").utf8)
    }

    struct Reply {
        var answer: RunningProvHook.Answer
        var headers: HTTPHeaders
    }

    /// A signed webhook whose body is streamed in 4 KiB pieces with no length given: `Transfer-Encoding: chunked`,
    /// no `Content-Length`.
    static func postChunked(_ run: EndToEnd, body: [UInt8], id: String) async throws -> Reply {
        try await Self.post(run, body: body, id: id, chunked: true)
    }

    /// A signed webhook, with its answer's headers; waits up to 120 s (a hang guard) for an answer.
    static func post(_ run: EndToEnd, body: [UInt8], id: String, chunked: Bool) async throws -> Reply {
        var request = SignedWebhook.request(
            baseURL: "http://127.0.0.1:\(run.provhook.port)", tenant: EndToEnd.tenant, id: id, body: body,
            secret: run.secret)
        if chunked {
            let pieces = stride(from: 0, to: body.count, by: 4096).map {
                ByteBuffer(bytes: body[$0..<min($0 + 4096, body.count)])
            }
            let stream = AsyncStream(ByteBuffer.self) { continuation in
                for piece in pieces { continuation.yield(piece) }
                continuation.finish()
            }
            request.body = .stream(stream, length: .unknown)
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let answer = try await response.body.collect(upTo: 1 << 20)
        return Reply(
            answer: RunningProvHook.Answer(status: Int(response.status.code), body: String(buffer: answer)),
            headers: response.headers)
    }

    struct Recorded: Equatable, CustomStringConvertible {
        /// `webhook_events` rows of the id.
        var events: Int
        /// `journal` rows of the id written for the event itself (`event.*`), not for the calls it led to.
        var journal: Int
        var description: String { "\(self.events) event row(s), \(self.journal) journal row(s)" }
    }

    static func recorded(_ id: String, in run: EndToEnd) async throws -> Recorded {
        try await run.database.withConnection { connection in try await Self.recorded(id, on: connection) }
    }

    static func recorded(_ id: String, on connection: PostgresConnection) async throws -> Recorded {
        let rows = try await connection.query(
            """
            SELECT (SELECT count(*) FROM webhook_events WHERE webhook_id = \(id)),
                   (SELECT count(*) FROM journal WHERE event_id = \(id) AND action LIKE 'event.%')
            """, logger: TestDatabase.logger)
        for try await (events, journal) in rows.decode((Int, Int).self) {
            return Recorded(events: events, journal: journal)
        }
        return Recorded(events: -1, journal: -1)
    }
}

extension ListenerLimitsTests {
    /// A plain TCP connection to a loopback port, read without blocking, to see what the server does with it.
    final class RawConnection: Sendable {
        let descriptor: Int32

        init(port: Int) throws {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected else {
                let error = errno
                Glibc.close(descriptor)
                throw POSIXError(.init(rawValue: error) ?? .EIO)
            }
            self.descriptor = descriptor
        }

        func send(_ text: String) throws {
            let bytes = Array(text.utf8)
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes {
                    Glibc.send(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                guard count > 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
                sent += count
            }
        }

        /// Reads one answer with a `Content-Length` body, waiting at most 30 s for it.
        func readAnswer() async throws -> String {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let count = buffer.withUnsafeMutableBytes {
                    recv(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
                }
                if count > 0 {
                    received += buffer[..<count]
                    if let answer = Self.complete(received) { return answer }
                } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
                    break
                } else {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            throw AnswerIncomplete(received: String(decoding: received, as: UTF8.self))
        }

        struct AnswerIncomplete: Error, CustomStringConvertible {
            var received: String
            var description: String { "no complete answer; received: \(self.received.debugDescription)" }
        }

        /// The answer in `bytes` once its head and its `Content-Length` body are all there.
        private static func complete(_ bytes: [UInt8]) -> String? {
            let text = String(decoding: bytes, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { return nil }
            let head = text[..<end.lowerBound].lowercased()
            let length =
                head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            return text.utf8.count - text[..<end.upperBound].utf8.count >= length ? text : nil
        }

        /// Whether the server has not closed the connection: a peek that would block means open, end of file or a
        /// reset means closed.
        var isOpen: Bool {
            var byte: UInt8 = 0
            let count = recv(self.descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
            if count >= 0 { return count > 0 }
            return errno == EAGAIN || errno == EWOULDBLOCK
        }

        func close() {
            Glibc.close(self.descriptor)
        }
    }
}
