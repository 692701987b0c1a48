// The public WebSocket client: connects with an HTTP upgrade, sends frames, reads text messages.

import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// One WebSocket connection (`ws://` only), built to cost its process as little CPU per message
/// as possible, for transport tests and load generation.
///
/// Every frame is encoded and masked in a single copy into one buffer and written as is, and
/// frames sent in the same event-loop tick share one flush (one system call). Received text
/// messages are read from ``messages`` by one consumer; while that consumer lags far behind,
/// the client stops reading the socket, so a fast server is slowed by TCP flow control instead
/// of growing an unbounded queue. Pings are answered with pongs; binary messages are read and
/// dropped. Tasks that drive a connection cost least on its event loop: see
/// `LoopExecutor` (RillServer).
public final class WebSocketClient: Sendable {
    /// The server answered the upgrade request with something other than `101 Switching Protocols`.
    public struct UpgradeFailed: Error, Sendable {
        /// The response's status code, such as 403.
        public let status: Int
        /// The response's headers, in order.
        public let headers: [(String, String)]
    }

    /// The server broke RFC 6455; the client closed the connection (with code 1002, 1007 or
    /// 1009) and ended ``messages`` with this error.
    public struct ProtocolViolation: Error, Sendable, CustomStringConvertible {
        /// What the server did wrong.
        public let reason: String

        public var description: String { "WebSocket protocol violation: \(self.reason)" }
    }

    private let channel: any Channel
    private let queue: MessageQueue
    private let shared: SharedState
    private let handler: NIOLoopBound<WebSocketHandler>

    private init(channel: any Channel, queue: MessageQueue, shared: SharedState, handler: NIOLoopBound<WebSocketHandler>) {
        self.channel = channel
        self.queue = queue
        self.shared = shared
        self.handler = handler
    }

    /// Connects and performs the upgrade.
    ///
    /// - Parameters:
    ///   - host: The server's host name or address.
    ///   - port: The server's TCP port.
    ///   - path: The request target of the upgrade request, such as `/ws?tab=1`.
    ///   - headers: Extra headers for the upgrade request (cookies, origin, ...).
    ///   - maxFrameSize: The largest frame, and the largest reassembled message, accepted from the server.
    ///   - eventLoopGroup: Where the connection's I/O runs.
    ///   - receiveBufferSize: The socket's receive buffer (`SO_RCVBUF`) in bytes, fixed instead of
    ///     growing with the traffic; tests of slow readers use a small one.
    /// - Throws: ``UpgradeFailed`` if the server answers the upgrade with anything but 101
    ///   (for example 403), `ChannelError.connectTimeout` if it does not answer within 10
    ///   seconds, or the connection's error if it cannot connect.
    public static func connect(
        host: String,
        port: Int,
        path: String,
        headers: [(String, String)] = [],
        maxFrameSize: Int = 1 << 24,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        receiveBufferSize: Int? = nil
    ) async throws -> WebSocketClient {
        let eventLoop = eventLoopGroup.next()
        let upgraded = eventLoop.makePromise(of: NIOLoopBound<WebSocketHandler>.self)
        let queue = MessageQueue()
        // Channels allocate with the default allocator too; it is a stateless wrapper of malloc.
        let shared = SharedState(allocator: ByteBufferAllocator())
        let request = HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: path,
            headers: HTTPHeaders([("Host", hostHeader(host: host, port: port))] + headers)
        )

        let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: maxFrameSize, automaticErrorHandling: false) { channel, _ in
            channel.eventLoop.makeCompletedFuture {
                let pipeline = channel.pipeline.syncOperations
                let handler = WebSocketHandler(
                    queue: queue,
                    shared: shared,
                    maxMessageSize: maxFrameSize,
                    wire: try pipeline.context(handlerType: WebSocketFrameEncoder.self)
                )
                try pipeline.addHandler(handler)
                let requestHandler = try pipeline.handler(type: UpgradeRequestHandler.self)
                requestHandler.upgradeSucceeded(NIOLoopBound(handler, eventLoop: channel.eventLoop))
                pipeline.removeHandler(requestHandler, promise: nil)
            }
        }
        var bootstrap = ClientBootstrap(group: eventLoop)
        if let receiveBufferSize {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferSize))
        }
        bootstrap = bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                queue.attach(channel)
                let pipeline = channel.pipeline.syncOperations
                try pipeline.addHTTPClientHandlers(
                    leftOverBytesStrategy: .forwardBytes,
                    withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                )
                try pipeline.addHandler(UpgradeRequestHandler(request: request, upgraded: upgraded))
            }
        }

        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            upgraded.fail(error)
            throw error
        }
        // On failure the request handler has already closed the channel.
        let handler = try await upgraded.futureResult.get()
        return WebSocketClient(channel: channel, queue: queue, shared: shared, handler: handler)
    }

    /// Sends `text` as one text frame, masked as a client must.
    ///
    /// Returns once the frame is queued on the connection, without waiting for the write: it
    /// only waits while the connection's outbound buffer is full. It throws if the connection
    /// is already closed; if the connection breaks after that, ``messages`` ends instead.
    ///
    /// Safe to call from several tasks at once: each frame is written whole, so frames never
    /// interleave, and frames from one task go out in the order it sent them.
    public func send(_ text: String) async throws {
        var text = text
        let frame = text.withUTF8 { self.shared.frame(opcode: .text, payload: UnsafeRawBufferPointer($0)) }
        try await self.write(frame)
    }

    /// Sends `binary` as one binary frame, masked as a client must; returns as ``send(_:)`` does.
    public func send(binary: [UInt8]) async throws {
        let frame = binary.withUnsafeBytes { self.shared.frame(opcode: .binary, payload: $0) }
        try await self.write(frame)
    }

    /// Sends `frame` exactly as given, for tests of how a server treats odd frames: its flags,
    /// opcode and masking key are kept, and a frame without a key goes out unmasked.
    public func sendRaw(frame: WebSocketFrame) async throws {
        try await self.write(FrameWriter.encode(frame, allocator: self.shared.allocator))
    }

    /// Frames a sender may hand to the event loop before it waits for them to be written.
    static let maxQueuedFrames = 256

    /// Hands `frame` to the event loop and returns without waiting for the write, unless the
    /// connection's outbound buffer is full or too many frames wait for the event loop: then it
    /// waits until this frame is written. Waiting for every write would cost a thread hop and a
    /// suspension per message, which dominates a small message's CPU cost.
    private func write(_ frame: ByteBuffer) async throws {
        guard self.channel.isActive else { throw ChannelError.ioOnClosedChannel }
        let eventLoop = self.channel.eventLoop
        let handler = self.handler
        let shared = self.shared
        // Writing in place keeps the order only if no earlier frame still waits in the loop's queue.
        let inPlace = eventLoop.inEventLoop && shared.queuedFrames.load(ordering: .relaxed) == 0
        let queued = inPlace ? 0 : shared.queuedFrames.wrappingAdd(1, ordering: .relaxed).newValue
        let written = queued > Self.maxQueuedFrames || !self.channel.isWritable ? eventLoop.makePromise(of: Void.self) : nil
        if inPlace {
            handler.value.write(frame, promise: written)
        } else {
            eventLoop.execute {
                shared.queuedFrames.subtract(1, ordering: .relaxed)
                handler.value.write(frame, promise: written)
            }
        }
        try await written?.futureResult.get()
    }

    /// Stops reading from the connection, like a tab on a slow network: the server's frames wait
    /// in the socket buffers, and then in the server, until ``resumeReading()``.
    public func pauseReading() async throws {
        try await self.channel.setOption(ChannelOptions.autoRead, value: false).get()
    }

    /// Reads again after ``pauseReading()``.
    public func resumeReading() async throws {
        try await self.channel.setOption(ChannelOptions.autoRead, value: true).get()
    }

    /// The received text messages, in order; fragmented messages arrive reassembled.
    ///
    /// For one consumer at a time; a new iteration continues where the last one stopped. The
    /// sequence ends when the connection closes, or throws ``ProtocolViolation`` or the
    /// connection's error if it broke; messages that arrived before the end come first.
    public var messages: AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream(unfolding: { [queue] in try await queue.next() })
    }

    /// Closes the connection with a close frame carrying `code`, then waits until the server has
    /// answered and closed the TCP connection (or for at most five seconds).
    public func close(code: WebSocketErrorCode = .normalClosure) async throws {
        let written = self.channel.eventLoop.makePromise(of: Void.self)
        self.channel.eventLoop.execute { [handler] in
            handler.value.initiateClose(code: code, written: written)
        }
        try await written.futureResult.get()
        await self.waitClosed()
    }

    /// The close code the server sent, once the server closed: `nil` while the connection is
    /// open and when the TCP connection just dropped; `.unknown(1005)` for a close frame with no code.
    public var closeCode: WebSocketErrorCode? {
        self.shared.closeCode.withLock { $0 }
    }

    /// Completes when the connection is closed, by either side, or when the calling task is
    /// cancelled.
    public func waitClosed() async {
        let waiter = CloseWaiter()
        await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                waiter.wait(continuation)
                self.channel.closeFuture.whenComplete { _ in waiter.resume() }
            }
        } onCancel: {
            waiter.resume()
        }
    }
}

/// Resumes `waitClosed` once, on close or on cancellation, whichever comes first.
private final class CloseWaiter: Sendable {
    private enum State {
        case idle
        case waiting(UnsafeContinuation<Void, Never>)
        case done
    }

    private let state = Mutex(State.idle)

    func wait(_ continuation: UnsafeContinuation<Void, Never>) {
        let resumeNow = self.state.withLock { state in
            guard case .idle = state else { return true }
            state = .waiting(continuation)
            return false
        }
        if resumeNow { continuation.resume() }
    }

    func resume() {
        let continuation: UnsafeContinuation<Void, Never>? = self.state.withLock { state in
            defer { state = .done }
            guard case .waiting(let continuation) = state else { return nil }
            return continuation
        }
        continuation?.resume()
    }
}

/// The `Host` header: the port may only be left out when it is HTTP's default.
func hostHeader(host: String, port: Int) -> String {
    let host = host.contains(":") ? "[\(host)]" : host
    return port == 80 ? host : "\(host):\(port)"
}
