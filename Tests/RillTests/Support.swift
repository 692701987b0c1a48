// Helpers shared by the runtime tests.

import Rill
import RillTesting

/// Polls `condition` until it holds; fails after `timeout` (a generous bound, never a measurement).
func eventually(timeout: Duration = .seconds(10), _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(2))
    }
    return false
}

extension TestTab {
    /// Connects and drops the hydration update.
    static func connected(to app: App, token: Token = .random()) async throws -> TestTab {
        let tab = try await TestTab.connect(to: app, token: token)
        _ = try await tab.receive()
        return tab
    }
}
