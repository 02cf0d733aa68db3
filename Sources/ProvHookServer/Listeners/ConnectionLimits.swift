import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import ProvHookCore
import Synchronization

// The listeners' defences against clients that hold connections rather than send requests. Hummingbird's idle
// timeout alone is restarted by every part of a request it reads, so a sender trickling one body byte every 45 s
// kept its connection (and a slot of the process's descriptors) for ever. Two limits close that:
//
// - `RequestBodyDeadlineHandler`: a request must arrive whole within the body timeout of its head, on both listeners.
// - `ConnectionCappedChannel`: the webhook listener keeps at most so many connections open; one more is answered
//   503 at once, before anything of its request is read, and closed.

/// The error a request's body ends with when its deadline passes: the route reading it stops there, so nothing of a
/// request cut short is ever used. Its answer cannot be sent (the connection is closed with it), but being an
/// `HTTPResponseError` keeps it from being logged as an unexpected failure on its way out.
public struct RequestBodyTimeout: HTTPResponseError, CustomStringConvertible {
    /// The deadline that passed.
    public var deadline: Duration

    public var status: HTTPResponse.Status { .requestTimeout }
    public var description: String { "the request did not arrive whole within \(self.deadline)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .requestTimeout, headers: [.connection: "close"])
    }
}

/// Closes the connection of a request that has not arrived whole within `deadline` of its head.
///
/// The timer starts when a request's head is decoded and stops at the request's end, so the time a route takes to
/// answer and the idle time between keep-alive requests are not counted (the 60 s idle timeout still covers those,
/// and a head that is slow to arrive: bytes that do not complete a head do not restart that timeout). When it passes,
/// the request's body ends with `RequestBodyTimeout` (the route reading it fails, and records nothing), the event is
/// logged at `notice` with where the request came from and where it went, never its content, and the connection is
/// closed.
final class RequestBodyDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let deadline: Duration
    private let logger: Logger
    /// Counts the closes in `provhook_webhook_rejections_total`: the webhook listener's, not the admin listener's.
    private let metrics: ProvHookMetrics?
    private var timer: Scheduled<Void>?
    /// The request being received: its method and path (without the query, which may carry a source's token), and
    /// how many body bytes came so far.
    private var request: (method: String, path: String, bodyBytes: Int)?

    init(deadline: Duration, logger: Logger, metrics: ProvHookMetrics?) {
        self.deadline = deadline
        self.logger = logger
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            let target = head.path ?? ""
            let path = String(target.prefix { character in character != "?" }.prefix(200))
            self.request = (head.method.rawValue, path, 0)
            self.timer?.cancel()
            self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(self.deadline)) {
                self.expired(context: context)
            }
        case .body(let buffer):
            self.request?.bodyBytes += buffer.readableBytes
        case .end:
            self.stop()
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.stop()
    }

    private func stop() {
        self.timer?.cancel()
        self.timer = nil
        self.request = nil
    }

    private func expired(context: ChannelHandlerContext) {
        self.timer = nil
        let request = self.request
        self.request = nil
        let isNative = request?.path.hasPrefix("/v1/tenants/") ?? false
        self.metrics?.rejection(reason: "body_timeout", source: isNative ? "native" : "unknown")
        self.logger.notice(
            "request not received whole within the body timeout: closing the connection",
            metadata: [
                "peer": .string(context.channel.remoteAddress?.ipAddress ?? "unknown"),
                "method": .string(request?.method ?? ""), "path": .string(request?.path ?? ""),
                "body_bytes_received": .stringConvertible(request?.bodyBytes ?? 0),
                "timeout_seconds": .stringConvertible(self.deadline.components.seconds),
            ])
        // The error first, so that the body ends with it rather than with the close (which a body iterator could
        // take for the end of a short body); then the close, which the route's pending answer cannot outrun.
        context.fireErrorCaught(RequestBodyTimeout(deadline: self.deadline))
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension RequestBodyDeadlineHandler: Sendable {}

/// Counts a listener's open connections against its cap.
final class ConnectionLimiter: Sendable {
    /// The most connections open at once.
    let maximum: Int

    private struct State {
        var open = 0
        /// Whether connections have been refused since the count was last well under the cap: the first refusal of
        /// each such episode is logged, not every one of a flood.
        var refusing = false
    }

    private let state = Mutex(State())

    init(maximum: Int) {
        self.maximum = maximum
    }

    enum Admission: Equatable {
        case admitted
        /// Refused; `first` for the first refusal since the count was last under 90 % of the cap.
        case refused(first: Bool)
    }

    /// Takes a place for a new connection, if one is free.
    func admit() -> Admission {
        self.state.withLock { (state: inout State) -> Admission in
            guard state.open >= self.maximum else {
                state.open += 1
                return .admitted
            }
            defer { state.refusing = true }
            return .refused(first: !state.refusing)
        }
    }

    /// Frees the place of an admitted connection that closed.
    func release() {
        self.state.withLock { state in
            state.open -= 1
            if state.open * 10 < self.maximum * 9 { state.refusing = false }
        }
    }

    /// The connections open now.
    var open: Int { self.state.withLock { $0.open } }
}

/// A listener's connections, at most `limiter.maximum` open at once: each connection over the cap is answered a
/// fixed `503` with `Retry-After` and `Connection: close` as soon as it is accepted, before anything of its request is
/// read or parsed, and closed (`OverCapacityHandler`). It gets no HTTP pipeline at all, so a flood of them costs
/// little more than the accepts.
///
/// Wrapped by `TLSChannel` on an HTTPS listener, so the answer goes out encrypted after the handshake.
struct ConnectionCappedChannel<Base: ServerChildChannel>: ServerChildChannel {
    /// An admitted connection, handled by `Base`, or a refused one, left to `OverCapacityHandler`.
    enum Value: ServerChildChannelValue {
        case admitted(Base.Value)
        case refused(any Channel)

        var channel: any Channel {
            switch self {
            case .admitted(let value): value.channel
            case .refused(let channel): channel
            }
        }
    }

    let base: Base
    let limiter: ConnectionLimiter
    /// Counts the refusals; nil counts none.
    let metrics: ProvHookMetrics?
    let logger: Logger

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        switch self.limiter.admit() {
        case .admitted:
            let limiter = self.limiter
            // The place is freed whatever ends the connection, a failed setup included.
            channel.closeFuture.whenComplete { _ in limiter.release() }
            return self.base.setup(channel: channel, logger: logger).map { Value.admitted($0) }
        case .refused(let first):
            self.metrics?.rejection(reason: "too_many_connections", source: "unknown")
            let level: Logger.Level = first ? .notice : .debug
            self.logger.log(
                level: level, "connection refused: the webhook listener has as many open as PROVHOOK_MAX_CONNECTIONS",
                metadata: [
                    "peer": .string(channel.remoteAddress?.ipAddress ?? "unknown"),
                    "max_connections": .stringConvertible(self.limiter.maximum),
                ])
            return channel.eventLoop.makeCompletedFuture { () throws -> Value in
                try channel.pipeline.syncOperations.addHandler(OverCapacityHandler())
                return .refused(channel)
            }
        }
    }

    func handle(value: Value, logger: Logger) async {
        switch value {
        case .admitted(let value): await self.base.handle(value: value, logger: logger)
        case .refused: break
        }
    }
}

/// Answers a connection over the cap and closes it: the fixed 503 as soon as the connection is active, then the
/// output is shut (the client reads the answer and an end of file), and the connection is closed when the client
/// closes its side or 2 s later. What the client sends meanwhile is read and dropped unparsed: closing a socket with
/// unread data resets it, and a reset can destroy the answer before the client reads it.
final class OverCapacityHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The whole answer, the same bytes for everyone.
    static let answer: String = {
        let body =
            #"{"error":{"code":"too_many_connections","message":"too many open connections; retry later"}}"#
        return "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }()

    /// How long the refused connection may stay after its answer.
    static let linger = TimeAmount.seconds(2)

    private var answered = false
    private var closing: Scheduled<Void>?

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.answer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.answer(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Dropped: the request is never parsed.
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.closing?.cancel()
        self.closing = nil
        context.fireChannelInactive()
    }

    private func answer(context: ChannelHandlerContext) {
        guard !self.answered else { return }
        self.answered = true
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: Self.answer)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in
            // Half-closing may be refused (by TLS); the linger's close then ends the connection alone.
            context.close(mode: .output, promise: nil)
        }
        self.closing = context.eventLoop.assumeIsolated().scheduleTask(in: Self.linger) {
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension OverCapacityHandler: Sendable {}

extension HTTPServerBuilder {
    /// HTTP/1.1 with provhook's limits: keep-alive connections idle for `idleTimeout` closed, each request's body
    /// due within `bodyTimeout` of its head (`RequestBodyDeadlineHandler`), and, with `limiter`, at most so many
    /// connections open (`ConnectionCappedChannel`). `metrics` counts the refusals; nil counts none.
    static func provHookHTTP1(
        idleTimeout: Duration, bodyTimeout: Duration, limiter: ConnectionLimiter?, metrics: ProvHookMetrics?,
        logger: Logger
    ) -> HTTPServerBuilder {
        let configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                RequestBodyDeadlineHandler(deadline: bodyTimeout, logger: logger, metrics: metrics)
            ],
            idleTimeout: TimeAmount(idleTimeout))
        return HTTPServerBuilder { responder in
            let http1 = HTTP1Channel(responder: responder, configuration: configuration)
            guard let limiter else { return http1 }
            return ConnectionCappedChannel(base: http1, limiter: limiter, metrics: metrics, logger: logger)
        }
    }
}
