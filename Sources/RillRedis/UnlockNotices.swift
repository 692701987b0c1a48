// Announcements that a Redis lock (a tab's, or a shared state key's) was freed, which this process's waiters wait on.

import Rill
import Synchronization

/// Announcements that a lock was freed, counted per lock name so a waiter can tell whether one
/// came since it last tried.
final class UnlockNotices: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, Never>
    }

    private let state = Mutex<(generations: [String: UInt64], waiters: [String: [Waiter]], nextID: UInt64)>(([:], [:], 0))

    func generation(_ token: String) -> UInt64 {
        state.withLock { $0.generations[token] ?? 0 }
    }

    func announce(_ token: String) {
        let waiters = state.withLock { state -> [Waiter] in
            state.generations[token, default: 0] += 1
            return state.waiters.removeValue(forKey: token) ?? []
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    func announceAll() {
        let waiters = state.withLock { state -> [Waiter] in
            for token in state.waiters.keys { state.generations[token, default: 0] += 1 }
            defer { state.waiters.removeAll() }
            return state.waiters.values.flatMap { $0 }
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    /// Returns when an announcement for `token` newer than `seen` arrives, or after `timeout`.
    func wait(_ token: String, after seen: UInt64, timeout: Duration) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.wake(token, id)
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if (state.generations[token] ?? 0) != seen { return true }
                    state.waiters[token, default: []].append(Waiter(id: id, continuation: continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            self.wake(token, id)
        }
        try Task.checkCancellation()
    }

    private func wake(_ token: String, _ id: UInt64) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters[token]?.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters[token]!.remove(at: index)
        }
        waiter?.continuation.resume()
    }
}
