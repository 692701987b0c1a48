// A tab's (or a shared state key's) lock in Redis: taken in arrival order, kept between a tab's events, freed only by its owner.

import CoreMetrics
import Logging
import RESP
import Rill
import Synchronization

/// The per-tab lock that ``RedisStateManager`` guards each tab's state with.
///
/// - The lock is `rill:lock:<token>`, taken with `SET NX PX` and a unique owner value and freed
///   only by its owner. A holder whose lock expired (``lockExpiry``) is refused at its commit,
///   and nothing it wrote is saved: the ownership check and the write are one script.
/// - Waiters of this process queue in arrival order (a local lock per tab); the one at the head
///   retries when Redis announces that the lock was freed, and every 250 ms in case the
///   announcement was missed. A failed attempt marks the tab as waited for (`rill:wait:<token>`),
///   and only a release that finds the mark announces itself: an uncontended lock costs no
///   pub/sub message.
/// - After an event commits, the process keeps the lock and the state it saved for a moment
///   (``KeptLocks``), so the tab's next event here needs only its commit; another process that
///   asks for the tab gets it at once.
/// - Each process keeps a `rill:alive:<id>` mark (3 s, renewed every second and on each
///   acquire); a lock whose holder's process has no mark is free, so a crash stalls its tabs for
///   the mark's lifetime, not ``lockExpiry``.
///
/// A shared state key's lock works the same way under the name `~<state>:<key>` (no token
/// starts with `~`), except that it is never kept between holds.
///
/// The lock hears of freed and wanted tabs through the messages its owner routes to
/// ``receive(_:)`` from the channels in ``channels``; it never calls back into its owner.
final class RedisTabLock: Sendable {
    /// How long a lock lives unless its holder frees it first.
    let lockExpiry: Duration
    /// How long the lock of a tab whose event just committed is kept for its next event.
    var linger: Duration { kept.linger }

    private let client: RedisClient
    private let logger: Logger
    private let local = KeyedLock<String>()
    /// This process, in its locks' owner values and its alive mark.
    let processID = Token.random().rawValue
    private let nextOwner = Atomic<UInt64>(0)
    private let unlocks = UnlockNotices()
    private let kept: KeptLocks
    private let acquireTime = Timer(label: "rill_redis_seconds", dimensions: [("command", "acquire")])
    private let commitTime = Timer(label: "rill_redis_seconds", dimensions: [("command", "commit")])

    /// Where a release that found waiters announces the tab.
    static let unlockChannel = "rill:unlocked"
    /// Where a process that could not take a tab's lock asks the one keeping it to let go.
    static let wantedChannel = "rill:wanted"
    /// The channels whose messages ``receive(_:)`` expects.
    static let channels = [unlockChannel, wantedChannel]

    /// How long a process's `rill:alive:` mark outlives its last renewal: after a crash, its
    /// tabs' locks are free this long after, however long ``lockExpiry`` is.
    static let aliveExpiry = Duration.seconds(3)

    init(client: RedisClient, lockExpiry: Duration, linger: Duration, logger: Logger) {
        self.client = client
        self.lockExpiry = lockExpiry
        self.logger = logger
        self.kept = KeptLocks(linger: min(linger, lockExpiry / 4)) { token, owner in
            Self.free(token.rawValue, owner: owner, client: client, logger: logger)
        }
        // The mark that says this process lives: while it does, no one takes its locks early.
        Task.detached { [weak self] in
            while await self?.markAlive() != nil {
                try? await Task.sleep(for: Self.aliveExpiry / 3)
            }
        }
    }

    static func lockKey(_ name: String) -> String { "rill:lock:\(name)" }
    static func waitKey(_ name: String) -> String { "rill:wait:\(name)" }

    /// The lock name of a shared state key.
    static func name(_ key: SharedKey) -> String { "~\(key.state):\(key.key)" }

    /// Waits for `token`'s lock, then returns its owner value and the tab's state: the one kept
    /// from this process's last event on the tab, or `load` applied to the tab's stored fields
    /// (read in the same step as the lock was taken, and the tab's expiry renewed).
    func acquire(_ token: Token, tabKey: String, tokenExpiry: Duration, load: ([RESPValue]) -> TabState) async throws -> (owner: String, state: TabState) {
        try await local.lock(token.rawValue)
        if let kept = kept.take(token) { return (kept.owner, kept.state) }
        return try await take(token.rawValue, key: tabKey, expiry: tokenExpiry, load: load)
    }

    /// Waits for a shared state key's lock, then returns its owner value and `load` applied to
    /// the fields of the hash `hashKey` (read in the same step; its expiry is its commits' to set).
    func acquire<Loaded>(_ key: SharedKey, hashKey: String, load: ([RESPValue]) throws -> Loaded) async throws -> (owner: String, value: Loaded) {
        try await local.lock(Self.name(key))
        return try await take(Self.name(key), key: hashKey, expiry: nil, load: load)
    }

    /// Takes the lock `name` in Redis, the local one being held; frees the local one if it fails.
    private func take<Loaded>(_ name: String, key: String, expiry: Duration?, load: ([RESPValue]) throws -> Loaded) async throws -> (String, Loaded) {
        let owner = "\(processID):\(nextOwner.add(1, ordering: .relaxed).newValue)"
        do {
            while true {
                let seen = unlocks.generation(name)
                let sent = ContinuousClock.now
                defer { acquireTime.record(since: sent) }
                let reply = try await client.evalsha(
                    Scripts.acquire,
                    keys: [Self.lockKey(name), key, Self.waitKey(name)],
                    args: [
                        owner, "\(lockExpiry.milliseconds)", expiry.map { "\($0.milliseconds)" } ?? "0", Self.wantedChannel,
                        name, "\(processID):", "\(Self.aliveExpiry.milliseconds)",
                    ])
                if let fields = reply.array { return (owner, try load(fields)) }
                try await unlocks.wait(name, after: seen, timeout: .milliseconds(250))
            }
        } catch {
            local.unlock(name)
            throw error
        }
    }

    /// Writes `fields` into the tab's hash if `owner` still holds the lock, renews the lock and
    /// the tab's expiry, and publishes `message` on `channel` when given, all in one step.
    /// Throws ``LockExpiredError`` if the lock was lost; then nothing was written or published.
    func commit(
        _ token: Token, owner: String, tabKey: String, tokenExpiry: Duration,
        fields: [(name: String, value: String)], publish: (channel: String, message: String)?, tasks: TaskWrites
    ) async throws {
        try await commit(
            token.rawValue, owner: owner, key: tabKey, expiry: tokenExpiry, fields: fields, publish: publish, tasks: tasks,
            expired: LockExpiredError(token: token))
    }

    /// The same for a shared state key's hash; with no `expiry` it is kept until changed again.
    func commit(
        _ key: SharedKey, owner: String, hashKey: String, expiry: Duration?,
        fields: [(name: String, value: String)], publish: (channel: String, message: String)?
    ) async throws {
        try await commit(
            Self.name(key), owner: owner, key: hashKey, expiry: expiry, fields: fields, publish: publish, tasks: TaskWrites(),
            expired: LockExpiredError(key: key))
    }

    private func commit(
        _ name: String, owner: String, key: String, expiry: Duration?,
        fields: [(name: String, value: String)], publish: (channel: String, message: String)?, tasks: TaskWrites,
        expired: LockExpiredError
    ) async throws {
        let args = [owner, expiry.map { "\($0.milliseconds)" } ?? "0", "\(lockExpiry.milliseconds)", publish?.channel ?? "", publish?.message ?? ""]
        try await run(
            Scripts.commit, keys: [Self.lockKey(name), key, RedisDurableTasks.ownersKey, RedisDurableTasks.recordsKey],
            args: args + taskArguments(tasks), fields: fields, expired: expired, task: tasks.block)
    }

    /// Commits a tab and a shared state key whose locks are both held, in one step: both are
    /// written and both changes published, or (a lock expired) neither.
    func commit(
        tab token: Token, owner: String, tabKey: String, tokenExpiry: Duration,
        fields: [(name: String, value: String)], publish: (channel: String, message: String)?, tasks: TaskWrites,
        shared key: SharedKey, sharedOwner: String, hashKey: String, value: String, sharedExpiry: Duration?,
        sharedPublish: (channel: String, message: String)?
    ) async throws {
        let args = [
            owner, "\(tokenExpiry.milliseconds)", "\(lockExpiry.milliseconds)", publish?.channel ?? "", publish?.message ?? "",
            sharedOwner, value, sharedPublish?.channel ?? "", sharedPublish?.message ?? "", sharedExpiry.map { "\($0.milliseconds)" } ?? "0",
        ]
        try await run(
            Scripts.commitWithShared,
            keys: [Self.lockKey(token.rawValue), tabKey, Self.lockKey(Self.name(key)), hashKey, RedisDurableTasks.ownersKey, RedisDurableTasks.recordsKey],
            args: args + taskArguments(tasks), fields: fields, expired: LockExpiredError(token: token), task: tasks.block)
    }

    /// The commit scripts' durable task arguments: the fenced task, this process, whether the
    /// block is the task's clean-up, and the started tasks' ids and records.
    private func taskArguments(_ tasks: TaskWrites) -> [String] {
        var args = [tasks.block ?? "", processID, tasks.ending ? "1" : "", "\(tasks.started.count)"]
        for record in tasks.started {
            args.append(record.id)
            args.append(JSON(argument: record).serialized())
        }
        return args
    }

    /// Runs a commit script with the changed fields after `args`; a lost lock throws `expired`.
    private func run(
        _ script: RedisScript, keys: [String], args: [String], fields: [(name: String, value: String)], expired: LockExpiredError,
        task: String?
    ) async throws {
        var args = args
        for field in fields {
            args.append(field.name)
            args.append(field.value)
        }
        let sent = ContinuousClock.now
        defer { commitTime.record(since: sent) }
        do {
            _ = try await client.evalsha(script, keys: keys, args: args)
        } catch let error as RedisError where error.code == Scripts.lockExpiredCode {
            throw expired
        } catch let error as RedisError where error.code == Scripts.taskLostCode {
            throw TaskLostError(id: task ?? "")
        }
    }

    /// Ends `owner`'s hold on `token`: keeps the lock with `saved` for the tab's next event when
    /// the hold committed, else frees it. This process's next acquire of the tab may start at once
    /// either way.
    func release(_ token: Token, owner: String, saved: TabState?) {
        if saved == nil || !kept.keep(token, owner: owner, state: saved!) {
            Self.free(token.rawValue, owner: owner, client: client, logger: logger)
        }
        local.unlock(token.rawValue)
    }

    /// Frees a shared state key's lock.
    func release(_ key: SharedKey, owner: String) {
        Self.free(Self.name(key), owner: owner, client: client, logger: logger)
        local.unlock(Self.name(key))
    }

    /// Frees the lock kept for `token`, if there is one: the tab is being forgotten.
    func drop(_ token: Token) {
        kept.drop(token)
    }

    /// Handles a message of one of ``channels``.
    func receive(_ message: RedisMessage) {
        let name = String(decoding: message.payload, as: UTF8.self)
        switch message.channel {
        case Self.unlockChannel:
            unlocks.announce(name)
        case Self.wantedChannel:
            if let token = Token(name) { kept.wanted(token, held: local.isLocked(name)) }
        default:
            break
        }
    }

    /// The subscription came back after a loss: announcements may have been missed, so every
    /// waiter retries.
    func reconnected() {
        unlocks.announceAll()
    }

    private func markAlive() async {
        do {
            _ = try await client.send(["SET", "rill:alive:\(processID)", "1", "PX", "\(Self.aliveExpiry.milliseconds)"])
        } catch {
            logger.debug("alive mark not renewed", metadata: ["error": "\(error)"])
        }
    }

    /// Frees `token`'s lock if `owner` still holds it, without waiting for Redis: commands this
    /// process sends later go out after it on the same connection, so Redis runs them after it.
    private static func free(_ name: String, owner: String, client: RedisClient, logger: Logger) {
        client.evalshaInOrder(Scripts.release, keys: [lockKey(name), waitKey(name)], args: [owner, unlockChannel, name]) { result in
            if case .failure(let error) = result {
                // The lock expires by itself; waiters retry on their timer.
                logger.warning("lock could not be freed; it will expire", metadata: ["lock": "\(name)", "error": "\(error)"])
            }
        }
    }
}

extension Duration {
    /// Whole milliseconds, at least one: what Redis's `PX` and `PEXPIRE` take.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}

extension Timer {
    func record(since start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
