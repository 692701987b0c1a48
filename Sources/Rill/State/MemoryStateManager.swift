// The embedded state manager: tabs' states in this process's memory, locked per tab.

import Synchronization

/// Keeps states in this process's memory: the embedded default.
///
/// A state not used for ``expiry`` is dropped — never while its lock is held or its tab is
/// connected; a tab's expiry counts from its disconnect.
public final class MemoryStateManager: StateManager {
    private struct Stored {
        var states: [String: any LiveState]
        var computed: [String: [String: JSON]]
        var delivery: Delivery
        var links: [String: SharedLink]
        var lastUsed: ContinuousClock.Instant
    }

    private struct StoredShared {
        var value: SharedValue
        var lastUsed: ContinuousClock.Instant
    }

    /// How long an unused tab's state is kept.
    public let expiry: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let lock = KeyedLock<Token>()
    private let sharedLock = KeyedLock<SharedKey>()
    private let stored = Mutex<(tabs: [Token: Stored], lastSweep: ContinuousClock.Instant?, connected: Set<Token>)>(([:], nil, []))
    private let shared = Mutex<[SharedKey: StoredShared]>([:])

    /// Creates an empty manager.
    /// - Parameters:
    ///   - expiry: How long an unused tab's state is kept (default one hour).
    ///   - now: The time source; tests pass their own.
    public init(
        expiry: Duration = .seconds(3600),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.expiry = expiry
        self.now = now
    }

    public func acquire(_ token: Token, registry: StateRegistry) async throws -> any StateLease {
        sweepIfDue()
        try await lock.lock(token)
        return Lease(manager: self, state: load(token, registry))
    }

    public func snapshot(_ token: Token, registry: StateRegistry) async throws -> TabState {
        load(token, registry)
    }

    public func remove(_ token: Token) async throws {
        _ = stored.withLock { $0.tabs.removeValue(forKey: token) }
    }

    public func acquire(_ key: SharedKey, registry: StateRegistry) async throws -> any SharedLease {
        try await sharedLock.lock(key)
        do {
            return KeyLease(manager: self, value: try load(key, registry))
        } catch {
            sharedLock.unlock(key)
            throw error
        }
    }

    public func snapshot(_ key: SharedKey, registry: StateRegistry) async throws -> SharedValue {
        try load(key, registry)
    }

    /// Number of tabs whose state is held.
    public var count: Int { stored.withLock { $0.tabs.count } }

    /// Number of shared state keys whose value is held.
    public var sharedCount: Int { shared.withLock { $0.count } }

    /// Drops every state unused for longer than ``expiry`` whose lock is free and whose tab is
    /// not connected, and every shared value unused as long whose lock is free and where nobody
    /// is present.
    public func sweep() {
        let now = now()
        stored.withLock { stored in
            stored.lastSweep = now
            stored.tabs = stored.tabs.filter { token, tab in
                now - tab.lastUsed <= expiry || lock.isLocked(token) || stored.connected.contains(token)
            }
        }
        shared.withLock { shared in
            shared = shared.filter { key, entry in
                now - entry.lastUsed <= expiry || sharedLock.isLocked(key) || !entry.value.presence.isEmpty
            }
        }
    }

    public func connected(_ token: Token) async {
        _ = stored.withLock { $0.connected.insert(token) }
    }

    public func disconnected(_ token: Token) async {
        let now = now()
        stored.withLock { stored in
            stored.connected.remove(token)
            stored.tabs[token]?.lastUsed = now
        }
    }

    private func sweepIfDue() {
        let due = stored.withLock { stored in
            stored.lastSweep.map { now() - $0 > expiry / 10 } ?? true
        }
        if due { sweep() }
    }

    private func load(_ token: Token, _ registry: StateRegistry) -> TabState {
        let now = now()
        let tab = stored.withLock { stored -> Stored? in
            stored.tabs[token]?.lastUsed = now
            return stored.tabs[token]
        }
        return TabState(
            token: token, registry: registry, states: tab?.states ?? [:], computed: tab?.computed ?? [:],
            delivery: tab?.delivery ?? Delivery(), links: tab?.links ?? [:])
    }

    private func load(_ key: SharedKey, _ registry: StateRegistry) throws -> SharedValue {
        let now = now()
        let value = shared.withLock { shared -> SharedValue? in
            shared[key]?.lastUsed = now
            return shared[key]?.value
        }
        return try value ?? SharedValue(key: key, registry: registry)
    }

    private func store(_ value: SharedValue) {
        let now = now()
        shared.withLock { $0[value.key] = StoredShared(value: value, lastUsed: now) }
    }

    private final class Lease: StateLease {
        let manager: MemoryStateManager
        let state: TabState
        private let released = Atomic(false)

        init(manager: MemoryStateManager, state: TabState) {
            self.manager = manager
            self.state = state
        }

        func commit(_ state: TabState, relaying update: StateUpdate?, shared: SharedWrite?) async throws {
            let now = manager.now()
            if let shared { manager.store(shared.value) }
            manager.stored.withLock {
                $0.tabs[state.token] = Stored(
                    states: state.states, computed: state.computed, delivery: state.delivery, links: state.links, lastUsed: now)
            }
        }

        func release() async {
            guard !released.exchange(true, ordering: .relaxed) else { return }
            manager.lock.unlock(state.token)
        }
    }

    private final class KeyLease: SharedLease {
        let manager: MemoryStateManager
        let value: SharedValue
        private let released = Atomic(false)

        init(manager: MemoryStateManager, value: SharedValue) {
            self.manager = manager
            self.value = value
        }

        func commit(_ value: SharedValue, relaying update: StateUpdate) async throws {
            manager.store(value)
        }

        func release() async {
            guard !released.exchange(true, ordering: .relaxed) else { return }
            manager.sharedLock.unlock(value.key)
        }
    }
}
