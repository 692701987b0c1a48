// What handler and background-task code calls on `self`: lock blocks, other states, pushes, chaining.

extension LiveState {
    // MARK: Background tasks

    /// A background task's lock block (Reflex's `async with self`): waits for the tab's
    /// exclusive lock, hands `body` the latest state, and sends the delta when `body` returns.
    ///
    /// If `body` throws, its changes are discarded and nothing is sent. A cancelled task runs
    /// no further blocks. Opening a block inside another block of the same tab throws
    /// ``NestedLockError`` instead of waiting forever.
    ///
    /// ```swift
    /// let started = try await withState { s in
    ///     if s.nTasks > 0 { return false }
    ///     s.nTasks += 1
    ///     return true
    /// }
    /// ```
    public func withState<R>(_ body: (inout Self) async throws -> R) async throws -> R {
        let context = try Self.backgroundContext("withState")
        let result = try await context.app.locked(context.task.token, kind: .block) { scope in
            var state = try scope.checkOut(Self.self)
            let result = try await body(&state)
            scope.checkIn(state)
            return result
        }
        await context.pace.yieldIfDue()
        return result
    }

    /// A background task's lock block over the whole tab, to change several of its states at once.
    public func withTab<R>(_ body: (inout TabState) async throws -> R) async throws -> R {
        let context = try Self.backgroundContext("withTab")
        let result = try await context.app.modifyState(context.task.token, body)
        await context.pace.yieldIfDue()
        return result
    }

    /// Waits on the app's clock: real time when served, a test clock under test.
    public func sleep(for duration: Duration) async throws {
        let clock = BackgroundContext.current?.app.clock ?? EventScope.current?.app.clock ?? ContinuousClock()
        try await clock.sleep(for: duration)
    }

    /// The running background task's handle, inside a background task.
    public var backgroundTask: BackgroundTask? { BackgroundContext.current?.task }

    private static func backgroundContext(_ call: String) throws -> BackgroundContext {
        guard let context = BackgroundContext.current else {
            throw ImmutableStateError(message: "\(call) { … } is for background tasks; a handler already holds the tab's lock, so change 'self' directly")
        }
        return context
    }

    // MARK: Handlers

    /// Sends the handler's changes so far to the tab while it keeps running (Reflex's `yield`).
    /// If the handler later throws, the tab is sent the values from before the event.
    public func push() async throws {
        guard let scope = EventScope.current, scope.heldByCurrentTask else {
            throw ImmutableStateError(message: "push() works inside a handler while it runs")
        }
        try await scope.push(self)
    }

    /// Runs `event` after this handler: in a handler or block it is chained when the lock is
    /// released (and dropped if the handler throws); elsewhere in a background task it is sent at once.
    public func emit(_ event: EventSpec) {
        if let scope = EventScope.current, scope.heldByCurrentTask {
            scope.chain(event)
        } else if let context = BackgroundContext.current {
            context.app.send(event, to: context.task.token)
        } else {
            EventScope.current?.app.logger.warning("emit(_:) outside a handler or task was ignored", metadata: ["event": "\(event.name)"])
        }
    }

    /// Another state of the same tab (Reflex's `get_state`). Under the lock it is current;
    /// in a background task outside a block it is a snapshot that may be stale.
    public func getState<S: LiveState>(_ type: S.Type) async throws -> S {
        if let scope = EventScope.current, scope.heldByCurrentTask {
            return try scope.read(S.self)
        }
        if let context = BackgroundContext.current {
            return try await context.app.snapshot(context.task.token)[S.self]
        }
        throw ImmutableStateError(message: "getState(_:) reaches the tab's states from a handler or a background task")
    }

    /// Changes another state of the same tab while this handler or block holds the lock.
    /// Outside a lock it throws ``ImmutableStateError``.
    @discardableResult
    public func modifyState<S: LiveState, R>(_ type: S.Type, _ body: (inout S) throws -> R) async throws -> R {
        guard let scope = EventScope.current, scope.heldByCurrentTask else {
            throw ImmutableStateError(message: "modifyState(\(S.self).self) changes state only while the tab's lock is held: in a handler, or inside withState { … } in a background task")
        }
        return try scope.modify(S.self, body)
    }

    /// The app running this handler or background task, for work that outlives it (hand it
    /// and ``router``'s token to a task that later calls ``App/modifyState(_:_:)``).
    public var app: App {
        if let scope = EventScope.current { return scope.app }
        if let context = BackgroundContext.current { return context.app }
        preconditionFailure("app is available inside handlers and background tasks only")
    }

    /// The tab's token and connection data (Reflex's `router`). Only handlers and background
    /// tasks have a tab: reading it elsewhere is a programming error.
    public var router: RouterData {
        if let scope = EventScope.current { return scope.app.router(scope.token) }
        if let context = BackgroundContext.current { return context.app.router(context.task.token) }
        preconditionFailure("router is available inside handlers and background tasks only")
    }
}
