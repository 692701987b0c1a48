// A task executor over one event loop, so the code that drives a connection runs on its thread.

import NIOCore

/// A `TaskExecutor` that runs jobs on one event loop.
///
/// The server runs a tab's events and background tasks on its socket's loop, so reading an
/// event, running it and writing its delta need no thread hop. A load generator or test client
/// does the same for its connections: a task on Swift's global executor crosses threads at least
/// twice per message, and on a 2-core machine a send/receive round trip measured 50–100 µs of
/// client CPU that way against about 30 µs on the connection's own loop.
///
/// ```swift
/// let loop = MultiThreadedEventLoopGroup.singleton.next()
/// try await withTaskExecutorPreference(LoopExecutor(loop)) {
///     // connect on `loop`, then send and read here or in child tasks
///     // (task groups and `async let` inherit the preference)
/// }
/// ```
///
/// Code running on an event loop must never block: it would stall every connection on that loop.
public final class LoopExecutor: TaskExecutor {
    /// The loop the jobs run on.
    public let loop: any EventLoop

    /// Creates an executor that runs jobs on `loop`.
    public init(_ loop: any EventLoop) {
        self.loop = loop
    }

    /// Schedules `job` on the loop.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
