// Durable background tasks: their records, the protocol a state manager keeps them with, and what a run knows.

import Synchronization

/// What becomes of a durable task whose process stopped (killed, crashed, lost) before it ended.
public enum AfterCrash: String, Sendable, Codable {
    /// Another process runs the task again for the same tab, from its last committed checkpoint.
    case resume
    /// The task is not run again: another process runs its clean-up block (``LiveState/withCleanup(_:cleanup:)``)
    /// and the tab is told that the task was interrupted.
    case fail
}

/// A durable task as its state manager records it: enough for any process to run it again.
public struct DurableRecord: Sendable, Codable, Hashable {
    /// Unique among the app's durable tasks.
    public let id: String
    /// The tab it works for.
    public let token: Token
    /// Its full event name, e.g. `counter_state.count`.
    public let event: String
    /// The event's payload: the task's arguments.
    public let payload: [String: JSON]
    /// What to do after a crash.
    public let afterCrash: AfterCrash
    /// When it started, in milliseconds since 1970.
    public let since: Int64
    /// The id it was started with by ``EventSpec/cancellable(id:cancelInFlight:)``, if any.
    public let cancelID: String?

    enum CodingKeys: String, CodingKey {
        case id, token = "t", event = "e", payload = "p", afterCrash = "a", since = "s", cancelID = "c"
    }

    /// Describes a task; the app makes one when a handler starts a durable task.
    public init(
        id: String, token: Token, event: String, payload: [String: JSON], afterCrash: AfterCrash, since: Int64, cancelID: String? = nil
    ) {
        self.id = id
        self.token = token
        self.event = event
        self.payload = payload
        self.afterCrash = afterCrash
        self.since = since
        self.cancelID = cancelID
    }
}

/// A durable task a process has just taken over.
public struct ClaimedTask: Sendable, Hashable {
    /// The task.
    public let record: DurableRecord
    /// How many runs of it in a row were lost before one saved a block: its process died, or
    /// its blocks could not be saved. A task that keeps taking its process down, or that can
    /// never save, is stopped once this passes ``App/maxLostRuns``.
    public let lostRuns: Int

    /// Describes a claimed task; made by a state manager's ``DurableTasks/claim(limit:events:)``.
    public init(record: DurableRecord, lostRuns: Int) {
        self.record = record
        self.lostRuns = lostRuns
    }
}

/// A durable task somewhere in the cluster, for ``App/durableTasks()``.
public struct DurableTaskInfo: Sendable, Hashable {
    /// The task.
    public let record: DurableRecord
    /// The process running it (its ``StateManager/processID``); empty while no process does
    /// (handed over, or its process died and no other has claimed it yet).
    public let owner: String
    /// The last checkpoint its blocks committed, if any.
    public let checkpoint: JSON?

    /// Describes a task; made by a state manager's ``DurableTasks/list()``.
    public init(record: DurableRecord, owner: String, checkpoint: JSON?) {
        self.record = record
        self.owner = owner
        self.checkpoint = checkpoint
    }
}

/// How a state manager keeps durable tasks: records written with the commit that started them,
/// owned by one process at a time, claimed by another when their process is gone.
///
/// `RedisStateManager` (in RillRedis) implements it; with a manager that does not (``MemoryStateManager``)
/// durable tasks run as normal tasks.
public protocol DurableTasks: Sendable {
    /// Takes over up to `limit` tasks of these events whose process is gone or that were handed
    /// over; each is owned by this process once returned. Exactly one caller gets each task.
    /// A task whose process was gone counts one more lost run; a committed block of the task
    /// (``TaskWrites/block``) sets the count back to zero.
    func claim(limit: Int, events: Set<String>) async throws -> [ClaimedTask]
    /// Forgets an ended task (and its checkpoint) if this process still owns it.
    func finish(_ record: DurableRecord) async throws
    /// Gives up this process's tasks with these ids, for any process to claim at once.
    func release(_ ids: [String], _ reason: ReleaseReason) async throws
    /// Asks whichever process runs the task to cancel it.
    func cancel(_ id: String) async throws
    /// Every durable task of the app, with its owner and last checkpoint.
    func list() async throws -> [DurableTaskInfo]
    /// Routes notices from other processes: tasks were handed over (claim now), or a task is to
    /// be cancelled.
    func bind(released: @escaping @Sendable () -> Void, cancel: @escaping @Sendable (String) -> Void)
}

/// Why a process gives durable tasks up.
public enum ReleaseReason: String, Sendable {
    /// The process is shutting down: others take its tasks at once, and it no longer counts
    /// among the processes a claim shares tasks with.
    case handover
    /// The run could not go on (a block could not be saved): it counts as a lost run.
    case lost
    /// This process cannot run it now (its checkpoint could not be read); any process may.
    case retry
}

/// What the commit of a durable task's block, or of the handler that started durable tasks,
/// writes besides the tab's state; the state manager writes it in the same step.
public struct TaskWrites: Sendable {
    /// Durable tasks started by this commit's handler: recorded, owned by this process.
    public internal(set) var started: [DurableRecord] = []
    /// The durable task this commit is a block of: it saves only while this process owns it.
    public internal(set) var block: String?
    /// The task's new checkpoint, saved with the state.
    public internal(set) var checkpoint: JSON?
    /// This block is the task's clean-up: once it commits, the task is never run again, and a
    /// process that would take it over forgets it instead.
    public internal(set) var ending = false

    /// Nothing to write.
    public init() {}

    var isEmpty: Bool { started.isEmpty && block == nil }
}

/// A durable task's block was not saved: another process owns the task now (this one was
/// thought dead), and runs it.
public struct TaskLostError: Error, CustomStringConvertible {
    /// The task's id.
    public let id: String

    /// The error for the task with this id; thrown by a state manager whose commit found the
    /// task owned by another process.
    public init(id: String) {
        self.id = id
    }

    public var description: String {
        "durable task \(id) is run by another process now (this one was thought gone): its block was not saved and it stops here"
    }
}

/// A durable task is not run again: it has `afterCrash: .fail` and its process stopped, or its
/// runs were lost more than ``App/maxLostRuns`` times in a row before one saved a block.
public struct TaskInterruptedError: Error, CustomStringConvertible {
    /// The task's event name.
    public let event: String
    /// How many runs in a row were lost, when that is why it stopped; `nil` for `afterCrash: .fail`.
    public let lostRuns: Int?
    /// Whether its clean-up block ran (it did not when the run of the clean-up was lost too).
    public let cleanedUp: Bool

    init(event: String, lostRuns: Int? = nil, cleanedUp: Bool = true) {
        self.event = event
        self.lostRuns = lostRuns
        self.cleanedUp = cleanedUp
    }

    public var description: String {
        guard let lostRuns else {
            return "background task '\(event)' was interrupted when the process running it stopped; it is not run again (afterCrash: .fail)"
        }
        let cleanup = cleanedUp ? "" : ", nor its clean-up (that run was lost too)"
        return "background task '\(event)' was stopped: \(lostRuns) runs of it in a row ended before saving a block (its process stopped, or its blocks could not be saved); it is not run again\(cleanup). The server log says more"
    }
}

/// One run of a background task: its durable record (when its state manager keeps it), its
/// last checkpoint, and how it is to end.
final class TaskRun: Sendable {
    /// Set when the task is durable and kept: its blocks commit only while this process owns it.
    let record: DurableRecord?
    /// Run again after its process stopped.
    let resumed: Bool
    /// Set for a run after a crash that must not do the work again (`afterCrash: .fail`, or
    /// too many lost runs): only its clean-up runs, and it ends with this error.
    let interruption: TaskInterruptedError?
    private let saved: Mutex<JSON?>
    private let state = Mutex(Ending.running)
    private let cleaned = Mutex(false)
    /// Set while the task's clean-up block runs.
    @TaskLocal static var cleaning = false

    enum Ending {
        case running
        /// The process hands it over: it stops without its clean-up, and stays recorded.
        case handover
        /// Another process owns it: it stops and forgets nothing.
        case lost
        /// A block could not reach the store: it stops without its clean-up and is given up,
        /// to be claimed (here or elsewhere) and resumed from its last checkpoint.
        case suspended
    }

    init(record: DurableRecord? = nil, checkpoint: JSON? = nil, resumed: Bool = false, interruption: TaskInterruptedError? = nil) {
        self.record = record
        self.saved = Mutex(checkpoint)
        self.resumed = resumed
        self.interruption = interruption
    }

    var checkpoint: JSON? { saved.withLock { $0 } }
    func committed(_ checkpoint: JSON) { saved.withLock { $0 = checkpoint } }

    /// Whether its clean-up block committed: then it is never run again, wherever it ends.
    var cleanedUp: Bool { cleaned.withLock { $0 } }
    func cleanupCommitted() { cleaned.withLock { $0 = true } }

    var ending: Ending { state.withLock { $0 } }
    func end(_ ending: Ending) { state.withLock { if $0 == .running { $0 = ending } } }
}
