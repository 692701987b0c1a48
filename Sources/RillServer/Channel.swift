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
    let maxMessageSize: Int
    let admit: Admit

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let admission = NIOLoopBoundBox<Admission?>(nil, eventLoop: channel.eventLoop)
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
                        try channel.pipeline.syncOperations.addHandler(SocketHandler(session: session, maxMessageSize: maxMessageSize))
                        return .socket
                    }
                }
            )
            let configuration = NIOTypedHTTPServerUpgradeConfiguration(
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
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<Upgrade>(upgradeConfiguration: configuration)
            pipeline.enablePipelining = false
            pipeline.enableErrorHandling = false
            pipeline.enableResponseHeaderValidation = false
            let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
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
                .head(HTTPResponse(status: status, headerFields: [
                    .connection: "close", .contentType: "text/plain; charset=utf-8", .contentLength: "\(body.readableBytes)",
                ])),
                .body(body),
                .end(nil),
            ])
        }
    }
}
