// The slow-lock watchdog: warns about a tab lock while it is still held, not after it is freed.

import Logging
import Synchronization

/// Watches the tab locks an app holds and logs one held longer than ``threshold`` while it is
/// still held, naming the tab, the event or task holding it and for how long; it warns again
/// each time the time held doubles, so a wedged tab keeps saying so.
///
/// The watcher is one task that runs only while some lock is held, so an idle app has none.
final class LockWatch: Sendable {
    private struct Held {
        let token: Token
        let holder: String
        let since: ContinuousClock.Instant
        /// When the next warning is due.
        var next: ContinuousClock.Instant
        var warned = false
    }

    private struct Watch {
        var held: [UInt64: Held] = [:]
        var nextID: UInt64 = 0
        var watching = false
    }

    let threshold: Duration
    private let logger: Logger
    private let watch = Mutex(Watch())

    init(threshold: Duration, logger: Logger) {
        self.threshold = threshold
        self.logger = logger
    }

    /// Notes that `holder` (an event or task name) took `token`'s lock; pass the result to ``end(_:)``.
    func begin(_ token: Token, holder: String) -> UInt64 {
        let now = ContinuousClock.now
        let (id, start) = watch.withLock { watch in
            watch.nextID += 1
            watch.held[watch.nextID] = Held(token: token, holder: holder, since: now, next: now + threshold)
            let start = !watch.watching
            watch.watching = true
            return (watch.nextID, start)
        }
        if start {
            // Detached and weak: the watcher neither inherits the lock holder's scope nor keeps the app alive.
            Task.detached { [weak self] in await self?.run() }
        }
        return id
    }

    /// Notes that the lock is free again; a lock that was warned about says how long it was held in all.
    func end(_ id: UInt64) {
        guard let held = watch.withLock({ $0.held.removeValue(forKey: id) }), held.warned else { return }
        logger.warning(
            "slow lock released",
            metadata: ["token": "\(held.token)", "holder": "\(held.holder)", "held": "\(ContinuousClock.now - held.since)"])
    }

    private var interval: Duration {
        min(max(threshold / 4, .milliseconds(5)), .seconds(1))
    }

    private func run() async {
        while true {
            try? await Task.sleep(for: interval)
            let now = ContinuousClock.now
            let (due, done) = watch.withLock { watch -> ([Held], Bool) in
                if watch.held.isEmpty {
                    watch.watching = false
                    return ([], true)
                }
                var due: [Held] = []
                for (id, held) in watch.held where held.next <= now {
                    due.append(held)
                    watch.held[id]!.warned = true
                    watch.held[id]!.next = held.since + (now - held.since) * 2
                }
                return (due, false)
            }
            if done { return }
            for held in due {
                logger.warning(
                    "lock held too long",
                    metadata: ["token": "\(held.token)", "holder": "\(held.holder)", "held": "\(now - held.since)"])
            }
        }
    }
}
