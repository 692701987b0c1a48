// One tab's WebSocket: token hand-out, the read loop, and the single writer that sends its updates.

import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Rill

/// What the socket's writer sends next.
private enum Outgoing: Sendable {
    case text(String)
    case close(WebSocketErrorCode, String)
}

/// The app's sink for one socket. Updates are queued and written by one task, so frames
/// never interleave and the app never waits on the network while it holds a tab's lock.
final class SocketSink: UpdateSink {
    let token: Token
    private let queue: AsyncStream<Outgoing>.Continuation
    fileprivate let outgoing: AsyncStream<Outgoing>

    init(token: Token) {
        self.token = token
        (outgoing, queue) = AsyncStream.makeStream(of: Outgoing.self)
    }

    func send(_ update: StateUpdate) {
        queue.yield(.text(update.message(token: token)))
    }

    func close(_ reason: CloseReason) {
        switch reason {
        case .superseded:
            queue.yield(.close(.init(codeNumber: 4001), "another connection took over this tab"))
        case .shutdown:
            queue.yield(.close(.goingAway, "server shutting down"))
        }
        queue.finish()
    }

    func refuse(_ error: any Error, event: String? = nil) {
        send(StateUpdate(error: EventError(event: event, message: "\(error)")))
    }

    func finish() {
        queue.finish()
    }

    /// Writes queued messages until the queue ends or a close is written.
    func write(to outbound: WebSocketOutboundWriter) async throws {
        for await message in outgoing {
            switch message {
            case .text(let text):
                try await outbound.write(.text(text))
            case .close(let code, let reason):
                try await outbound.close(code, reason: reason)
                return
            }
        }
    }
}

/// Runs one socket from upgrade to close.
struct SocketSession {
    let app: App
    let configuration: ServerConfiguration
    let query: [String: String]
    let router: RouterData
    let logger: Logger

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let sink: SocketSink
        let refusal: ProtocolError?
        do {
            (sink, refusal) = try await connect()
        } catch {
            // The state store is unreachable: tell the tab why before closing; it reconnects with backoff.
            logger.error("tab could not connect", metadata: ["error": "\(error)"])
            let message: JSON = ["type": "error", "event": .null, "message": .string("this tab's state could not be loaded: \(error)")]
            try? await outbound.write(.text(message.serialized()))
            try? await outbound.close(.unexpectedServerError, reason: "state unavailable")
            return
        }
        defer { app.disconnect(sink.token, sink: sink) }
        if let refusal { sink.refuse(refusal) }
        logger.debug("tab connected", metadata: ["token": "\(sink.token)"])

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sink.write(to: outbound) }
            defer { sink.finish() }
            for try await message in inbound.messages(maxSize: configuration.maxMessageSize) {
                switch message {
                case .text(let text):
                    receive(text, sink: sink)
                case .binary:
                    logger.notice("binary frame refused", metadata: ["token": "\(sink.token)"])
                    sink.close(with: .unacceptableData, "binary frames are not part of the Rill protocol")
                    try await group.waitForAll()
                    return
                }
            }
        }
        logger.debug("tab disconnected", metadata: ["token": "\(sink.token)"])
    }

    /// Connects under the token the tab asked for, or a fresh one when it is malformed or
    /// already connected elsewhere without `resume` (a duplicated tab).
    private func connect() async throws -> (SocketSink, ProtocolError?) {
        var refusal: ProtocolError?
        if let asked = query["token"] {
            if let token = Token(asked) {
                let sink = SocketSink(token: token)
                var router = self.router
                router.token = token
                if try await app.connect(token, router: router, sink: sink, takeOver: query["resume"] == "1") {
                    return (sink, nil)
                }
            } else {
                refusal = ProtocolError("token '\(asked.prefix(80))' is not 8 to 64 letters, digits, '-' or '_'; this tab got a new one")
                logger.notice("malformed token refused")
            }
        }
        let token = Token.random()
        let sink = SocketSink(token: token)
        var router = self.router
        router.token = token
        try await app.connect(token, router: router, sink: sink)
        return (sink, refusal)
    }

    private func receive(_ text: String, sink: SocketSink) {
        do {
            switch try Incoming(text) {
            case .event(let event):
                app.send(event, to: sink.token)
            }
        } catch {
            logger.notice("message refused", metadata: ["token": "\(sink.token)", "reason": "\(error)"])
            sink.refuse(error)
        }
    }
}

extension SocketSink {
    fileprivate func close(with code: WebSocketErrorCode, _ reason: String) {
        queue.yield(.close(code, reason))
        queue.finish()
    }
}
