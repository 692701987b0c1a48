// A task executor over one event loop, so a tab's events run on its socket's thread.

import NIOCore

/// Runs tasks on one event loop: a tab's events and background tasks use its socket's loop, so
/// reading an event, running it and writing its delta need no thread hop.
final class LoopExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
