// The app's side of a socket: updates and closes handed to its handler on the socket's event loop.

import NIOCore
import NIOWebSocket
import Rill

/// The app's sink for one socket: hands updates to the handler on its event loop.
final class SocketSink: UpdateSink {
    let token: Token
    let executor: (any TaskExecutor)?
    private let handler: NIOLoopBound<SocketHandler>

    init(token: Token, handler: NIOLoopBound<SocketHandler>, executor: LoopExecutor) {
        self.token = token
        self.handler = handler
        self.executor = executor
    }

    func send(_ update: StateUpdate) {
        onLoop { $0.deliver(update) }
    }

    func close(_ reason: CloseReason) {
        switch reason {
        case .superseded:
            onLoop { $0.close(.init(codeNumber: 4001), "another connection took over this tab") }
        case .shutdown:
            onLoop { $0.close(.goingAway, "server shutting down") }
        }
    }

    func refuse(_ error: any Error, event: String? = nil) {
        onLoop { $0.refuse(error, event: event) }
    }

    func pong(_ id: JSON) {
        onLoop { $0.pong(id) }
    }

    private func onLoop(_ body: @escaping @Sendable (SocketHandler) -> Void) {
        if handler.eventLoop.inEventLoop {
            body(handler.value)
        } else {
            let handler = handler
            handler.eventLoop.execute { body(handler.value) }
        }
    }
}
