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
        try await block(nil, body)
    }

    /// A lock block that also saves the task's progress: `checkpoint` is committed with the
    /// block's changes, in the same step, or (the block throws, the save fails) neither is.
    ///
    /// A durable task resumed on another process after a crash reads the last committed one with
    /// ``checkpoint(_:)`` and goes on from there, so no committed step is done twice. Work between
    /// blocks (a call to another service) may run again after a crash: give it an idempotency key
    /// made of the task's id and the step.
    ///
    /// ```swift
    /// var step = try checkpoint(Int.self) ?? 0
    /// while step < 60 {
    ///     try await sleep(for: .seconds(1))
    ///     step += 1
    ///     try await withState(checkpoint: step) { s in s.done.append(step) }
    /// }
    /// ```
    public func withState<C: Encodable & Sendable, R>(checkpoint: C, _ body: (inout Self) async throws -> R) async throws -> R {
        try await block(JSON(encoding: checkpoint), body)
    }

    /// The last checkpoint this task's blocks committed (``withState(checkpoint:_:)``), as `C`;
    /// `nil` before the first. A durable task resumed after a crash starts with the one its
    /// last process committed.
    public func checkpoint<C: Decodable>(_ type: C.Type) throws -> C? {
        try Self.backgroundContext("checkpoint").run.checkpoint.map { try $0.decode(C.self) }
    }

    /// The background task this code runs in: its id, tab and name, and for a durable task its
    /// ``BackgroundTask/durableID``, the same on every process that runs it (a base for
    /// idempotency keys of outside calls).
    public func currentTask() throws -> BackgroundTask {
        try Self.backgroundContext("currentTask").task
    }

    private func block<R>(_ checkpoint: JSON?, _ body: (inout Self) async throws -> R) async throws -> R {
        let context = try Self.backgroundContext("withState")
        // A task resumed with afterCrash: .fail, or lost too often, runs its clean-up only.
        if let interruption = context.run.interruption, !TaskRun.cleaning { throw interruption }
        let result: R
        var bodyFailed = false
        do {
            result = try await context.app.locked(context.task.token, kind: .block, holder: context.task.name, checkpoint: checkpoint) { scope in
                do {
                    return try await scope.withCheckedOut(Self.self, body)
                } catch {
                    bodyFailed = true
                    throw error
                }
            }
        } catch let error as TaskLostError {
            context.run.end(.lost)
            throw error
        } catch {
            // The store failed, not the block: a durable task goes on from its checkpoint later.
            if !bodyFailed, context.run.record != nil, App.mayPass(error) {
                context.run.end(.suspended)
            }
            throw error
        }
        if let checkpoint { context.run.committed(checkpoint) }
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

    /// Runs `body`, then the `cleanup` lock block however `body` ended: returned, threw, or the
    /// task was cancelled (also by its tab disconnecting). Reflex's `try: … finally: async with self: …`.
    ///
    /// The clean-up block sees the latest state under the tab's lock, and its changes are
    /// committed and sent like any block's, so a Stop, a cancel or a failure always leaves the
    /// tab consistent. Put it first in the task: code before it is not covered. `body`'s error is
    /// rethrown afterwards; an error of the clean-up block itself is reported to the tab.
    ///
    /// ```swift
    /// try await withCleanup {
    ///     while true {
    ///         try await withState { s in s.counter += 1 }
    ///         try await sleep(for: .milliseconds(500))
    ///     }
    /// } cleanup: { s in
    ///     s.running = false
    /// }
    /// ```
    public func withCleanup<R>(
        _ body: () async throws -> R,
        cleanup: @escaping @Sendable (inout Self) async throws -> Void
    ) async throws -> R {
        let context = try Self.backgroundContext("withCleanup")
        let outcome: Result<R, any Error>
        if let interruption = context.run.interruption {
            outcome = .failure(interruption)
        } else {
            do {
                outcome = .success(try await body())
            } catch {
                outcome = .failure(error)
            }
        }
        // A durable task handed over or taken by another process goes on there: no clean-up.
        if context.run.ending != .running { return try outcome.get() }
        // A cancelled task opens no lock block, so the clean-up runs in a task of its own,
        // which is not cancelled; it inherits this task's context, so it is this task's block.
        let cleaned = await Task { try await TaskRun.$cleaning.withValue(true) { try await self.withState(cleanup) } }.result
        switch cleaned {
        case .success:
            context.run.cleanupCommitted()
        case .failure(let error):
            guard case .failure = outcome else { throw error }
            context.app.report(context.task.token, event: context.task.name, error)
        }
        return try outcome.get()
    }

    /// Cancels this tab's background tasks started with ``EventSpec/cancellable(id:cancelInFlight:)``
    /// and this `id`, in a handler or a background task. A task that was chained before this
    /// event ran is already registered, so a Cancel right after a Start always finds it.
    public func cancelTasks(id: String) {
        if let scope = EventScope.current {
            scope.app.cancelTasks(id: id, of: scope.token)
        } else if let context = BackgroundContext.current {
            context.app.cancelTasks(id: id, of: context.task.token)
        }
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
            throw ImmutableStateError.blockInHandler(call: call)
        }
        return context
    }

    // MARK: Handlers

    /// Sends the handler's changes so far to the tab while it keeps running (Reflex's `yield`).
    /// If the handler later throws, the tab is sent the values from before the event.
    public func push() async throws {
        guard let scope = EventScope.current, scope.heldByCurrentTask else {
            throw ImmutableStateError.pushOutsideHandler
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

    /// Asks the tab's page to do something besides showing state: `emit(.toast("Saved"))`,
    /// `emit(.redirect(to: "/done"))`. In a handler or block it leaves with the changes after the
    /// commit (and is dropped if the handler throws); elsewhere in a background task it leaves at
    /// once. A command that breaks its rules fails the handler or block with
    /// ``InvalidCommandError``; in a task outside a block it is logged and dropped. Outside any
    /// handler or task there is no tab to send it to: it is ignored.
    public func emit(_ command: PageCommand) {
        if let scope = EventScope.current, scope.heldByCurrentTask {
            scope.command(command)
        } else if let context = BackgroundContext.current {
            let (app, token) = (context.app, context.task.token)
            if let problem = command.problem {
                app.logger.warning("page command refused", metadata: ["token": "\(token)", "problem": "\(problem)"])
            } else {
                app.post(token, StateUpdate(commands: [command]))
            }
        } else {
            EventScope.current?.app.logger.warning("emit(_:) outside a handler or task was ignored", metadata: ["command": "\(command)"])
        }
    }

    /// Another state of the same tab (Reflex's `get_state`), to read: its vars cannot be assigned
    /// (a compile error, where a copy would silently drop the change); change it with
    /// ``modifyState(_:_:)``. Under the lock it is current; in a background task outside a block
    /// it is a snapshot that may be stale.
    public func getState<S: LiveState>(_ type: S.Type) async throws -> ReadOnly<S> {
        if let scope = EventScope.current, scope.heldByCurrentTask {
            if S.stateInfo.isShared { _ = try await scope.holdShared(S.fullName) }
            return ReadOnly(try scope.read(S.self))
        }
        if let context = BackgroundContext.current {
            let app = context.app
            let tab = try await app.snapshot(context.task.token)
            if S.stateInfo.isShared {
                guard let link = tab.links[S.fullName] else { return ReadOnly(S()) }
                return ReadOnly(try await app.manager.snapshot(SharedKey(state: S.fullName, key: link.key), registry: app.registry).state as! S)
            }
            return ReadOnly(tab[S.self])
        }
        throw ImmutableStateError.noTab(call: "getState(_:)")
    }

    /// Changes another state of the same tab while this handler or block holds the lock.
    /// Outside a lock it throws ``ImmutableStateError``.
    @discardableResult
    public func modifyState<S: LiveState, R>(_ type: S.Type, _ body: (inout S) throws -> R) async throws -> R {
        guard let scope = EventScope.current, scope.heldByCurrentTask else {
            throw ImmutableStateError.notLocked(state: "\(S.self)")
        }
        if S.stateInfo.isShared, !(try await scope.holdShared(S.fullName)) {
            throw NotLinkedError(state: S.fullName, type: "\(S.self)")
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
