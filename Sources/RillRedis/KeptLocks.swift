// Tab locks a process keeps for a moment after an event, so a tab busy here needs no lock or load per event.

import Rill
import Synchronization

/// Locks this process still holds in Redis after an event committed, with the state it saved.
///
/// A tab whose events come one after another (typing, a game, a stream of clicks) then costs
/// one Redis round trip per event, the commit, instead of three. The lock is let go when
/// ``linger`` passes without another event, or at once when another process asks for the tab:
/// a failed acquire publishes the token on ``RedisTabLock/wantedChannel``.
final class KeptLocks: Sendable {
    struct Kept {
        let owner: String
        let state: TabState
        let since: ContinuousClock.Instant
    }

    private struct Book {
        var kept: [Token: Kept] = [:]
        /// Tabs another process asked for while an event here held them.
        var wanted: Set<Token> = []
        var sweeping = false
    }

    /// How long a lock is kept without an event.
    let linger: Duration
    /// Sends the release of a lock (token, owner); called under this object's lock, so a later
    /// acquire of this process always goes out after it.
    private let free: @Sendable (Token, String) -> Void
    private let book = Mutex(Book())

    init(linger: Duration, free: @escaping @Sendable (Token, String) -> Void) {
        self.linger = linger
        self.free = free
    }

    /// Takes the kept lock of `token`, if there is one.
    func take(_ token: Token) -> Kept? {
        book.withLock { $0.kept.removeValue(forKey: token) }
    }

    /// An event holding `token`'s lock as `owner` committed `state`: keeps the lock, unless
    /// another process asked for the tab meanwhile. Returns whether it was kept.
    func keep(_ token: Token, owner: String, state: TabState) -> Bool {
        guard linger > .zero else { return false }
        let startSweep = book.withLock { book -> Bool? in
            if book.wanted.remove(token) != nil { return nil }
            book.kept[token] = Kept(owner: owner, state: state.saved(), since: .now)
            defer { book.sweeping = true }
            return !book.sweeping
        }
        guard let startSweep else { return false }
        if startSweep { Task.detached { await self.sweep() } }
        return true
    }

    /// Another process asked for `token`: frees it now if it is kept, or when the event that
    /// holds it here (`held`) ends.
    func wanted(_ token: Token, held: Bool) {
        book.withLock { book in
            if let kept = book.kept.removeValue(forKey: token) {
                free(token, kept.owner)
            } else if held {
                book.wanted.insert(token)
            }
        }
    }

    /// Frees the kept lock of `token`, if there is one.
    func drop(_ token: Token) {
        book.withLock { book in
            if let kept = book.kept.removeValue(forKey: token) { free(token, kept.owner) }
        }
    }

    /// Frees locks kept longer than ``linger``, until none is kept.
    private func sweep() async {
        while true {
            try? await Task.sleep(for: linger / 2)
            let done = book.withLock { book -> Bool in
                let now = ContinuousClock.now
                for (token, kept) in book.kept where now - kept.since >= linger {
                    book.kept[token] = nil
                    free(token, kept.owner)
                }
                if book.kept.isEmpty { book.sweeping = false }
                return !book.sweeping
            }
            if done { return }
        }
    }
}
