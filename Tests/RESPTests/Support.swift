// What the RESP tests share: an executor that keeps task order, polling, and a server that breaks the protocol.

import NIOCore
import NIOPosix
import RESP

/// Runs tasks one at a time, in the order they were enqueued, on an event loop: tasks that
/// prefer it start in the order they were created, which the global executor does not promise.
final class EventLoopExecutor: TaskExecutor {
    private let eventLoop = MultiThreadedEventLoopGroup.singleton.next()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

/// Retries `body` until it succeeds or `timeout` passes; returns its result or rethrows its last error.
func eventually<T>(within timeout: Duration, _ body: () async throws -> T) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        do {
            return try await body()
        } catch {
            if ContinuousClock.now >= deadline { throw error }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A server that answers every read with the same bytes, to play a Redis that breaks the protocol.
final class ScriptedServer: Sendable {
    private let channel: any Channel

    var port: Int { self.channel.localAddress!.port! }

    init(reply: String) async throws {
        self.channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyHandler(reply: reply))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func stop() async throws {
        try await self.channel.close()
    }

    private final class ReplyHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let reply: String

        init(reply: String) {
            self.reply = reply
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: self.reply)), promise: nil)
        }
    }
}

/// Thrown by an ``eventually(within:_:)`` body whose condition does not hold yet.
struct StillWaiting: Error {}
