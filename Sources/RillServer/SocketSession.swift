// What a socket knows of the request that opened it, and how it connects its tab and runs its messages.

import Logging
import NIOCore
import Rill

/// What a socket needs from the request that opened it: the app, the options, and who asked.
struct SocketSession: Sendable {
    let app: App
    let query: [String: String]
    let router: RouterData
    let logger: Logger
    let metrics: TransportMetrics

    /// Connects under the token the tab asked for, or a fresh one when it is malformed or
    /// already connected elsewhere without `resume` (a duplicated tab). The first connection of
    /// a page load (`load=1`) navigates the tab to its `path`, which runs the page's `onLoad`.
    func connect(sink makeSink: (Token) -> SocketSink) async throws -> (SocketSink, ProtocolError?) {
        let (sink, refusal) = try await connectTab(sink: makeSink)
        if query["load"] == "1" {
            app.navigate(sink.token, to: query["path"] ?? "/")
        } else {
            app.resume(sink.token, at: query["path"] ?? "/")
        }
        return (sink, refusal)
    }

    private func connectTab(sink makeSink: (Token) -> SocketSink) async throws -> (SocketSink, ProtocolError?) {
        var refusal: ProtocolError?
        if let asked = query["token"] {
            if let token = Token(asked) {
                let sink = makeSink(token)
                var router = self.router
                router.token = token
                if try await app.connect(token, router: router, sink: sink, takeOver: query["resume"] == "1") {
                    return (sink, nil)
                }
            } else {
                refusal = ProtocolError("token '\(asked.clipped(80))' is not 8 to 64 letters, digits, '-' or '_'; this tab got a new one")
                logger.notice("malformed token refused")
            }
        }
        let token = Token.random()
        let sink = makeSink(token)
        var router = self.router
        router.token = token
        try await app.connect(token, router: router, sink: sink)
        return (sink, refusal)
    }

    /// Runs one message from the tab, or tells the tab what was wrong with it.
    func receive(_ message: ByteBuffer, sink: SocketSink) {
        do {
            switch try Incoming(message.readableBytesView) {
            case .event(let event, let id):
                app.receive(event, from: sink.token, bytes: message.readableBytes, id: id)
            case .ping(let id):
                sink.pong(id)
            case .navigate(let path):
                app.navigate(sink.token, to: path)
            case .storage(let values):
                app.restore(values, from: sink.token)
            case .resync:
                app.resync(sink.token)
            }
        } catch {
            let (log, dropped) = app.logBudget.take(sink.token)
            if log {
                var metadata: Logger.Metadata = ["token": "\(sink.token)", "reason": "\("\(error)".clipped(300))"]
                if dropped > 0 { metadata["unlogged"] = "\(dropped)" }
                logger.notice("message refused", metadata: metadata)
            }
            sink.refuse(error)
        }
    }
}
