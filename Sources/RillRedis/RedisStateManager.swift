// Tabs' states in Redis, shared by several Rill processes, with a per-tab lock that only its owner frees.

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
///   ``tokenExpiry`` without use. A save writes only the substates that changed, in one round trip.
/// - The tab's lock is `rill:lock:<token>`, taken with `SET NX PX` and a unique owner value and
///   freed only by its owner. A holder whose lock expired (``lockExpiry``) gets
///   ``LockExpiredError`` when it commits, and nothing it wrote is saved: the ownership check and
///   the write are one script.
/// - Waiters of this process queue in arrival order; the one at the head retries when Redis
///   announces that the lock was freed, and every 250 ms in case the announcement was missed.
///   A failed attempt marks the tab as waited for (`rill:wait:<token>`), and only a release
///   that finds the mark announces itself: an uncontended lock costs no pub/sub message.
/// - After an event commits, the process keeps the tab's lock and the state it saved for
///   ``linger``, so the tab's next event here needs only its commit; another process that asks
///   for the tab gets it at once (see ``KeptLocks``).
/// - Updates for tabs whose socket is with another process travel over pub/sub (``relay``).
///   The commit script publishes such an update itself (`StateLease/commit(_:relaying:)`), so
///   it leaves exactly when the save succeeds, in the same step, before the lock is freed: a
///   relay that published after the commit could lose the update to a crash in between, or
///   reorder it after the next holder's.
/// - Each process keeps a `rill:alive:<id>` mark (3 s, renewed every second and on each
///   acquire); a lock whose holder's process has no mark is free, so a crash stalls its tabs for
///   the mark's lifetime, not ``lockExpiry``.
public final class RedisStateManager: StateManager {
    /// How long an unused tab's state is kept.
    public let tokenExpiry: Duration
    /// How long a lock lives unless its holder frees it first.
    public let lockExpiry: Duration
    /// How long the lock of a tab whose event just committed is kept for its next event.
    public var linger: Duration { kept.linger }
    /// Delivers updates between processes.
    public let relay: (any UpdateRelay)?

    let client: RedisClient
    let subscriber: RedisSubscriber
    private let logger: Logger
    private let local = KeyedLock<Token>()
    private let processID: String
    private let nextLease = Atomic<UInt64>(0)
    private let unlocks = UnlockNotices()
    private let kept: KeptLocks

    static let unlockChannel = "rill:unlocked"
    /// Where a process that could not take a tab's lock asks the one keeping it to let go.
    static let wantedChannel = "rill:wanted"

    /// Connects to Redis at `url` (`redis://host:port`).
    /// - Parameters:
    ///   - tokenExpiry: How long an unused tab's state is kept (default one hour).
    ///   - lockExpiry: How long a lock lives if its holder never frees it (default 10 s).
    ///   - linger: How long to keep a tab's lock after its event committed, for its next event
    ///     (default 50 ms, at most a quarter of `lockExpiry`; zero frees every lock at once).
    ///   - eventLoopGroup: Where the connections to Redis run; the server's own group saves a
    ///     thread hop per command.
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
        self.lockExpiry = lockExpiry
        self.logger = logger
        self.client = RedisClient(host: host, port: port, eventLoopGroup: eventLoopGroup, logger: logger)
        self.subscriber = RedisSubscriber(host: host, port: port, eventLoopGroup: eventLoopGroup, logger: logger)
        self.processID = Token.random().rawValue
        let client = self.client
        self.kept = KeptLocks(linger: min(linger, lockExpiry / 4)) { token, owner in
            Self.release(token, owner: owner, client: client, logger: logger)
        }
        let relay = RedisRelay(client: client, subscriber: subscriber, logger: logger)
        self.relay = relay
        let (unlocks, kept, local) = (self.unlocks, self.kept, self.local)
        relay.onMessage(channel: Self.unlockChannel) { payload in
            unlocks.announce(String(decoding: payload, as: UTF8.self))
        }
        relay.onMessage(channel: Self.wantedChannel) { payload in
            guard let token = Token(String(decoding: payload, as: UTF8.self)) else { return }
            kept.wanted(token, held: local.isLocked(token))
        }
        // The mark that says this process lives: while it does, no one takes its locks early.
        Task.detached { [weak self] in
            while await self?.markAlive() != nil {
                try? await Task.sleep(for: Self.aliveExpiry / 3)
            }
        }
        // After a reconnect announcements may have been missed: wake everyone to retry.
        subscriber.onReconnect { unlocks.announceAll() }
        Task { try? await subscriber.subscribe([Self.unlockChannel, Self.wantedChannel]) }
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

    /// How long a process's `rill:alive:` mark outlives its last renewal: after a crash, its
    /// tabs' locks are free this long after, however long ``lockExpiry`` is.
    static let aliveExpiry = Duration.seconds(3)

    private func markAlive() async {
        do {
            _ = try await client.send(["SET", "rill:alive:\(processID)", "1", "PX", "\(Self.milliseconds(Self.aliveExpiry))"])
        } catch {
            logger.debug("alive mark not renewed", metadata: ["error": "\(error)"])
        }
    }

    /// Round trips to Redis on the lock path, by command, with their latency.
    private struct Metrics: Sendable {
        let acquire = Timer(label: "rill_redis_seconds", dimensions: [("command", "acquire")])
        let commit = Timer(label: "rill_redis_seconds", dimensions: [("command", "commit")])
        let snapshot = Timer(label: "rill_redis_seconds", dimensions: [("command", "snapshot")])
    }

    private let metrics = Metrics()

    static func tabKey(_ token: Token) -> String { "rill:tab:\(token)" }
    static func lockKey(_ token: Token) -> String { "rill:lock:\(token)" }
    static func waitKey(_ token: Token) -> String { "rill:wait:\(token)" }

    public func acquire(_ token: Token, registry: StateRegistry) async throws -> any StateLease {
        try await local.lock(token)
        if let kept = kept.take(token) {
            return Lease(manager: self, token: token, owner: kept.owner, state: kept.state)
        }
        let owner = "\(processID):\(nextLease.add(1, ordering: .relaxed).newValue)"
        do {
            while true {
                let seen = unlocks.generation(token)
                let sent = ContinuousClock.now
                defer { metrics.acquire.record(since: sent) }
                let reply = try await client.evalsha(
                    Scripts.acquire,
                    keys: [Self.lockKey(token), Self.tabKey(token), Self.waitKey(token)],
                    args: [
                        owner, "\(Self.milliseconds(lockExpiry))", "\(Self.milliseconds(tokenExpiry))", Self.wantedChannel,
                        token.rawValue, "\(processID):", "\(Self.milliseconds(Self.aliveExpiry))",
                    ])
                if let fields = reply.array {
                    let state = decode(token, registry, fields)
                    return Lease(manager: self, token: token, owner: owner, state: state)
                }
                try await unlocks.wait(token, after: seen, timeout: .milliseconds(250))
            }
        } catch {
            local.unlock(token)
            throw error
        }
    }

    public func snapshot(_ token: Token, registry: StateRegistry) async throws -> TabState {
        let sent = ContinuousClock.now
        defer { metrics.snapshot.record(since: sent) }
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
            _ = try await client.pexpire(Self.tabKey(token), milliseconds: Int(Self.milliseconds(tokenExpiry)))
        } catch {
            logger.debug("expiry of a disconnected tab not reset; it runs from the last change", metadata: ["token": "\(token)"])
        }
    }

    /// Every third of the token expiry, renews the expiry of the connected tabs' states; a
    /// process that dies stops renewing, so its tabs' states expire as if disconnected then.
    private func refreshConnectedTabs() async {
        let interval = max(tokenExpiry / 3, .milliseconds(200))
        let expiry = "\(Self.milliseconds(tokenExpiry))"
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
        kept.drop(token)
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

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// Frees `token`'s lock if `owner` still holds it, without waiting for Redis: commands this
    /// process sends later go out after it on the same connection, so Redis runs them after it.
    private static func release(_ token: Token, owner: String, client: RedisClient, logger: Logger) {
        client.evalshaInOrder(Scripts.release, keys: [lockKey(token), waitKey(token)], args: [owner, unlockChannel, token.rawValue]) { result in
            if case .failure(let error) = result {
                // The lock expires by itself; waiters retry on their timer.
                logger.warning("lock could not be freed; it will expire", metadata: ["token": "\(token)", "error": "\(error)"])
            }
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

        func commit(_ state: TabState, relaying update: StateUpdate?) async throws {
            var args = [owner, "\(RedisStateManager.milliseconds(manager.tokenExpiry))", "\(RedisStateManager.milliseconds(manager.lockExpiry))"]
            if let update {
                args += [RedisRelay.channel(token), RedisRelay.encode(update).serialized()]
            } else {
                args += ["", ""]
            }
            for (name, value) in state.encodedChanges() {
                args.append(name)
                args.append(value.serialized())
            }
            let sent = ContinuousClock.now
            defer { manager.metrics.commit.record(since: sent) }
            do {
                _ = try await manager.client.evalsha(
                    Scripts.commit, keys: [RedisStateManager.lockKey(token), RedisStateManager.tabKey(token)], args: args)
            } catch let error as RedisError where error.code == Scripts.lockExpiredCode {
                throw LockExpiredError(token: token)
            }
            self.saved.withLock { $0 = state }
        }

        /// Keeps the lock for the tab's next event if this lease committed, else frees it; this
        /// process's next acquire of the tab may start at once either way.
        func release() async {
            guard !released.exchange(true, ordering: .relaxed) else { return }
            let saved = self.saved.withLock { $0 }
            if saved == nil || !manager.kept.keep(token, owner: owner, state: saved!) {
                RedisStateManager.release(token, owner: owner, client: manager.client, logger: manager.logger)
            }
            manager.local.unlock(token)
        }
    }
}

extension Timer {
    fileprivate func record(since start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
