// States whose tasks nest lock blocks, hold the lock long, or are cancelled and clean up.

import Rill

/// Lock blocks opened by tasks started inside a block of the same tab.
@LiveState
struct NestState {
    var counter = 0

    @Background
    private func viaAsyncLet(_: BackgroundRun) async throws {
        try await withState { s in
            s.counter += 1
            async let inner: Void = withState { $0.counter += 10 }
            try await inner
        }
    }

    @Background
    private func viaTaskGroup(_: BackgroundRun) async throws {
        try await withState { s in
            s.counter += 1
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.withState { $0.counter += 10 } }
                try await group.waitForAll()
            }
        }
    }

    @Background
    private func viaTask(_: BackgroundRun) async throws {
        try await withState { s in
            s.counter += 1
            let inner = Task { try await self.withState { $0.counter += 10 } }
            try await inner.value
        }
    }

    /// A `Task {}` made inside a block whose own block runs after the outer block ended.
    @Background
    private func taskAfterTheBlock(_: BackgroundRun) async throws {
        let (opened, gate) = AsyncStream<Void>.makeStream()
        let inner = try await withState { s in
            s.counter += 1
            return Task {
                for await _ in opened { break }
                try await self.withState { $0.counter += 10 }
            }
        }
        gate.yield()
        try await inner.value
    }

    /// `app.modifyState(token)` from an `async let` child of a handler.
    mutating func handlerChild() async throws {
        counter += 1
        let app = app
        let token = router.token
        async let inner: Void = app.modifyState(token) { $0[NestState.self].counter += 10 }
        try await inner
    }

    /// Holds the tab's lock until the task is cancelled (the test clock never advances).
    @Background
    private func holdLock(_: BackgroundRun) async throws {
        try await withState { _ in try await sleep(for: .seconds(3600)) }
    }
}

/// A job started with a cancel id, stopped by a Cancel event, and cleaned up however it ends.
@LiveState
struct JobState {
    var running = false
    var finished = false
    var steps = 0

    mutating func start() -> EventSpec {
        running = true
        return Self.event.work.cancellable(id: "work")
    }

    mutating func startKeepingOthers() -> EventSpec {
        running = true
        return Self.event.work.cancellable(id: "work", cancelInFlight: false)
    }

    mutating func cancel() {
        cancelTasks(id: "work")
    }

    mutating func startFailing() -> EventSpec {
        running = true
        return Self.event.failing
    }

    mutating func startFollowing() -> EventSpec {
        running = true
        return Self.event.follow
    }

    @Background
    private func work(_: BackgroundRun) async throws {
        try await withCleanup {
            for _ in 0..<3 {
                try await sleep(for: .milliseconds(20))
                try await withState { $0.steps += 1 }
            }
            try await withState { $0.finished = true }
        } cleanup: { s in
            s.running = false
        }
    }

    @Background
    private func failing(_: BackgroundRun) async throws {
        try await withCleanup {
            try await withState { $0.steps += 1 }
            throw Boom()
        } cleanup: { s in
            s.running = false
        }
    }

    @Background(cancelOnDisconnect: true)
    private func follow(_: BackgroundRun) async throws {
        try await withCleanup {
            while true { try await sleep(for: .seconds(1)) }
        } cleanup: { s in
            s.running = false
        }
    }
}
