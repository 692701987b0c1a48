// Durable background tasks in Redis: owned by a process while its alive mark lives, claimed by one other when it is gone.

import Logging
import RESP
import Rill
import Synchronization

/// Keeps ``RedisStateManager``'s durable background tasks.
///
/// - A task's record (event, arguments, tab) is the field `<id>` of the hash `rill:tasks`, and
///   the process that owns it the same field of `rill:task-owners`. Both are written by the
///   commit script of the handler that started it, with the handler's changes.
/// - A process owns its tasks while its `rill:alive:<id>` mark lives (renewed every second,
///   three seconds long): the mark is the lease. Every commit of a task's block checks in its
///   script that the process still owns the task, so a process that was thought dead cannot save
///   a step another process has taken over.
/// - Each process runs one script a second (and at once when a process hands tasks over). It
///   first takes the owner off the tasks of every process whose mark is gone (the processes
///   that claim tasks are the set `rill:task-processes`, each one's tasks the set
///   `rill:tasks-of:<id>`), putting each in the list of its event's ownerless tasks,
///   `rill:tasks-free:<event>`; then it takes tasks of the app's events from those lists, up to
///   its fair share of all tasks among the live processes. It is one step, so exactly one
///   process gets each task, and it costs the same however many tasks live processes run.
/// - A task's checkpoint is a field of its tab's hash, `~task:<id>`, written with the block's
///   changes.
final class RedisDurableTasks: DurableTasks {
    static let ownersKey = "rill:task-owners"
    static let recordsKey = "rill:tasks"
    /// The set of processes that claim durable tasks (or own some).
    static let processesKey = "rill:task-processes"
    /// Followed by a process id: the set of the tasks that process owns.
    static let tasksOfPrefix = "rill:tasks-of:"
    /// Followed by an event name: the list of that event's tasks no process owns, to claim.
    static let freePrefix = "rill:tasks-free:"
    /// Per task, its runs lost in a row before one saved a block (absent: none).
    static let lostRunsKey = "rill:task-lost-runs"
    /// The tasks whose clean-up block committed: never run again, forgotten when given up.
    static let endedKey = "rill:task-ended"
    /// Where a process that handed tasks over says so.
    static let releasedChannel = "rill:tasks:released"
    /// Where a cancelled task's id goes, for the process running it.
    static let cancelChannel = "rill:tasks:cancel"
    static let channels = [releasedChannel, cancelChannel]

    private let client: RedisClient
    private let processID: String
    private let handlers = Mutex<(released: @Sendable () -> Void, cancel: @Sendable (String) -> Void)?>(nil)

    init(client: RedisClient, processID: String) {
        self.client = client
        self.processID = processID
    }

    func bind(released: @escaping @Sendable () -> Void, cancel: @escaping @Sendable (String) -> Void) {
        handlers.withLock { $0 = (released, cancel) }
    }

    /// Handles a message of one of ``channels``.
    func receive(_ message: RedisMessage) {
        guard let handlers = handlers.withLock({ $0 }) else { return }
        if message.channel == Self.releasedChannel {
            handlers.released()
        } else {
            handlers.cancel(String(decoding: message.payload, as: UTF8.self))
        }
    }

    func claim(limit: Int, events: Set<String>) async throws -> [ClaimedTask] {
        guard !events.isEmpty else { return [] }
        let reply = try await client.evalsha(
            Scripts.claim, keys: [Self.ownersKey, Self.recordsKey],
            args: [processID, "\(limit)", "\(RedisTabLock.aliveExpiry.milliseconds)"] + events.sorted())
        let items = reply.array ?? []
        return stride(from: 0, to: items.count - 1, by: 2).compactMap { index in
            guard let record = items[index].bytes.flatMap(Self.record) else { return nil }
            let lostRuns = items[index + 1].int ?? 0
            return ClaimedTask(record: record, lostRuns: lostRuns)
        }
    }

    func finish(_ record: DurableRecord) async throws {
        _ = try await client.evalsha(
            Scripts.finish, keys: [Self.ownersKey, Self.recordsKey, RedisStateManager.tabKey(record.token)],
            args: [record.id, processID])
    }

    func release(_ ids: [String], _ reason: ReleaseReason) async throws {
        _ = try await client.evalsha(
            Scripts.releaseTasks, keys: [Self.ownersKey, Self.recordsKey], args: [processID, Self.releasedChannel, reason.rawValue] + ids)
    }

    func cancel(_ id: String) async throws {
        _ = try await client.evalsha(Scripts.cancel, keys: [Self.ownersKey, Self.recordsKey], args: [id, Self.cancelChannel])
    }

    func list() async throws -> [DurableTaskInfo] {
        let replies = try await client.pipeline([["HGETALL", Self.recordsKey], ["HGETALL", Self.ownersKey]])
        let records = Self.pairs(try replies[0].get()).compactMap { Self.record(Array($0.value.utf8)) }
        let owners = Self.pairs(try replies[1].get())
        guard !records.isEmpty else { return [] }
        let checkpoints = try await client.pipeline(records.map { ["HGET", RedisStateManager.tabKey($0.token), TabState.checkpointField($0.id)] })
        return zip(records, checkpoints).map { record, checkpoint in
            DurableTaskInfo(
                record: record, owner: owners[record.id] ?? "", checkpoint: (try? checkpoint.get())?.bytes.flatMap { try? JSON(parsing: $0) })
        }.sorted { $0.record.since < $1.record.since }
    }

    private static func record(_ bytes: [UInt8]) -> DurableRecord? {
        try? JSON(parsing: bytes).decode(DurableRecord.self)
    }

    private static func pairs(_ reply: RESPValue) -> [String: String] {
        let items = reply.array ?? []
        var out: [String: String] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            guard let key = items[index].bytes, let value = items[index + 1].bytes else { continue }
            out[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        }
        return out
    }
}
