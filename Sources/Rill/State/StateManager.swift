// Where tabs' states live and how a tab's lock is taken: the protocols every state manager implements.
//
// Why `StateLease.commit(_:relaying:)` carries the update for another process instead of the app
// publishing it through the relay after the commit: the save and the publish must be one step.
// Published after the commit, an update is lost if the process dies in between, and can arrive
// after the next holder's update, painting an older value over a newer one. Published before,
// it can announce a change that then fails to save. Only the manager can make the two one step
// (Redis runs both in one script), so the lease takes the update and the relay keeps to carrying
// updates between processes.

/// Stores each tab's ``TabState`` and guards it with a per-tab exclusive lock.
///
/// Every change to a tab goes through a lease: ``acquire(_:registry:)-(Token,StateRegistry)`` waits for the tab's lock
/// (in arrival order) and loads the state, ``StateLease/commit(_:)`` stores what changed, and
/// ``StateLease/release()`` frees the lock. A manager may store states elsewhere (Redis) and
/// do I/O in each step; each step is `async` and may throw.
public protocol StateManager: Sendable {
    /// Waits for the tab's lock and loads its state. Throws `CancellationError` if the task is
    /// cancelled while waiting (and then holds no lock).
    func acquire(_ token: Token, registry: StateRegistry) async throws -> any StateLease
    /// The tab's state without taking the lock: what background tasks read outside their
    /// blocks. It may be stale by the time it is used.
    func snapshot(_ token: Token, registry: StateRegistry) async throws -> TabState
    /// Forgets a tab's state.
    func remove(_ token: Token) async throws
    /// The tab's socket is now with this process: its state must not expire while it stays.
    func connected(_ token: Token) async
    /// The tab's socket left this process: the state's expiry counts from now.
    func disconnected(_ token: Token) async
    /// Carries updates to tabs whose socket is with another process; `nil` when every tab's
    /// socket is with this one (the memory manager).
    var relay: (any UpdateRelay)? { get }
    /// Waits for a shared state key's lock (in arrival order) and loads its value. Throws
    /// `CancellationError` if the task is cancelled while waiting (and then holds no lock).
    func acquire(_ key: SharedKey, registry: StateRegistry) async throws -> any SharedLease
    /// A shared state key's value without taking its lock.
    func snapshot(_ key: SharedKey, registry: StateRegistry) async throws -> SharedValue
    /// This process, as a key's presence list names the process holding a tab's socket; `nil`
    /// for a manager only one process uses.
    var processID: String? { get }
    /// Keeps durable background tasks so they outlive their process; `nil` when the manager
    /// cannot (they then run as normal tasks).
    var durable: (any DurableTasks)? { get }
}

extension StateManager {
    public var relay: (any UpdateRelay)? { nil }
    public var processID: String? { nil }
    public var durable: (any DurableTasks)? { nil }
    public func connected(_ token: Token) async {}
    public func disconnected(_ token: Token) async {}
}

/// Carries updates between processes that share states, so a change made in one process
/// reaches a tab whose socket is with another.
public protocol UpdateRelay: Sendable {
    /// Hands the app the way to deliver updates that arrive for tabs connected here, to close a
    /// tab's socket here when the tab reconnected to another process, and to resend every tab
    /// here its whole state when updates for them may have been lost (the relay lost its
    /// connection and came back).
    /// `shared` delivers a shared state key's change made by another process to the tabs linked
    /// to it here.
    func bind(
        deliver: @escaping @Sendable (Token, StateUpdate) -> Void, shared: @escaping @Sendable (SharedKey, StateUpdate) -> Void,
        superseded: @escaping @Sendable (Token) -> Void, lost: @escaping @Sendable () -> Void)
    /// Whether some process, this one or another, holds the tab's socket.
    func isAttached(_ token: Token) async throws -> Bool
    /// Asks whichever process holds the tab's socket to close it: the tab took it over elsewhere.
    func supersede(_ token: Token) async throws
    /// This process now holds the tab's socket: updates for it from elsewhere come here.
    func attach(_ token: Token) async throws
    /// This process no longer holds the tab's socket.
    func detach(_ token: Token) async
    /// Sends an update to whichever process holds the tab's socket; dropped if none does.
    func publish(_ update: StateUpdate, to token: Token) async throws
    /// Changes of `key` committed by other processes come here from when this returns: a tab
    /// here is linked to it.
    func follow(_ key: SharedKey) async throws
    /// No tab here is linked to `key` any more.
    func unfollow(_ key: SharedKey) async
    /// Of the processes `owners`, those that are gone: their tabs leave every presence list.
    func gone(_ owners: Set<String>) async throws -> Set<String>
}

/// A held tab lock and the state loaded under it.
public protocol StateLease: Sendable {
    /// The state as loaded when the lock was taken.
    var state: TabState { get }
    /// Stores `state`; only substates in its ``TabState/touched`` set need writing. `update`,
    /// when given, is the change for a tab whose socket is with another process: a manager with
    /// a ``StateManager/relay`` publishes it in the same step, so it leaves only if the save
    /// succeeds and before the lock is freed. Throws ``LockExpiredError`` if the lock was lost
    /// (then nothing was stored or published).
    /// `shared`, when given, is a shared state key whose lock the same span holds, with its new
    /// value: it is saved (and its change published) in the same step, both or neither.
    func commit(_ state: TabState, relaying update: StateUpdate?, shared: SharedWrite?) async throws
    /// Frees the lock. Called once after a commit, or instead of one; a second call does nothing.
    /// A manager may return before its store confirms, as long as the next acquire it serves
    /// comes after the release.
    func release() async
}

extension StateLease {
    /// Stores `state` with nothing to relay.
    public func commit(_ state: TabState) async throws {
        try await commit(state, relaying: nil, shared: nil)
    }

    /// Stores `state`, relaying `update`, with no shared state.
    public func commit(_ state: TabState, relaying update: StateUpdate?) async throws {
        try await commit(state, relaying: update, shared: nil)
    }
}

/// A held lock of a shared state key and the value loaded under it.
public protocol SharedLease: Sendable {
    /// The value as loaded when the lock was taken.
    var value: SharedValue { get }
    /// Stores `value`; a manager shared by processes publishes `update` (the change for linked
    /// tabs) to the processes with tabs linked to the key in the same step. Throws
    /// ``LockExpiredError`` if the lock was lost (then nothing was stored or published).
    func commit(_ value: SharedValue, relaying update: StateUpdate) async throws
    /// Frees the lock; a second call does nothing.
    func release() async
}

/// A shared state key's new value, saved in the same step as a tab's state.
public struct SharedWrite: Sendable {
    /// The held lock of the key.
    public let lease: any SharedLease
    /// The value to store.
    public let value: SharedValue
    /// The change for the tabs linked to the key.
    public let update: StateUpdate
}
