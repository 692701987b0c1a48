// Bounds how many lines one tab's failures may write to the log, so a flood cannot fill a disk.

import Synchronization

/// An allowance of log lines per key (a tab, a kind of refusal): a few per second each, the
/// rest counted and summed up in the next line that is written.
package final class LogBudget<Key: Hashable & Sendable>: Sendable {
    private struct Window {
        var start: ContinuousClock.Instant
        var used = 0
        var dropped = 0
    }

    /// Lines a tab may write per window.
    let lines: Int
    let window: Duration
    private let windows = Mutex<[Key: Window]>([:])

    package init(lines: Int = 5, window: Duration = .seconds(1)) {
        self.lines = lines
        self.window = window
    }

    /// Whether a line about `key` may be written now, and how many were dropped before it.
    package func take(_ key: Key) -> (allowed: Bool, dropped: Int) {
        let now = ContinuousClock.now
        return windows.withLock { windows in
            // Forget quiet tabs once in a while, so the table stays as small as the busy ones.
            if windows.count > 4096 { windows = windows.filter { now - $0.value.start < window } }
            var current = windows[key] ?? Window(start: now)
            if now - current.start >= window { current = Window(start: now, dropped: current.dropped) }
            defer { windows[key] = current }
            guard current.used < lines else {
                current.dropped += 1
                return (false, 0)
            }
            current.used += 1
            let dropped = current.dropped
            current.dropped = 0
            return (true, dropped)
        }
    }
}
