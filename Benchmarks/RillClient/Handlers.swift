// The channel handlers behind WebSocketClient: the upgrade request, then the frame protocol.

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Synchronization

/// What the event loop and the client's callers both touch.
final class SharedState: Sendable {
    let closeCode = Mutex<WebSocketErrorCode?>(nil)
    /// Frames handed to the event loop by `send` and not yet written to the channel.
    let queuedFrames = Atomic<Int>(0)
    let allocator: ByteBufferAllocator
    private let maskingKeys = Mutex(MaskingKeyPool())

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
    }

    func maskingKey() -> UInt32 {
        self.maskingKeys.withLock { $0.nextKey() }
    }

    func frame(opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer) -> ByteBuffer {
        FrameWriter.frame(opcode: opcode, payload: payload, maskingKey: self.maskingKey(), allocator: self.allocator)
    }

    func frame(opcode: WebSocketOpcode, payload: ByteBuffer) -> ByteBuffer {
        payload.withUnsafeReadableBytes { self.frame(opcode: opcode, payload: $0) }
    }
}

extension ByteBuffer {
    /// The readable bytes as a string, or `nil` if they are not valid UTF-8.
    ///
    /// `String(validating:as:)` runs unspecialised generic code, several times slower than the
    /// stdlib's fast path behind `String(decoding:as:)`. That one repairs invalid input instead
    /// of rejecting it, but a repaired string never equals its (invalid) input, so a comparison
    /// tells the two apart at the cost of a `memcmp`.
    func validUTF8String() -> String? {
        self.withUnsafeReadableBytes { raw in
            let bytes = raw.assumingMemoryBound(to: UInt8.self)
            var text = String(decoding: bytes, as: UTF8.self)
            let intact = text.withUTF8 { decoded in
                decoded.count == bytes.count && (bytes.isEmpty || memcmp(decoded.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
            }
            return intact ? text : nil
        }
    }
}

/// Sends the upgrade request, and fails the connect with the server's answer unless it is a 101.
///
/// A 101 never reaches this handler: `NIOHTTPClientUpgradeHandler` consumes it and the upgrade
/// removes this handler. A refusal is passed on to it as an ordinary response.
final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// How long the server may take to answer the upgrade request.
    static let upgradeTimeout = TimeAmount.seconds(10)

    private let request: HTTPRequestHead
    private var upgraded: EventLoopPromise<NIOLoopBound<WebSocketHandler>>?
    private var timeout: Scheduled<Void>?

    init(request: HTTPRequestHead, upgraded: EventLoopPromise<NIOLoopBound<WebSocketHandler>>) {
        self.request = request
        self.upgraded = upgraded
    }

    /// Called by the upgrade once the WebSocket handlers are in place.
    func upgradeSucceeded(_ handler: NIOLoopBound<WebSocketHandler>) {
        self.timeout?.cancel()
        self.upgraded?.succeed(handler)
        self.upgraded = nil
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        guard let upgraded = self.upgraded else { return }
        self.timeout?.cancel()
        self.upgraded = nil
        upgraded.fail(error)
        context.close(promise: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(self.wrapOutboundOut(.head(self.request)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        self.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: Self.upgradeTimeout) {
            self.fail(ChannelError.connectTimeout(Self.upgradeTimeout), context: context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = self.unwrapInboundIn(data) else { return }
        let headers = head.headers.map { ($0.name, $0.value) }
        self.fail(WebSocketClient.UpgradeFailed(status: Int(head.status.code), headers: headers), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(error, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.fail(ChannelError.eof, context: context)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.fail(ChannelError.eof, context: context)
    }
}

/// Turns server frames into messages, answers pings, and runs the closing handshake.
final class WebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame

    /// How long to wait for the server to finish the closing handshake before dropping the TCP
    /// connection; RFC 6455 lets the server close TCP first, but a broken one must not hang us.
    static let closeTimeout = TimeAmount.seconds(5)

    private let queue: MessageQueue
    private let shared: SharedState
    private let maxMessageSize: Int
    /// Where our pre-encoded frames enter the pipeline: the context of NIO's frame encoder,
    /// whose own `write` is thereby skipped (the upgrader installs it and it cannot be removed).
    private let wire: ChannelHandlerContext
    private var context: ChannelHandlerContext?
    /// The message being reassembled from fragments, and whether it is text.
    private var fragments: (buffer: ByteBuffer, isText: Bool)?
    private var closeSent = false
    private var flushScheduled = false
    private var closeTimer: Scheduled<Void>?

    init(queue: MessageQueue, shared: SharedState, maxMessageSize: Int, wire: ChannelHandlerContext) {
        self.wire = wire
        self.queue = queue
        self.shared = shared
        self.maxMessageSize = maxMessageSize
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.closeTimer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        guard frame.maskKey == nil else {
            return self.protocolViolation("the server sent a masked frame", context: context)
        }
        guard frame.reservedBits.isEmpty else {
            return self.protocolViolation("the server set reserved bits without an extension", context: context)
        }
        switch frame.opcode {
        case .text, .binary:
            guard self.fragments == nil else {
                return self.protocolViolation("a message began inside a fragmented one", context: context)
            }
            if frame.fin {
                self.deliver(frame.data, isText: frame.opcode == .text, context: context)
            } else {
                self.fragments = (frame.data, frame.opcode == .text)
            }
        case .continuation:
            guard case (var buffer, let isText)? = self.fragments else {
                return self.protocolViolation("a continuation frame without a message to continue", context: context)
            }
            // Dropped first so the append below does not copy the buffer on write.
            self.fragments = nil
            guard buffer.readableBytes + frame.data.readableBytes <= self.maxMessageSize else {
                let reason = "a message larger than \(self.maxMessageSize) bytes"
                return self.protocolViolation(reason, code: .messageTooLarge, context: context)
            }
            buffer.writeImmutableBuffer(frame.data)
            if frame.fin {
                self.deliver(buffer, isText: isText, context: context)
            } else {
                self.fragments = (buffer, isText)
            }
        case .ping:
            if !self.closeSent {
                self.wire.writeAndFlush(NIOAny(self.shared.frame(opcode: .pong, payload: frame.data)), promise: nil)
            }
        case .pong:
            break
        case .connectionClose:
            self.receivedClose(frame.data, context: context)
        default:
            self.protocolViolation("unknown opcode \(frame.opcode)", context: context)
        }
    }

    /// Binary messages are dropped: the client's consumers speak text only.
    private func deliver(_ payload: ByteBuffer, isText: Bool, context: ChannelHandlerContext) {
        guard isText else { return }
        guard let text = payload.validUTF8String() else {
            return self.protocolViolation("a text message that is not UTF-8", code: .dataInconsistentWithMessage, context: context)
        }
        if self.queue.push(text) {
            _ = context.channel.setOption(ChannelOptions.autoRead, value: false)
        }
    }

    private func receivedClose(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        var payload = payload
        // RFC 6455 reserves 1005 for "the close frame had no status code".
        let code = payload.readableBytes == 0 ? .unknown(1005) : payload.readWebSocketErrorCode()
        guard let code else {
            return self.protocolViolation("a close frame with a 1-byte body", context: context)
        }
        self.shared.closeCode.withLock { $0 = code }
        self.queue.finish()
        guard !self.closeSent else { return }
        self.sendClose(code == .unknown(1005) ? nil : code, context: context, promise: nil)
    }

    /// Writes one encoded frame; fails `promise` if the connection is gone.
    func write(_ frame: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard let context = self.context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        self.wire.write(NIOAny(frame), promise: promise)
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            self.wire.flush()
        }
    }

    /// Starts the closing handshake from our side; `written` completes once the close frame is
    /// written, or at once if a close frame already went out or the connection is gone.
    func initiateClose(code: WebSocketErrorCode, written: EventLoopPromise<Void>) {
        guard let context = self.context, !self.closeSent, context.channel.isActive else {
            return written.succeed()
        }
        self.sendClose(code, context: context, promise: written)
    }

    private func sendClose(_ code: WebSocketErrorCode?, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        self.closeSent = true
        var payload = self.shared.allocator.buffer(capacity: 2)
        if let code { payload.write(webSocketErrorCode: code) }
        self.wire.writeAndFlush(NIOAny(self.shared.frame(opcode: .connectionClose, payload: payload)), promise: promise)
        self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.closeTimeout) {
            context.close(promise: nil)
        }
    }

    /// Tells the server why with a close frame, ends the message stream with the reason, and
    /// drops the connection without waiting for the server's side of the handshake.
    private func protocolViolation(_ reason: String, code: WebSocketErrorCode = .protocolError, context: ChannelHandlerContext) {
        self.queue.finish(throwing: WebSocketClient.ProtocolViolation(reason: reason))
        self.fragments = nil
        guard !self.closeSent else {
            return context.close(promise: nil)
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        self.sendClose(code, context: context, promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case NIOWebSocketError.invalidFrameLength:
            self.protocolViolation("a frame larger than the maximum frame size", code: .messageTooLarge, context: context)
        case let error as NIOWebSocketError:
            self.protocolViolation("\(error)", context: context)
        default:
            self.queue.finish(throwing: error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.queue.finish()
        context.fireChannelInactive()
    }
}
