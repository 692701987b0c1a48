// Helpers shared by the runtime tests.

import Foundation
import Logging
import Rill
import RillRedis
import RillTesting

/// The app under test. Its states live in memory, or in Redis when `RILL_TEST_REDIS_URL` is
/// set: the test command runs this suite once each way, so the core's behaviour is checked
/// against both state managers.
func makeApp(
    states: [any LiveState.Type],
    clock: any Clock<Duration> = ContinuousClock(),
    maxTasksPerTab: Int = 16,
    slowLockWarning: Duration = .seconds(1),
    logger: Logger = Logger(label: "rill")
) -> App {
    guard let url = ProcessInfo.processInfo.environment["RILL_TEST_REDIS_URL"] else {
        return App(states: states, clock: clock, maxTasksPerTab: maxTasksPerTab, slowLockWarning: slowLockWarning, logger: logger)
    }
    do {
        return App(
            states: states, manager: try RedisStateManager(url: url), clock: clock, maxTasksPerTab: maxTasksPerTab,
            slowLockWarning: slowLockWarning, logger: logger)
    } catch {
        fatalError("RILL_TEST_REDIS_URL: \(error)")
    }
}

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
