// The memory state manager (its fair, cancellation-safe lock, expiry, slow-lock warnings) and what a failed commit does.

import InMemoryLogging
import Logging
@testable import Rill
import RillTesting
import Synchronization
import Testing

@Suite struct KeyedLockTests {
    @Test func waitersAreServedInArrivalOrder() async throws {
        final class Order: Sendable { let values = Mutex<[Int]>([]) }
        let lock = KeyedLock<Int>()
        let order = Order()
        try await lock.lock(1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<8 {
                group.addTask {
                    try await lock.lock(1)
                    order.values.withLock { $0.append(index) }
                    lock.unlock(1)
                }
                // Each waiter queues before the next one starts.
                #expect(try await eventually { lock.waiterCount(1) == index + 1 })
            }
            lock.unlock(1)
            try await group.waitForAll()
        }
        #expect(order.values.withLock { $0 } == Array(0..<8))
        #expect(!lock.isLocked(1))
    }

    @Test func aCancelledWaiterLeavesTheQueueAndNeverHoldsTheLock() async throws {
        let lock = KeyedLock<String>()
        try await lock.lock("tab")
        let cancelled = Task { try await lock.lock("tab") }
        #expect(try await eventually { lock.waiterCount("tab") == 1 })
        let next = Task { try await lock.lock("tab") }
        #expect(try await eventually { lock.waiterCount("tab") == 2 })
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(lock.waiterCount("tab") == 1)
        lock.unlock("tab")
        try await next.value   // the lock went to the live waiter
        lock.unlock("tab")
        #expect(!lock.isLocked("tab"))
    }

    @Test func differentKeysDoNotWaitForEachOther() async throws {
        let lock = KeyedLock<Int>()
        try await lock.lock(1)
        try await lock.lock(2)
        #expect(lock.isLocked(1) && lock.isLocked(2))
        lock.unlock(1)
        lock.unlock(2)
    }
}

@Suite struct MemoryStateManagerTests {
    final class ManualTime: Sendable {
        let start = ContinuousClock.now
        let offset = Mutex(Duration.zero)
        func now() -> ContinuousClock.Instant { start + offset.withLock { $0 } }
        func advance(_ by: Duration) { offset.withLock { $0 += by } }
    }

    let registry = StateRegistry([CounterState.self])

    func write(_ manager: MemoryStateManager, _ token: Token, count: Int) async throws {
        let lease = try await manager.acquire(token, registry: registry)
        var state = lease.state
        state[CounterState.self].count = count
        try await lease.commit(state)
        await lease.release()
    }

    @Test func idleStatesExpire() async throws {
        let time = ManualTime()
        let manager = MemoryStateManager(expiry: .seconds(60), now: time.now)
        let token = Token.random()
        try await write(manager, token, count: 5)
        time.advance(.seconds(30))
        manager.sweep()
        #expect(try await manager.snapshot(token, registry: registry)[CounterState.self].count == 5)
        time.advance(.seconds(61))
        manager.sweep()
        #expect(manager.count == 0)
        #expect(try await manager.snapshot(token, registry: registry)[CounterState.self].count == 0)
    }

    @Test func aConnectedTabNeverExpiresAndItsExpiryCountsFromTheDisconnect() async throws {
        let time = ManualTime()
        let manager = MemoryStateManager(expiry: .seconds(60), now: time.now)
        let token = Token.random()
        try await write(manager, token, count: 4)
        await manager.connected(token)
        time.advance(.seconds(600))
        manager.sweep()
        #expect(manager.count == 1)
        await manager.disconnected(token)
        time.advance(.seconds(59))
        manager.sweep()
        #expect(manager.count == 1)
        time.advance(.seconds(2))
        manager.sweep()
        #expect(manager.count == 0)
    }

    @Test func aLockedStateNeverExpires() async throws {
        let time = ManualTime()
        let manager = MemoryStateManager(expiry: .seconds(60), now: time.now)
        let token = Token.random()
        try await write(manager, token, count: 3)
        let lease = try await manager.acquire(token, registry: registry)
        time.advance(.seconds(120))
        manager.sweep()
        #expect(manager.count == 1)
        await lease.release()
    }

    @Test func tokensAreValidated() {
        #expect(Token("short") == nil)
        #expect(Token("has space in it") == nil)
        #expect(Token(String(repeating: "a", count: 65)) == nil)
        #expect(Token("0f8fad5b-d9cb-469f-a165-70867728950e") != nil)
        #expect(Token(Token.random().rawValue) != nil)
    }
}

/// A memory manager whose commits fail while `failing` is set, as a Redis lock that expired
/// mid-handler or a Redis that went away.
final class FailingCommitManager: StateManager {
    let inner = MemoryStateManager()
    let failing = Mutex(false)
    /// Commits save, then fail as if the store's reply was lost.
    let ambiguous = Mutex(false)
    /// Tab commits that reached the store.
    let commits = Mutex(0)

    struct ReplyLost: Error, CustomStringConvertible {
        var description: String { "the connection closed before the reply arrived; the command may have run" }
    }

    func acquire(_ token: Token, registry: StateRegistry) async throws -> any StateLease {
        Lease(inner: try await inner.acquire(token, registry: registry), manager: self)
    }

    func snapshot(_ token: Token, registry: StateRegistry) async throws -> TabState {
        try await inner.snapshot(token, registry: registry)
    }

    func remove(_ token: Token) async throws {
        try await inner.remove(token)
    }

    func acquire(_ key: SharedKey, registry: StateRegistry) async throws -> any SharedLease {
        try await inner.acquire(key, registry: registry)
    }

    func snapshot(_ key: SharedKey, registry: StateRegistry) async throws -> SharedValue {
        try await inner.snapshot(key, registry: registry)
    }

    struct Lease: StateLease {
        let inner: any StateLease
        let manager: FailingCommitManager
        var state: TabState { inner.state }

        func commit(_ state: TabState, relaying update: StateUpdate?, shared: SharedWrite?) async throws {
            if manager.failing.withLock({ $0 }) { throw LockExpiredError(token: state.token) }
            try await inner.commit(state, relaying: update, shared: shared)
            manager.commits.withLock { $0 += 1 }
            if manager.ambiguous.withLock({ $0 }) { throw ReplyLost() }
        }

        func release() async {
            await inner.release()
        }
    }
}

@Suite struct FailedCommitTests {
    @Test func aCommitWhoseReplyWasLostIsFollowedByTheTabsWholeState() async throws {
        let manager = FailingCommitManager()
        let app = App(states: [CounterState.self], manager: manager)
        let tab = try await TestTab.connected(to: app)
        manager.ambiguous.withLock { $0 = true }
        tab.send(CounterState.event.increment)
        #expect(try await tab.receiveError().message.contains("may have run"))
        manager.ambiguous.withLock { $0 = false }
        let resync = try await tab.receive()
        #expect(resync.isHydration)
        #expect(resync.delta["counter_state"]?["count"] == 1, "the saved count, though its delta never came")
    }

    @Test func aFailedCommitSendsNoDeltaAndStoresNothing() async throws {
        let manager = FailingCommitManager()
        let app = App(states: [CounterState.self], manager: manager)
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.increment)
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 1]])

        manager.failing.withLock { $0 = true }
        tab.send(CounterState.event.increment)
        // The tab hears of the failure, and never of a count that was not saved.
        #expect(try await tab.receiveError().message.contains("expired"))
        #expect(try await manager.snapshot(tab.token, registry: app.registry)[CounterState.self].count == 1)

        manager.failing.withLock { $0 = false }
        tab.send(CounterState.event.increment)
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 2]])
    }
}
