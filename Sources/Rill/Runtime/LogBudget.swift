// Bounds how many lines one tab's failures may write to the log, so a flood cannot fill a disk.

import Synchronization

/// A per-tab allowance of log lines: a few per second each, the rest counted and summed up in
/// the next line that is written.
package final class LogBudget: Sendable {
    private struct Window {
        var start: ContinuousClock.Instant
        var used = 0
        var dropped = 0
    }

    /// Lines a tab may write per window.
    let lines: Int
    let window: Duration
    private let windows = Mutex<[Token: Window]>([:])

    init(lines: Int = 5, window: Duration = .seconds(1)) {
        self.lines = lines
        self.window = window
    }

    /// Whether a line about `token` may be written now, and how many were dropped before it.
    package func take(_ token: Token) -> (allowed: Bool, dropped: Int) {
        let now = ContinuousClock.now
        return windows.withLock { windows in
            // Forget quiet tabs once in a while, so the table stays as small as the busy ones.
            if windows.count > 4096 { windows = windows.filter { now - $0.value.start < window } }
            var current = windows[token] ?? Window(start: now)
            if now - current.start >= window { current = Window(start: now, dropped: current.dropped) }
            defer { windows[token] = current }
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
