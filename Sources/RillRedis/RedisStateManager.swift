// Tabs' states in Redis, shared by several Rill processes, each guarded by a RedisTabLock.

import CoreMetrics
import Logging
import NIOCore
import NIOPosix
import RESP
import Rill
import Synchronization

/// Keeps every tab's state in Redis so several Rill processes can serve the same tabs.
///
/// - A tab is one hash, `rill:tab:<token>`, with a field per substate (JSON); it expires after
///   ``tokenExpiry`` without use, or while its socket is with a live process never. A save
///   writes only the substates that changed, in one round trip.
/// - Each tab is guarded by a lock in Redis (`RedisTabLock`: arrival order, kept for a moment
///   between a tab's events, freed at once when a process dies). A holder whose lock expired
///   (``lockExpiry``) gets `LockExpiredError` when it commits, and nothing it wrote is saved.
/// - Updates for tabs whose socket is with another process travel over pub/sub (``relay``).
///   The commit script publishes such an update itself (`StateLease/commit(_:relaying:)`), so
///   it leaves exactly when the save succeeds, in the same step, before the lock is freed: a
///   relay that published after the commit could lose the update to a crash in between, or
///   reorder it after the next holder's.
/// - One subscriber connection serves both: the manager reads its messages and hands each to
///   the lock or the relay by channel.
public final class RedisStateManager: StateManager {
    /// How long an unused tab's state is kept.
    public let tokenExpiry: Duration
    /// How long a lock lives unless its holder frees it first.
    public var lockExpiry: Duration { lock.lockExpiry }
    /// How long the lock of a tab whose event just committed is kept for its next event.
    public var linger: Duration { lock.linger }
    /// Delivers updates between processes.
    public var relay: (any UpdateRelay)? { updates }
    /// This process, as presence lists and lock owners name it.
    public var processID: String? { lock.processID }

    private let client: RedisClient
    private let subscriber: RedisSubscriber
    private let logger: Logger
    private let lock: RedisTabLock
    private let updates: RedisRelay
    private let tasks: RedisDurableTasks
    /// Keeps durable background tasks: each one's record and owner in Redis, claimed by one
    /// other process when its owner's alive mark is gone (see docs/durable-tasks.md).
    public var durable: (any DurableTasks)? { tasks }
    private let snapshotTime = Timer(label: "rill_redis_seconds", dimensions: [("command", "snapshot")])

    /// Connects to Redis at `url` (`redis://host:port`).
    /// - Parameters:
    ///   - url: Where Redis listens, `redis://host:port`.
    ///   - tokenExpiry: How long an unused tab's state is kept (default one hour).
    ///   - lockExpiry: How long a lock lives if its holder never frees it (default 10 s).
    ///   - linger: How long to keep a tab's lock after its event committed, for its next event
    ///     (default 50 ms, at most a quarter of `lockExpiry`; zero frees every lock at once).
    ///   - eventLoopGroup: Where the connections to Redis run; the server's own group saves a
    ///     thread hop per command.
    ///   - logger: Where connection losses and stale stored states are logged.
    public init(
        url: String,
        tokenExpiry: Duration = .seconds(3600),
        lockExpiry: Duration = .seconds(10),
        linger: Duration = .milliseconds(50),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "rill.redis")
    ) throws {
        let (host, port) = try Self.parse(url)
        self.tokenExpiry = tokenExpiry
        self.logger = logger
        let client = RedisClient(host: host, port: port, eventLoopGroup: eventLoopGroup, logger: logger)
        let subscriber = RedisSubscriber(host: host, port: port, eventLoopGroup: eventLoopGroup, logger: logger)
        let lock = RedisTabLock(client: client, lockExpiry: lockExpiry, linger: linger, logger: logger)
        let updates = RedisRelay(client: client, subscriber: subscriber, processID: lock.processID, logger: logger)
        let tasks = RedisDurableTasks(client: client, processID: lock.processID)
        (self.client, self.subscriber, self.lock, self.updates, self.tasks) = (client, subscriber, lock, updates, tasks)
        Task { [messages = subscriber.messages] in
            for await message in messages {
                if RedisTabLock.channels.contains(message.channel) {
                    lock.receive(message)
                } else if RedisDurableTasks.channels.contains(message.channel) {
                    tasks.receive(message)
                } else {
                    updates.receive(message)
                }
            }
        }
        subscriber.onReconnect {
            lock.reconnected()
            updates.reconnected()
        }
        Task { try? await subscriber.subscribe(RedisTabLock.channels + RedisDurableTasks.channels) }
    }

    static func parse(_ url: String) throws -> (String, Int) {
        guard url.hasPrefix("redis://") else { throw BadRedisURL(url: url) }
        var rest = url.dropFirst("redis://".count)
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        let parts = rest.split(separator: ":")
        guard let host = parts.first.map(String.init), !host.isEmpty else { throw BadRedisURL(url: url) }
        guard let port = parts.count > 1 ? Int(parts[1]) : 6379 else { throw BadRedisURL(url: url) }
        return (host, port)
    }

    /// The Redis URL was not of the form `redis://host:port`.
    public struct BadRedisURL: Error, CustomStringConvertible {
        /// What was given.
        public let url: String
        public var description: String { "'\(url)' is not a Redis URL; write redis://host:port, e.g. redis://127.0.0.1:6379" }
    }

    static func tabKey(_ token: Token) -> String { "rill:tab:\(token)" }

    /// The hash of a shared state key's value (one field, `value`). It never expires while a
    /// tab is present; else ``tokenExpiry`` after its last change.
    static func sharedKey(_ key: SharedKey) -> String { "rill:shared:\(key.state):\(key.key)" }

    public func acquire(_ key: SharedKey, registry: StateRegistry) async throws -> any SharedLease {
        let (owner, value) = try await lock.acquire(key, hashKey: Self.sharedKey(key)) { fields in
            try decode(key, registry, fields.count == 2 ? fields[1].bytes : nil)
        }
        return KeyLease(manager: self, owner: owner, value: value)
    }

    public func snapshot(_ key: SharedKey, registry: StateRegistry) async throws -> SharedValue {
        let reply = try await client.send(["HGET", Self.sharedKey(key), "value"])
        return try decode(key, registry, reply.bytes)
    }

    private func decode(_ key: SharedKey, _ registry: StateRegistry, _ bytes: [UInt8]?) throws -> SharedValue {
        guard let bytes else { return try SharedValue(key: key, registry: registry) }
        let json: JSON
        do {
            json = try JSON(parsing: bytes)
        } catch {
            logger.warning("stored shared state is not JSON; starting it from its defaults", metadata: ["key": "\(key)"])
            return try SharedValue(key: key, registry: registry)
        }
        return try SharedValue(key: key, registry: registry, json: json) { error in
            logger.warning("stored shared state no longer fits its type; starting it from its defaults", metadata: ["key": "\(key)", "error": "\(error)"])
        }
    }

    /// What a shared key's commit publishes: its change, for the processes with tabs linked to it.
    private func publication(_ value: SharedValue, _ update: StateUpdate) -> (channel: String, message: String)? {
        update.version == nil ? nil : (RedisRelay.channel(value.key), RedisRelay.encode(update, from: lock.processID))
    }

    public func acquire(_ token: Token, registry: StateRegistry) async throws -> any StateLease {
        let (owner, state) = try await lock.acquire(token, tabKey: Self.tabKey(token), tokenExpiry: tokenExpiry) { fields in
            decode(token, registry, fields)
        }
        return Lease(manager: self, token: token, owner: owner, state: state)
    }

    public func snapshot(_ token: Token, registry: StateRegistry) async throws -> TabState {
        let sent = ContinuousClock.now
        defer { snapshotTime.record(since: sent) }
        let reply = try await client.send(["HGETALL", Self.tabKey(token)])
        return decode(token, registry, reply.array ?? [])
    }

    /// Tabs whose socket is with this process: their states' expiry is pushed back while they stay.
    private let connectedTabs = Mutex<(tokens: Set<Token>, refreshing: Bool)>(([], false))

    public func connected(_ token: Token) async {
        let start = connectedTabs.withLock { connected -> Bool in
            connected.tokens.insert(token)
            defer { connected.refreshing = true }
            return !connected.refreshing
        }
        if start { Task.detached { [weak self] in await self?.refreshConnectedTabs() } }
    }

    public func disconnected(_ token: Token) async {
        _ = connectedTabs.withLock { $0.tokens.remove(token) }
        do {
            _ = try await client.pexpire(Self.tabKey(token), milliseconds: Int(tokenExpiry.milliseconds))
        } catch {
            logger.debug("expiry of a disconnected tab not reset; it runs from the last change", metadata: ["token": "\(token)"])
        }
    }

    /// Every third of the token expiry, renews the expiry of the connected tabs' states; a
    /// process that dies stops renewing, so its tabs' states expire as if disconnected then.
    private func refreshConnectedTabs() async {
        let interval = max(tokenExpiry / 3, .milliseconds(200))
        let expiry = "\(tokenExpiry.milliseconds)"
        while true {
            try? await Task.sleep(for: interval)
            let tokens = connectedTabs.withLock { connected -> [Token]? in
                guard !connected.tokens.isEmpty else {
                    connected.refreshing = false
                    return nil
                }
                return Array(connected.tokens)
            }
            guard let tokens else { return }
            for start in stride(from: 0, to: tokens.count, by: 500) {
                let batch = tokens[start..<min(start + 500, tokens.count)].map { ["PEXPIRE", Self.tabKey($0), expiry] }
                do {
                    _ = try await client.pipeline(batch)
                } catch {
                    logger.warning("could not renew the expiry of connected tabs", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    public func remove(_ token: Token) async throws {
        lock.drop(token)
        _ = try await client.del([Self.tabKey(token)])
    }

    private func decode(_ token: Token, _ registry: StateRegistry, _ flat: [RESPValue]) -> TabState {
        var stored: [String: JSON] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].string, let bytes = flat[index + 1].bytes {
                do {
                    stored[name] = try JSON(parsing: bytes)
                } catch {
                    logger.warning("stored substate is not JSON; starting it from its defaults", metadata: ["token": "\(token)", "state": "\(name)"])
                }
            }
            index += 2
        }
        return TabState(token: token, registry: registry, stored: stored) { name, error in
            logger.warning("stored substate no longer fits its type; starting it from its defaults",
                           metadata: ["token": "\(token)", "state": "\(name)", "error": "\(error)"])
        }
    }

    private final class Lease: StateLease {
        let manager: RedisStateManager
        let token: Token
        let owner: String
        let state: TabState
        private let released = Atomic(false)
        /// What the last successful commit saved: kept with the lock for the tab's next event.
        private let saved = Mutex<TabState?>(nil)

        init(manager: RedisStateManager, token: Token, owner: String, state: TabState) {
            self.manager = manager
            self.token = token
            self.owner = owner
            self.state = state
        }

        func commit(_ state: TabState, relaying update: StateUpdate?, shared: SharedWrite?) async throws {
            let fields = state.encodedChanges().map { ($0.key, $0.value.serialized()) }
            let publish = update.map { (RedisRelay.channel(token), RedisRelay.encode($0).serialized()) }
            if let shared {
                guard let held = shared.lease as? KeyLease else { preconditionFailure("a shared lease of another manager") }
                try await manager.lock.commit(
                    tab: token, owner: owner, tabKey: RedisStateManager.tabKey(token), tokenExpiry: manager.tokenExpiry,
                    fields: fields, publish: publish, tasks: state.tasks,
                    shared: shared.value.key, sharedOwner: held.owner, hashKey: RedisStateManager.sharedKey(shared.value.key),
                    value: shared.value.json.serialized(), sharedExpiry: manager.expiry(of: shared.value),
                    sharedPublish: manager.publication(shared.value, shared.update))
            } else {
                try await manager.lock.commit(
                    token, owner: owner, tabKey: RedisStateManager.tabKey(token), tokenExpiry: manager.tokenExpiry,
                    fields: fields, publish: publish, tasks: state.tasks)
            }
            saved.withLock { $0 = state }
        }

        /// Keeps the lock for the tab's next event if this lease committed, else frees it.
        func release() async {
            guard !released.exchange(true, ordering: .relaxed) else { return }
            manager.lock.release(token, owner: owner, saved: saved.withLock { $0 })
        }
    }

    /// A shared key's value never expires while a tab is present.
    private func expiry(of value: SharedValue) -> Duration? {
        value.presence.isEmpty ? tokenExpiry : nil
    }

    private final class KeyLease: SharedLease {
        let manager: RedisStateManager
        let owner: String
        let value: SharedValue
        private let released = Atomic(false)

        init(manager: RedisStateManager, owner: String, value: SharedValue) {
            self.manager = manager
            self.owner = owner
            self.value = value
        }

        func commit(_ value: SharedValue, relaying update: StateUpdate) async throws {
            try await manager.lock.commit(
                value.key, owner: owner, hashKey: RedisStateManager.sharedKey(value.key), expiry: manager.expiry(of: value),
                fields: [("value", value.json.serialized())], publish: manager.publication(value, update))
        }

        func release() async {
            guard !released.exchange(true, ordering: .relaxed) else { return }
            manager.lock.release(value.key, owner: owner)
        }
    }
}
