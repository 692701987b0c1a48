// An in-process NIO server for the client's tests: a scriptable WebSocket echo and plain HTTP routes.

import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// A server on 127.0.0.1 with an ephemeral port.
///
/// Routes: `/ws` upgrades to ``EchoHandler``; `/forbidden` refuses the upgrade with 403 and a
/// `x-reason` header; `/plain`, `/chunked` and `/until-close` answer GETs with a body delimited by
/// `Content-Length`, by chunked coding, and by the end of the connection.
final class TestServer: Sendable {
    let channel: any Channel

    var port: Int { self.channel.localAddress!.port! }

    private init(channel: any Channel) {
        self.channel = channel
    }

    static func start() async throws -> TestServer {
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 24,
            shouldUpgrade: { channel, head in
                channel.eventLoop.makeSucceededFuture(head.uri == "/ws" ? HTTPHeaders() : nil)
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0,
                            maxAccumulatedFrameCount: 10_000,
                            maxAccumulatedFrameSize: 1 << 24
                        ),
                        EchoHandler()
                    )
                }
            }
        )
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { context in
                                // After the upgrade the bytes are frames, which the HTTP routes must not see.
                                let pipeline = context.pipeline.syncOperations
                                if let routes = try? pipeline.handler(type: PlainHTTPHandler.self) {
                                    pipeline.removeHandler(routes, promise: nil)
                                }
                            }
                        )
                    )
                    try channel.pipeline.syncOperations.addHandler(PlainHTTPHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return TestServer(channel: channel)
    }

    func stop() async throws {
        try await self.channel.close()
    }
}

/// Serves the plain HTTP routes; also sees every request whose upgrade was refused.
private final class PlainHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var uri = ""

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.uri = head.uri
        case .body:
            break
        case .end:
            self.respond(context: context)
        }
    }

    private func respond(context: ChannelHandlerContext) {
        func buffer(_ text: String) -> IOData { .byteBuffer(context.channel.allocator.buffer(string: text)) }
        func close(_ future: EventLoopFuture<Void>) {
            future.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
        switch self.uri {
        case "/forbidden":
            let head = HTTPResponseHead(version: .http1_1, status: .forbidden, headers: ["Content-Length": "2", "X-Reason": "not allowed"])
            context.write(self.wrapOutboundOut(.head(head)), promise: nil)
            context.write(self.wrapOutboundOut(.body(buffer("no"))), promise: nil)
            close(context.writeAndFlush(self.wrapOutboundOut(.end(nil))))
        default:
            let head = HTTPResponseHead(version: .http1_1, status: .notFound, headers: ["Content-Length": "0"])
            context.write(self.wrapOutboundOut(.head(head)), promise: nil)
            close(context.writeAndFlush(self.wrapOutboundOut(.end(nil))))
        }
    }
}

/// Echoes whole text messages, and obeys a few commands that make the server misbehave or act.
///
/// - `big:N`: a text message of N bytes (`abc…z` repeated), in 16 KB fragments
/// - `close:CODE`: the server starts the closing handshake with CODE
/// - `ping:DATA`: the server pings with DATA and, on the pong, sends `pong:DATA`
/// - `masked`: a masked text frame, which no server may send
/// - `bad-utf8`: a text message that is not UTF-8
/// - `flood:N`: the messages `0` to `N-1` as fast as the server can write them
/// - `stall:MS`: the server stops reading for MS milliseconds
///
/// A binary message is answered with the text `binary:COUNT:SUM`. Messages over 16 KB go out
/// fragmented. On a close frame from the client, the server answers it and closes the TCP connection.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    static let fragmentSize = 16 * 1024
    private var closeSent = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        var payload = frame.unmaskedData
        switch frame.opcode {
        case .text:
            self.command(payload.readString(length: payload.readableBytes) ?? "", context: context)
        case .binary:
            let sum = payload.readableBytesView.reduce(0) { $0 + Int($1) }
            self.send(text: "binary:\(payload.readableBytes):\(sum)", context: context)
        case .pong:
            self.send(text: "pong:\(payload.readString(length: payload.readableBytes) ?? "")", context: context)
        case .connectionClose:
            guard !self.closeSent else {
                return context.close(promise: nil)
            }
            self.closeSent = true
            let reply = WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)
            context.writeAndFlush(self.wrapOutboundOut(reply)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        default:
            break
        }
    }

    private func command(_ text: String, context: ChannelHandlerContext) {
        if let count = text.dropPrefix("big:").flatMap({ Int($0) }) {
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz".utf8)
            let bytes = (0..<count).map { alphabet[$0 % alphabet.count] }
            self.send(context.channel.allocator.buffer(bytes: bytes), opcode: .text, context: context)
        } else if let code = text.dropPrefix("close:").flatMap({ Int($0) }) {
            self.closeSent = true
            var payload = context.channel.allocator.buffer(capacity: 2)
            payload.write(webSocketErrorCode: WebSocketErrorCode(codeNumber: code))
            context.writeAndFlush(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)), promise: nil)
        } else if let data = text.dropPrefix("ping:") {
            let ping = WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(string: data))
            context.writeAndFlush(self.wrapOutboundOut(ping), promise: nil)
        } else if text == "masked" {
            let hidden = context.channel.allocator.buffer(string: "hidden")
            let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: [1, 2, 3, 4], data: hidden)
            context.writeAndFlush(self.wrapOutboundOut(frame), promise: nil)
        } else if let count = text.dropPrefix("flood:").flatMap({ Int($0) }) {
            for index in 0..<count {
                let frame = WebSocketFrame(fin: true, opcode: .text, data: context.channel.allocator.buffer(string: "\(index)"))
                context.write(self.wrapOutboundOut(frame), promise: nil)
                if index % 100 == 99 { context.flush() }
            }
            context.flush()
        } else if let milliseconds = text.dropPrefix("stall:").flatMap({ Int64($0) }) {
            let channel = context.channel
            _ = channel.setOption(ChannelOptions.autoRead, value: false)
            channel.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
                _ = channel.setOption(ChannelOptions.autoRead, value: true)
            }
        } else if text == "bad-utf8" {
            self.send(context.channel.allocator.buffer(bytes: [0x61, 0xFF, 0xFE]), opcode: .text, context: context)
        } else {
            self.send(text: text, context: context)
        }
    }

    private func send(text: String, context: ChannelHandlerContext) {
        self.send(context.channel.allocator.buffer(string: text), opcode: .text, context: context)
    }

    private func send(_ message: ByteBuffer, opcode: WebSocketOpcode, context: ChannelHandlerContext) {
        var message = message
        var frameOpcode = opcode
        repeat {
            let part = message.readSlice(length: min(Self.fragmentSize, message.readableBytes))!
            let frame = WebSocketFrame(fin: message.readableBytes == 0, opcode: frameOpcode, data: part)
            context.write(self.wrapOutboundOut(frame), promise: nil)
            frameOpcode = .continuation
        } while message.readableBytes > 0
        context.flush()
    }
}

extension String {
    fileprivate func dropPrefix(_ prefix: String) -> String? {
        self.hasPrefix(prefix) ? String(self.dropFirst(prefix.count)) : nil
    }
}
