// A fair, cancellation-safe async lock per key: the per-tab lock of the memory state manager.

import DequeModule
import Synchronization

/// Exclusive async locks, one per key, created on first use and dropped when free.
///
/// Waiters are served in arrival order and the lock is handed to the next waiter directly, so
/// no late arrival can overtake a waiter. A waiter whose task is cancelled leaves the queue
/// with `CancellationError` and never holds the lock. Swift actors are re-entrant at `await`,
/// which is why this is a lock and not an actor.
public final class KeyedLock<Key: Hashable & Sendable>: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct Entry {
        var waiters: Deque<Waiter> = []
    }

    private struct Locks {
        var entries: [Key: Entry] = [:]
        var nextID: UInt64 = 0
    }

    private let locks = Mutex(Locks())

    /// No key is locked.
    public init() {}

    /// Waits until `key` is free and takes it.
    public func lock(_ key: Key) async throws {
        let id: UInt64? = locks.withLock { locks in
            if locks.entries[key] == nil {
                locks.entries[key] = Entry()
                return nil
            }
            locks.nextID += 1
            return locks.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let enqueued = locks.withLock { locks -> Bool in
                    // Cancelled before we got here: don't wait at all.
                    if Task.isCancelled { return false }
                    guard locks.entries[key] != nil else {
                        locks.entries[key] = Entry()
                        continuation.resume()
                        return true
                    }
                    locks.entries[key]!.waiters.append(Waiter(id: id, continuation: continuation))
                    return true
                }
                if !enqueued { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let cancelled = locks.withLock { locks -> Waiter? in
                guard let index = locks.entries[key]?.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return locks.entries[key]!.waiters.remove(at: index)
            }
            cancelled?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Frees `key`, handing it to the longest waiter if there is one.
    public func unlock(_ key: Key) {
        let next = locks.withLock { locks -> Waiter? in
            guard locks.entries[key] != nil else {
                preconditionFailure("unlock of a key that is not locked")
            }
            if let next = locks.entries[key]!.waiters.popFirst() { return next }
            locks.entries[key] = nil
            return nil
        }
        next?.continuation.resume()
    }

    /// How many tasks wait for `key`.
    public func waiterCount(_ key: Key) -> Int {
        locks.withLock { $0.entries[key]?.waiters.count ?? 0 }
    }

    /// Whether `key` is held now.
    public func isLocked(_ key: Key) -> Bool {
        locks.withLock { $0.entries[key] != nil }
    }
}
