// Runs Swift tasks on a NIO event loop, so code that drives a client shares its connection's thread.

import NIOCore

/// A `TaskExecutor` that runs jobs on one event loop.
///
/// A task that sends and receives on a ``WebSocketClient`` from Swift's global executor crosses
/// threads at least twice per message (to the connection's event loop and back), and a thread
/// wake-up costs more CPU than everything else the message does: on a 2-core VM, a send/receive
/// round trip measured 50–100 µs of client CPU that way, and about 30 µs with the task on the
/// connection's own event loop, where sends are written in place and received messages resume
/// the task without waking another thread. A load generator should therefore run the tasks that
/// drive a connection on that connection's loop:
///
/// ```swift
/// let loop = MultiThreadedEventLoopGroup.singleton.next()
/// try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
///     let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port, path: "/ws", eventLoopGroup: loop)
///     // send and read here, or in child tasks (task groups and `async let` inherit the preference)
/// }
/// ```
///
/// Code running on an event loop must never block: it would stall every connection on that loop.
public final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop the jobs run on.
    public let eventLoop: any EventLoop

    /// Creates an executor that runs jobs on `eventLoop`.
    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Schedules `job` on the event loop.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
