// One tab's WebSocket on its event loop: token hand-out, frames in, updates out, pings and close.

import CoreMetrics
import Logging
import NIOCore
import NIOWebSocket
import Rill

/// Runs a tab's socket inside the channel pipeline, on the channel's event loop.
///
/// The tab's events and background tasks run on the same loop (``LoopExecutor``), so an event
/// is read, run under the tab's lock and answered without changing threads. Updates are written
/// as they come and flushed once per loop turn; while the socket cannot take more (the tab reads
/// too slowly) they wait, coalesced into one delta, so a slow tab costs bounded memory and gets
/// the newest state as soon as it catches up.
final class SocketHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Errors kept for a tab that is not reading, by count and by bytes; more are dropped (and logged).
    static let maxWaitingErrors = 64
    static let maxWaitingErrorBytes = 64 << 10
    /// Page commands kept for a tab that is not reading: room for one largest download and then some.
    static let maxWaitingCommands = 256
    static let maxWaitingCommandBytes = 16 << 20
    /// Messages kept while the tab is still being connected, by count and by bytes; more close the socket.
    static let maxEarlyMessages = 1000
    static let maxEarlyBytes = 1 << 20
    static let pingInterval = TimeAmount.seconds(30)
    static let closeTimeout = TimeAmount.seconds(5)

    private let session: SocketSession
    private let maxMessageSize: Int
    private var context: ChannelHandlerContext?
    private var sink: SocketSink?
    /// The tab's token, known once the app has been asked to connect it.
    private var token: Token?
    private var early: [ByteBuffer] = []
    private var earlyBytes = 0
    /// The payload of the latest ping not yet answered because the tab is not reading: one pong
    /// answers them all (RFC 6455 allows answering only the most recent).
    private var unansweredPing: ByteBuffer?
    private var fragments: ByteBuffer?
    private var waiting = Waiting()
    private var flushScheduled = false
    private var awaitingPong = false
    private var closing = false
    private var ping: RepeatedTask?

    init(session: SocketSession, maxMessageSize: Int) {
        self.session = session
        self.maxMessageSize = maxMessageSize
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        session.metrics.socketsOpen.increment()
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        ping = loop.scheduleRepeatedTask(initialDelay: Self.pingInterval, delay: Self.pingInterval) { _ in
            handler.value.sendPing()
        }
        let executor = LoopExecutor(loop)
        let session = session
        Task(executorPreference: executor) {
            do {
                let (sink, refusal) = try await session.connect { token in
                    handler.value.token = token
                    return SocketSink(token: token, handler: handler, executor: executor)
                }
                handler.value.connected(sink, refusal: refusal)
            } catch {
                handler.value.failedToConnect(error)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.metrics.socketsOpen.decrement()
        ping?.cancel()
        ping = nil
        if let sink {
            session.app.disconnect(sink.token, sink: sink)
            session.logger.debug("tab disconnected", metadata: ["token": "\(sink.token)"])
        }
        sink = nil
        self.context = nil
        context.fireChannelInactive()
    }

    private func connected(_ sink: SocketSink, refusal: ProtocolError?) {
        guard context != nil else {
            // Closed while connecting.
            session.app.disconnect(sink.token, sink: sink)
            return
        }
        self.sink = sink
        session.logger.debug("tab connected", metadata: ["token": "\(sink.token)"])
        if let refusal { refuse(refusal) }
        let messages = early
        early = []
        for message in messages { session.receive(message, sink: sink) }
    }

    private func failedToConnect(_ error: any Error) {
        // The state store is unreachable: tell the tab why before closing; it reconnects with backoff.
        session.logger.error("tab could not connect", metadata: ["error": "\(error)"])
        let message: JSON = ["type": "error", "event": .null, "message": .string("this tab's state could not be loaded: \(error)")]
        write(message)
        close(.unexpectedServerError, "state unavailable")
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !frame.rsv1, !frame.rsv2, !frame.rsv3 else {
            return close(.protocolError, "reserved bits are set but no extension was agreed")
        }
        guard frame.maskKey != nil else {
            return close(.protocolError, "frames from a client must be masked")
        }
        switch frame.opcode {
        case .text where fragments == nil:
            if frame.fin { receive(frame.unmaskedData) } else { fragments = frame.unmaskedData }
        case .continuation where fragments != nil:
            var message = fragments!
            var part = frame.unmaskedData
            message.writeBuffer(&part)
            guard message.readableBytes <= maxMessageSize else {
                fragments = nil
                return close(.messageTooLarge, "message is larger than \(maxMessageSize) bytes")
            }
            if frame.fin {
                fragments = nil
                receive(message)
            } else {
                fragments = message
            }
        case .binary:
            session.logger.notice("binary frame refused", metadata: ["token": "\(token?.rawValue ?? "-")"])
            close(.unacceptableData, "binary frames are not part of the Rill protocol")
        case .ping:
            guard !closing else { return }
            if context.channel.isWritable {
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
            } else {
                unansweredPing = frame.unmaskedData
            }
        case .pong:
            awaitingPong = false
        case .connectionClose:
            closed(by: frame)
        default:
            close(.protocolError, "unexpected \(frame.opcode) frame")
        }
    }

    private func receive(_ message: ByteBuffer) {
        guard let sink else {
            earlyBytes += message.readableBytes
            guard early.count < Self.maxEarlyMessages, earlyBytes <= Self.maxEarlyBytes else {
                early = []
                return close(.policyViolation, "too many messages before the tab was connected")
            }
            early.append(message)
            return
        }
        session.receive(message, sink: sink)
    }

    /// The tab closed (or answered our close): answer with the same code if we had not closed yet.
    private func closed(by frame: WebSocketFrame) {
        guard let context else { return }
        if closing {
            context.close(promise: nil)
            return
        }
        var data = frame.unmaskedData
        guard data.readableBytes != 1, data.readableBytes < 2 || Self.isValidCloseCode(data.getInteger(at: data.readerIndex, as: UInt16.self) ?? 0) else {
            return close(.protocolError, "invalid close code")
        }
        closing = true
        let code = data.readableBytes >= 2 ? data.readSlice(length: 2)! : context.channel.allocator.buffer(capacity: 0)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    /// Codes a peer may send (RFC 6455 7.4): the defined ones it may use, and those for
    /// libraries (3000–3999) and applications (4000–4999).
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    /// A FIN without a close frame: the tab is gone now, not at the next missed ping.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        session.logger.debug("socket error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Writing

    /// Sends an update now, or keeps it (coalesced) until the socket can take more.
    func deliver(_ update: StateUpdate) {
        guard let context, !closing else { return }
        if waiting.isEmpty, context.channel.isWritable {
            write(update)
            return
        }
        if update.error == nil { session.metrics.deltasCoalesced.increment() }
        if !waiting.add(update) {
            if let token {
                let (log, dropped) = session.app.logBudget.take(token)
                if log {
                    var metadata: Logger.Metadata = ["token": "\(token)"]
                    if dropped > 0 { metadata["unlogged"] = "\(dropped)" }
                    let what = update.error == nil ? "page commands" : "error"
                    session.logger.warning("\(what) dropped: the tab is not reading", metadata: metadata)
                }
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, !closing {
            if let ping = unansweredPing {
                unansweredPing = nil
                context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: ping)), promise: nil)
                scheduleFlush()
            }
            for update in waiting.take() { write(update) }
        }
        context.fireChannelWritabilityChanged()
    }

    private func write(_ update: StateUpdate) {
        guard let token, let context else { return }
        if update.error == nil, !update.isHydration { session.metrics.deltasSent.increment() }
        guard let encoded = update.encoded else { return write(update.message(token: token)) }
        // The same change of a shared key goes to every linked tab: serialized by the first.
        let bytes = encoded.get { update.message(token: token).withSerializedBytes { Array($0) } }
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        write(buffer)
    }

    private func write(_ message: JSON) {
        guard let context else { return }
        let buffer = message.withSerializedBytes { bytes in
            var buffer = context.channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            return buffer
        }
        write(buffer)
    }

    private func write(_ buffer: ByteBuffer) {
        guard let context else { return }
        session.metrics.bytesOut.increment(by: buffer.readableBytes)
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: buffer)), promise: nil)
        scheduleFlush()
    }

    /// Flushes once after everything this loop turn wrote: a burst of updates (a background
    /// task's blocks) leaves in one system call.
    private func scheduleFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = handler.value
            handler.flushScheduled = false
            handler.context?.flush()
        }
    }

    /// Answers the page's ping. A tab that is not reading gets no pong: it would not see it in
    /// time, and missing it tells the page what is true, that its updates are not arriving.
    func pong(_ id: JSON) {
        guard let context, !closing, context.channel.isWritable else { return }
        write(["type": "pong", "id": id])
    }

    func refuse(_ error: any Error, event: String? = nil) {
        deliver(StateUpdate(error: EventError(event: event, message: "\(error)")))
    }

    private func sendPing() {
        guard let context, !closing else { return }
        if awaitingPong {
            session.logger.notice("socket closed: no answer to the last ping", metadata: ["token": "\(token?.rawValue ?? "-")"])
            context.close(promise: nil)
            return
        }
        awaitingPong = true
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0))), promise: nil)
    }

    /// Starts the closing handshake; the connection ends when the tab answers, or after a timeout.
    func close(_ code: WebSocketErrorCode, _ reason: String) {
        guard let context, !closing else { return }
        closing = true
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: Self.closeTimeout) { channel.close(promise: nil) }
    }
}

extension SocketHandler {
    /// Updates held back while the tab is not reading: the tab's deltas merged into one (newest
    /// value of each var wins; a hydration stays a hydration), and each shared key's likewise,
    /// in the order they first came; their commands in order, and a list of errors; commands and
    /// errors bounded by count and bytes. Shared keys a tab is linked to are few (one per shared
    /// state type), so the merged updates are bounded too.
    fileprivate struct Waiting {
        private var delta: StateUpdate?
        private var streams: [(SharedStream, StateUpdate)] = []
        private var errors: [StateUpdate] = []
        private var errorBytes = 0
        private var commandBytes = 0

        var isEmpty: Bool { delta == nil && streams.isEmpty && errors.isEmpty }

        /// Keeps `update`; `false` if it was an error, or carried commands, beyond the bounds
        /// (then they are dropped, and the rest of it kept).
        mutating func add(_ update: StateUpdate) -> Bool {
            var update = update
            var kept = true
            if !update.commands.isEmpty {
                let bytes = update.commands.reduce(0) { $0 + $1.byteCount }
                let count = (delta?.commands.count ?? 0) + update.commands.count
                if count > SocketHandler.maxWaitingCommands || commandBytes + bytes > SocketHandler.maxWaitingCommandBytes {
                    update.commands = []
                    kept = false
                } else {
                    commandBytes += bytes
                }
            }
            if let error = update.error {
                let bytes = error.message.utf8.count + (error.event?.utf8.count ?? 0)
                    + error.fields.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
                guard errors.count < SocketHandler.maxWaitingErrors, errorBytes + bytes <= SocketHandler.maxWaitingErrorBytes else {
                    return false
                }
                errorBytes += bytes
                errors.append(update)
            } else if let stream = update.stream {
                if let index = streams.firstIndex(where: { $0.0 == stream }) {
                    streams[index].1.merge(update)
                } else {
                    // A hydration of the state's stream replaces whatever waits for its keys before.
                    if update.isHydration { streams.removeAll { $0.0.state == stream.state } }
                    streams.append((stream, update))
                }
            } else if var merged = delta {
                merged.merge(update)
                delta = merged
            } else {
                delta = update
            }
            return kept
        }

        mutating func take() -> [StateUpdate] {
            defer { self = Waiting() }
            return (delta.map { [$0] } ?? []) + streams.map(\.1) + errors
        }
    }
}
