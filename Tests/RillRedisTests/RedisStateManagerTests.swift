// The Redis state manager against a real redis-server: lock expiry, owner-only release, partial saves, stale schemas.

import Foundation
import InMemoryLogging
import Logging
import RESP
import Rill
import RillRedis
import Synchronization
import Testing

@LiveState
struct LockState {
    var writer = ""
    var log: [String] = []
}

@LiveState
struct OtherState {
    var note = ""
}

/// Set by the test command, which starts redis-server for these tests.
let redisURL = ProcessInfo.processInfo.environment["RILL_TEST_REDIS_URL"]

@Suite(.enabled(if: redisURL != nil, "needs RILL_TEST_REDIS_URL; the README's test command starts a redis-server"))
struct RedisStateManagerTests {
    let registry = StateRegistry([LockState.self, OtherState.self])

    func address() throws -> (host: String, port: Int) {
        try #require(redisURL.flatMap { url -> (String, Int)? in
            let parts = url.dropFirst("redis://".count).split(separator: ":")
            return parts.count == 2 ? (String(parts[0]), Int(parts[1]) ?? 6379) : nil
        })
    }

    func raw() throws -> RedisClient {
        let (host, port) = try address()
        return RedisClient(host: host, port: port)
    }

    @Test func aHolderPastItsExpiryLosesItsWriteAndTheWaiterCommits() async throws {
        let url = try #require(redisURL)
        // Two managers: two processes as far as Redis can tell. Only the first holder's lock
        // is short; the waiter's is long, so a slow machine cannot expire it too.
        let first = try RedisStateManager(url: url, lockExpiry: .milliseconds(300))
        let second = try RedisStateManager(url: url)
        let token = Token.random()

        // Read before asking: Redis starts the lock's expiry no earlier than this.
        let holderAsked = ContinuousClock.now
        let holder = try await first.acquire(token, registry: registry)
        let waiter = Task {
            let lease = try await second.acquire(token, registry: registry)
            let took = ContinuousClock.now
            var state = lease.state
            state[LockState.self].writer = "waiter"
            state[LockState.self].log.append("waiter")
            try await lease.commit(state)
            await lease.release()
            return took
        }
        let waiterTook = try await waiter.value
        #expect(waiterTook - holderAsked >= .milliseconds(300), "the waiter took the lock before it expired")

        var late = holder.state
        late[LockState.self].writer = "holder"
        late[LockState.self].log.append("holder")
        await #expect(throws: LockExpiredError.self) { try await holder.commit(late) }
        await holder.release()   // must not free the waiter's lock

        let stored = try await first.snapshot(token, registry: registry)[LockState.self]
        #expect(stored.writer == "waiter")
        #expect(stored.log == ["waiter"])
    }

    @Test(.timeLimit(.minutes(1)))
    func aCommitPublishesItsRelayedChangeOnlyIfItSaves() async throws {
        let url = try #require(redisURL)
        let first = try RedisStateManager(url: url, lockExpiry: .milliseconds(200))
        let second = try RedisStateManager(url: url)
        let token = Token.random()
        let (host, port) = try address()
        let listener = RedisSubscriber(host: host, port: port)
        try await listener.subscribe(["rill:socket:\(token)"])
        var messages = listener.messages.makeAsyncIterator()

        let holder = try await first.acquire(token, registry: registry)
        // The other process gets the lock once the holder's expires, saves and relays.
        let lease = try await second.acquire(token, registry: registry)
        var state = lease.state
        state[LockState.self].writer = "waiter"
        try await lease.commit(state, relaying: StateUpdate(delta: ["lock_state": ["writer": "waiter"]]))
        await lease.release()

        var late = holder.state
        late[LockState.self].writer = "holder"
        await #expect(throws: LockExpiredError.self) {
            try await holder.commit(late, relaying: StateUpdate(delta: ["lock_state": ["writer": "holder"]]))
        }
        await holder.release()
        #expect(try await first.snapshot(token, registry: registry)[LockState.self].writer == "waiter")

        // Only the saved change was published: next after it comes a marker sent now.
        _ = try await raw().publish("rill:socket:\(token)", "marker")
        let published = try #require(await messages.next())
        #expect(String(decoding: published.payload, as: UTF8.self).contains("waiter"))
        let next = try #require(await messages.next())
        #expect(String(decoding: next.payload, as: UTF8.self) == "marker")
        try await listener.unsubscribe(["rill:socket:\(token)"])
        let again = try await first.acquire(token, registry: registry)
        await again.release()
    }

    @Test func onlyTheOwnerFreesTheLock() async throws {
        let url = try #require(redisURL)
        let manager = try RedisStateManager(url: url, lockExpiry: .milliseconds(200))
        let token = Token.random()
        let expired = try await manager.acquire(token, registry: registry)
        try await Task.sleep(for: .milliseconds(400))
        let other = try RedisStateManager(url: url)
        let current = try await other.acquire(token, registry: registry)
        await expired.release()
        let owner = try await raw().get("rill:lock:\(token)")
        #expect(owner != nil, "an expired holder freed the current holder's lock")
        await current.release()
        let redis = try raw()
        #expect(try await eventually { try await redis.get("rill:lock:\(token)") == nil })
    }

    @Test func aCommittedTabKeepsItsLockForItsNextEventThenLetsGo() async throws {
        let url = try #require(redisURL)
        let manager = try RedisStateManager(url: url, linger: .milliseconds(200))
        let redis = try raw()
        let token = Token.random()
        let first = try await manager.acquire(token, registry: registry)
        var state = first.state
        state[LockState.self].writer = "one"
        try await first.commit(state)
        await first.release()
        let owner = try #require(try await redis.get("rill:lock:\(token)"), "the lock was kept after the commit")

        // The next event here takes the kept lock and the saved state, without asking Redis.
        let second = try await manager.acquire(token, registry: registry)
        #expect(second.state[LockState.self].writer == "one")
        #expect(second.state.touched.isEmpty)
        #expect(try await redis.get("rill:lock:\(token)") == owner)
        try await second.commit(second.state)
        await second.release()

        // With no further event the lock goes once the linger has passed.
        #expect(try await eventually { try await redis.get("rill:lock:\(token)") == nil })
    }

    @Test func aLockThisProcessLeftBehindIsTakenOverAtOnce() async throws {
        let url = try #require(redisURL)
        let manager = try RedisStateManager(url: url)
        let redis = try raw()
        let token = Token.random()
        let lease = try await manager.acquire(token, registry: registry)
        let owner = try #require(try await redis.get("rill:lock:\(token)").map { String(decoding: $0, as: UTF8.self) })
        await lease.release()
        #expect(try await eventually { try await redis.get("rill:lock:\(token)") == nil })

        // A release that never reached Redis (it was down) leaves a lock under this process's
        // name for a minute; this process knows it holds the tab nowhere, so it takes it over.
        let prefix = owner[...owner.lastIndex(of: ":")!]
        _ = try await redis.set("rill:lock:\(token)", "\(prefix)999", px: 60_000)
        let asked = ContinuousClock.now
        let again = try await manager.acquire(token, registry: registry)
        #expect(ContinuousClock.now - asked < .seconds(30), "the process waited for its own orphaned lock to expire")
        await again.release()
    }

    @Test func anotherProcessAskingForAKeptLockGetsItWithoutWaitingOutTheLinger() async throws {
        let url = try #require(redisURL)
        let keeper = try RedisStateManager(url: url, lockExpiry: .seconds(120), linger: .seconds(30))
        let other = try RedisStateManager(url: url)
        let token = Token.random()
        let lease = try await keeper.acquire(token, registry: registry)
        var state = lease.state
        state[LockState.self].writer = "keeper"
        try await lease.commit(state)
        await lease.release()

        let asked = ContinuousClock.now
        let taken = try await other.acquire(token, registry: registry)
        #expect(ContinuousClock.now - asked < .seconds(15), "the other process waited for the linger instead of asking")
        #expect(taken.state[LockState.self].writer == "keeper")
        await taken.release()
    }

    @Test func aSaveWritesOnlyTheSubstatesThatChanged() async throws {
        let url = try #require(redisURL)
        let manager = try RedisStateManager(url: url)
        let token = Token.random()
        let lease = try await manager.acquire(token, registry: registry)
        var state = lease.state
        state[LockState.self].writer = "one"
        try await lease.commit(state)
        await lease.release()
        let fields = try await raw().hgetall("rill:tab:\(token)")
        #expect(Set(fields.keys) == ["lock_state"])
        let ttl = try await raw().send(["PTTL", "rill:tab:\(token)"]).int ?? -1
        #expect(ttl > 3_000_000, "the tab's state should expire after the token expiry (1 h)")
    }

    @Test func aStoredSubstateThatNoLongerFitsStartsFromItsDefaults() async throws {
        let url = try #require(redisURL)
        let logs = InMemoryLogHandler()
        let manager = try RedisStateManager(url: url, logger: Logger(label: "test") { _ in logs })
        let token = Token.random()
        _ = try await raw().hset("rill:tab:\(token)", [
            "lock_state": Array(#"{"v":{"writer":42}}"#.utf8),
            "other_state": Array(#"{"v":{"note":"kept"}}"#.utf8),
        ])
        let state = try await manager.snapshot(token, registry: registry)
        #expect(state[LockState.self].writer == "")
        #expect(state[OtherState.self].note == "kept")
        #expect(logs.entries.contains { $0.level == .warning && "\($0.message)".contains("no longer fits") })
    }

    @Test func aConnectedTabsStateIsRenewedAndExpiresFromItsDisconnect() async throws {
        let url = try #require(redisURL)
        // Renewed every second; an expiry of three leaves a loaded machine two seconds of slack.
        let manager = try RedisStateManager(url: url, tokenExpiry: .seconds(3))
        let token = Token.random()
        let lease = try await manager.acquire(token, registry: registry)
        var state = lease.state
        state[LockState.self].writer = "kept"
        try await lease.commit(state)
        await lease.release()
        await manager.connected(token)
        // More than two expiries long: without renewal the state would be gone.
        try await Task.sleep(for: .seconds(7))
        #expect(try await manager.snapshot(token, registry: registry)[LockState.self].writer == "kept")
        await manager.disconnected(token)
        let ttl = try await raw().send(["PTTL", "rill:tab:\(token)"]).int ?? -1
        #expect(ttl > 0 && ttl <= 3000, "expiry counts from the disconnect")
        #expect(try await eventually(timeout: .seconds(15)) {
            try await raw().send(["EXISTS", "rill:tab:\(token)"]).int == 0
        })
    }

    @Test func theRelayKnowsWhichTabsAnyProcessHoldsAndClosesThemOnTakeover() async throws {
        let url = try #require(redisURL)
        let first = try RedisStateManager(url: url)
        let second = try RedisStateManager(url: url)
        let firstRelay = try #require(first.relay)
        let secondRelay = try #require(second.relay)
        let closed = Mutex<[Token]>([])
        firstRelay.bind(deliver: { _, _ in }, shared: { _, _ in }, superseded: { token in closed.withLock { $0.append(token) } }, lost: {})
        secondRelay.bind(deliver: { _, _ in }, shared: { _, _ in }, superseded: { _ in }, lost: {})
        let token = Token.random()
        #expect(try await secondRelay.isAttached(token) == false)
        try await firstRelay.attach(token)
        #expect(try await secondRelay.isAttached(token))
        try await secondRelay.supersede(token)
        #expect(try await eventually { closed.withLock { $0 } == [token] })
        await firstRelay.detach(token)
        #expect(try await eventually { try await secondRelay.isAttached(token) == false })
    }

    @Test func aLockOfADeadProcessIsTakenAtOnceAndOneOfALiveProcessIsNot() async throws {
        let url = try #require(redisURL)
        let manager = try RedisStateManager(url: url)
        let redis = try raw()
        // A process killed while holding a lock: its lock lives on, its alive mark does not.
        let orphaned = Token.random()
        _ = try await redis.send(["SET", "rill:lock:\(orphaned)", "deadbeef:1", "PX", "60000"])
        let started = ContinuousClock.now
        let lease = try await manager.acquire(orphaned, registry: registry)
        #expect(ContinuousClock.now - started < .seconds(5), "the dead holder's 60 s lock was waited out")
        await lease.release()
        // A live process's lock is respected.
        let held = Token.random()
        _ = try await redis.send(["SET", "rill:alive:cafe", "1", "PX", "60000"])
        _ = try await redis.send(["SET", "rill:lock:\(held)", "cafe:1", "PX", "60000"])
        let waiter = Task { try await manager.acquire(held, registry: registry) }
        try await Task.sleep(for: .seconds(1))
        #expect(try await redis.send(["GET", "rill:lock:\(held)"]).string == "cafe:1")
        waiter.cancel()
        _ = try? await waiter.value
        _ = try await redis.send(["DEL", "rill:alive:cafe", "rill:lock:\(held)"])
    }

    @Test func redisThatCannotBeReachedIsAClearError() async throws {
        let manager = try RedisStateManager(url: "redis://127.0.0.1:1")
        await #expect(throws: RedisConnectionError.self) {
            _ = try await manager.acquire(Token.random(), registry: registry)
        }
        #expect(throws: RedisStateManager.BadRedisURL.self) { try RedisStateManager(url: "http://localhost") }
    }
}

/// Polls `condition` until it holds, for at most `timeout` (a generous bound, never a measurement).
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(5))
    }
    return false
}
