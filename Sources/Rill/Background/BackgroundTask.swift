// The app's registry of running background tasks (Reflex's `app.background_tasks`).

import Synchronization

/// A running background task: listed in ``App/backgroundTasks`` from its start until it ends,
/// however it ends. Pass it to ``App/cancel(_:)`` to stop it.
public struct BackgroundTask: Sendable, Hashable, Identifiable {
    /// Unique within the app.
    public let id: UInt64
    /// The tab it works for.
    public let token: Token
    /// Its full event name, e.g. `my_task_state.my_task`.
    public let name: String
    /// The id it was started with by ``EventSpec/cancellable(id:cancelInFlight:)``, if any.
    public let cancelID: String?
    /// Its id among the app's durable tasks (``App/durableTasks()``), if it is one and its
    /// state manager keeps it.
    public let durableID: String?
}

/// The first parameter of every background task: a value only Rill creates, handed to the task
/// when its event starts it.
///
/// No other code can make one, and the parameter is unnamed (`_: BackgroundRun`), so no task
/// can pass its own on: calling a background task directly — from the state, an extension, a
/// method reference or another task — does not compile. Start it by returning or emitting its
/// event instead (`Self.event.myTask`).
///
/// ```swift
/// @Background
/// private func myTask(_: BackgroundRun) async throws {
///     try await withState { s in s.counter += 1 }
/// }
/// ```
public struct BackgroundRun: Sendable {
    init() {}
}

/// What a background task's code can reach: its app, tab and handle.
struct BackgroundContext: Sendable {
    @TaskLocal static var current: BackgroundContext?

    let app: App
    let task: BackgroundTask
    let run: TaskRun
    let pace = Pace()
}

/// Keeps a task that runs lock block after block without ever waiting from holding its thread:
/// tasks of many tabs share a socket's event loop, and a socket flushes only when the loop is free.
final class Pace: Sendable {
    /// How long a task may run blocks back to back before it lets others run.
    static let slice = Duration.milliseconds(2)

    private let since = Mutex(ContinuousClock.now)

    /// Yields if the task has run for a whole slice since it last did.
    func yieldIfDue() async {
        let now = ContinuousClock.now
        let due = since.withLock { since in
            guard now - since >= Self.slice else { return false }
            since = now
            return true
        }
        if due { await Task.yield() }
    }
}

/// Running background tasks with their Swift tasks, for listing and cancelling.
final class TaskRegistry: Sendable {
    private struct Entry {
        let handle: BackgroundTask
        let task: Task<Void, Never>
        let cancelOnDisconnect: Bool
        let run: TaskRun
    }

    private struct Entries {
        var running: [UInt64: Entry] = [:]
        var perTab: [Token: Int] = [:]
        var nextID: UInt64 = 0
    }

    private let entries = Mutex(Entries())

    /// Registers and starts a task; `body` gets the handle, and the entry is removed when it
    /// returns. Throws ``TooManyTasksError`` if the tab already runs `limit` tasks.
    /// A task resumed after a crash is not refused for its tab's limit: it was admitted before.
    func start(
        token: Token, name: String, id: String?, cancelOnDisconnect: Bool, run: TaskRun, limit: Int?, on executor: (any TaskExecutor)?,
        _ body: @escaping @Sendable (BackgroundTask) async -> Void
    ) throws -> BackgroundTask {
        try entries.withLock { entries in
            if let limit, entries.perTab[token, default: 0] >= limit { throw TooManyTasksError(limit: limit) }
            entries.perTab[token, default: 0] += 1
            entries.nextID += 1
            let handle = BackgroundTask(id: entries.nextID, token: token, name: name, cancelID: id, durableID: run.record?.id)
            // Detached: a task must not inherit the lock scope of the handler that started it.
            let task = Task.detached(executorPreference: executor) { await body(handle) }
            entries.running[handle.id] = Entry(handle: handle, task: task, cancelOnDisconnect: cancelOnDisconnect, run: run)
            return handle
        }
    }

    /// The durable tasks running here, with their runs.
    var durable: [(BackgroundTask, TaskRun)] {
        entries.withLock { $0.running.values.filter { $0.run.record != nil }.map { ($0.handle, $0.run) } }
    }

    /// Cancels the task running here with this durable id, if any.
    func cancel(durableID: String) {
        entries.withLock { $0.running.values.first { $0.handle.durableID == durableID }?.task }?.cancel()
    }

    func finish(_ handle: BackgroundTask) {
        entries.withLock { entries in
            guard entries.running.removeValue(forKey: handle.id) != nil else { return }
            let left = entries.perTab[handle.token, default: 1] - 1
            entries.perTab[handle.token] = left > 0 ? left : nil
        }
    }

    var all: [BackgroundTask] {
        entries.withLock { $0.running.values.map(\.handle).sorted { $0.id < $1.id } }
    }

    var isEmpty: Bool {
        entries.withLock { $0.running.isEmpty }
    }

    func count(of token: Token) -> Int {
        entries.withLock { $0.perTab[token] ?? 0 }
    }

    func cancel(_ handle: BackgroundTask) {
        entries.withLock { $0.running[handle.id]?.task }?.cancel()
    }

    func cancel(token: Token, onlyOnDisconnect: Bool) {
        let tasks = entries.withLock { entries in
            entries.running.values
                .filter { $0.handle.token == token && (!onlyOnDisconnect || $0.cancelOnDisconnect) }
                .map(\.task)
        }
        for task in tasks { task.cancel() }
    }

    func cancel(token: Token, id: String) {
        let tasks = entries.withLock { entries in
            entries.running.values.filter { $0.handle.token == token && $0.handle.cancelID == id }.map(\.task)
        }
        for task in tasks { task.cancel() }
    }

    func cancelAll() {
        let tasks = entries.withLock { $0.running.values.map(\.task) }
        for task in tasks { task.cancel() }
    }
}
