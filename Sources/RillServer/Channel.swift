// Each accepted connection: plain HTTP for pages and assets, or an upgrade to a tab's socket.

import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import Synchronization

/// The connection setup the server uses: HTTP/1.1 answered by the router, and WebSocket
/// upgrades handed to a ``SocketHandler`` that runs on the connection's event loop.
///
/// The socket path is NIO's frame codec and one handler, with no async streams in between: a
/// frame is read, its event run and the delta written on the same thread.
struct RillChannel: ServerChildChannel, HTTPChannelHandler {
    /// Whether an upgrade request gets a socket, and if not, what it is answered.
    enum Admission: Sendable {
        case accept(SocketSession)
        case refuse(HTTPResponse.Status, String)
    }

    /// Decides on an upgrade request.
    typealias Admit = @Sendable (HTTPRequestHead, any Channel) -> Admission

    enum Upgrade: Sendable {
        case socket
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, HTTPResponse.Status, String)
    }

    struct Value: ServerChildChannelValue {
        let upgrade: EventLoopFuture<Upgrade>
        let channel: any Channel
    }

    let responder: Responder
    let configuration: ServerConfiguration
    let connections: ConnectionCount
    let logger: Logger
    let admit: Admit

    init(responder: @escaping Responder, configuration: ServerConfiguration, connections: ConnectionCount, logger: Logger, admit: @escaping Admit) {
        self.responder = responder
        self.configuration = configuration
        self.connections = connections
        self.logger = logger
        self.admit = admit
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard connections.open() else {
            if connections.shouldLogRefusal() {
                self.logger.warning(
                    "connection limit reached: new connections are closed at once",
                    metadata: ["limit": "\(configuration.maxConnections)"])
            }
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionLimitReached())
        }
        let connections = connections
        channel.closeFuture.whenComplete { _ in connections.closed() }
        let maxMessageSize = configuration.maxMessageSize
        return channel.eventLoop.makeCompletedFuture {
            let admission = NIOLoopBoundBox<Admission?>(nil, eventLoop: channel.eventLoop)
            let timer = RequestGuard(headerTimeout: configuration.headerTimeout, idleTimeout: configuration.idleTimeout)
            let boundTimer = NIOLoopBound(timer, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<Upgrade>(
                maxFrameSize: maxMessageSize,
                shouldUpgrade: { channel, head in
                    admission.value = admit(head, channel)
                    guard case .accept = admission.value else { return channel.eventLoop.makeSucceededFuture(nil) }
                    return channel.eventLoop.makeSucceededFuture([:])
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .accept(let session) = admission.value else { preconditionFailure("upgrade of a refused request") }
                        // A socket keeps itself alive with pings; HTTP's timeouts no longer apply.
                        channel.pipeline.syncOperations.removeHandler(boundTimer.value, promise: nil)
                        try channel.pipeline.syncOperations.addHandler(SocketHandler(session: session, maxMessageSize: maxMessageSize))
                        return .socket
                    }
                }
            )
            let upgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        if case .refuse(let status, let reason) = admission.value { return .refused(http, status, reason) }
                        return .http(http)
                    }
                }
            )
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<Upgrade>(upgradeConfiguration: upgradeConfiguration)
            pipeline.enablePipelining = false
            // RequestGuard answers a request that does not parse.
            pipeline.enableErrorHandling = false
            pipeline.enableResponseHeaderValidation = false
            let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            try channel.pipeline.syncOperations.addHandler(timer)
            return Value(upgrade: upgrade, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgrade.get() {
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let status, let reason):
                await refuse(http, status, reason)
            case .socket:
                // The handler runs the socket; this task only keeps the connection counted
                // by the server until it closes, and closes it if the server is cancelled.
                let channel = value.channel
                try await withTaskCancellationHandler {
                    try await channel.closeFuture.get()
                } onCancel: {
                    channel.close(promise: nil)
                }
            }
        } catch {
            logger.trace("connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func refuse(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, _ status: HTTPResponse.Status, _ reason: String) async {
        let body = ByteBuffer(string: reason + "\n")
        try? await http.executeThenClose { _, outbound in
            try await outbound.write(contentsOf: [
                .head(HTTPResponse(status: status, headerFields: Assets.securityHeaders + [
                    .connection: "close", .contentType: "text/plain; charset=utf-8", .contentLength: "\(body.readableBytes)",
                ])),
                .body(body),
                .end(nil),
            ])
        }
    }
}

/// Counts open connections against the configured limit.
final class ConnectionCount: Sendable {
    let limit: Int
    private let count = Atomic(0)
    private let lastRefusalLog = Mutex<ContinuousClock.Instant?>(nil)

    init(limit: Int) { self.limit = limit }

    /// Counts a new connection if there is room for it.
    func open() -> Bool {
        while true {
            let current = count.load(ordering: .relaxed)
            guard current < limit else { return false }
            if count.compareExchange(expected: current, desired: current + 1, ordering: .relaxed).exchanged { return true }
        }
    }

    func closed() {
        count.subtract(1, ordering: .relaxed)
    }

    /// Whether a refusal should be logged: once every ten seconds while the limit holds.
    func shouldLogRefusal() -> Bool {
        let now = ContinuousClock.now
        return lastRefusalLog.withLock { last in
            if let last, now - last < .seconds(10) { return false }
            last = now
            return true
        }
    }
}

struct ConnectionLimitReached: Error {}

/// Closes an HTTP connection that is too slow to send a request head (or a body), or that sits
/// idle between requests too long, and answers a request that does not parse with 400 and a close.
final class RequestGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var deadline: Scheduled<Void>?
    /// A response head went out and its end has not.
    private var responding = false

    init(headerTimeout: Duration, idleTimeout: Duration) {
        self.headerTimeout = TimeAmount(headerTimeout)
        self.idleTimeout = TimeAmount(idleTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context, headerTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            // The rest of the request gets as long again; none at all while it is answered.
            arm(context, headerTimeout)
        case .body:
            break
        case .end:
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            responding = true
        case .end:
            responding = false
            arm(context, idleTimeout)
        default:
            break
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else { return context.fireErrorCaught(error) }
        let channel = context.channel
        guard !responding else { return channel.close(promise: nil) }
        let body = ByteBuffer(string: "the request is not valid HTTP/1.1\n")
        var headers = HTTPHeaders(Assets.securityHeaders.map { ($0.name.rawName, $0.value) })
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
