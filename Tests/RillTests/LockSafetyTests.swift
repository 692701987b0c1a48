// A tab's lock cannot wedge: nested blocks from child tasks fail at once, slow locks are reported while held.

import InMemoryLogging
import Logging
import Rill
import RillTesting
import Testing

@Suite struct LockSafetyTests {
    /// Starts `event` on a fresh tab, expects it to fail with NestedLockError, and checks that
    /// nothing was kept and the tab still runs events.
    private func expectNestedLockError(_ event: EventSpec) async throws {
        let app = makeApp(states: [NestState.self])
        let tab = try await TestTab.connected(to: app)
        tab.send(event)
        let error = try await tab.receiveError()
        #expect(error.message.contains("already open in this task or in the block that started it"))
        await tab.settle()
        #expect(try await tab.state(NestState.self).counter == 0)
        tab.send(NestState.event.setCounter(5))
        #expect(try await tab.receiveDelta() == ["nest_state": ["counter": 5]])
        #expect(tab.takePending().isEmpty)
    }

    @Test func aBlockInAnAsyncLetChildThrowsAtOnce() async throws {
        try await expectNestedLockError(NestState.event.viaAsyncLet)
    }

    @Test func aBlockInATaskGroupChildThrowsAtOnce() async throws {
        try await expectNestedLockError(NestState.event.viaTaskGroup)
    }

    @Test func aBlockInATaskStartedInsideTheOpenBlockThrowsAtOnce() async throws {
        try await expectNestedLockError(NestState.event.viaTask)
    }

    @Test func modifyStateFromAHandlersChildThrowsAtOnce() async throws {
        try await expectNestedLockError(NestState.event.handlerChild)
    }

    @Test func aTaskStartedInABlockLocksNormallyOnceTheBlockEnded() async throws {
        let app = makeApp(states: [NestState.self])
        let tab = try await TestTab.connected(to: app)
        tab.send(NestState.event.taskAfterTheBlock)
        #expect(try await tab.receiveDelta() == ["nest_state": ["counter": 1]])
        #expect(try await tab.receiveDelta() == ["nest_state": ["counter": 11]])
        await tab.settle()
        #expect(tab.takePending().isEmpty)
    }

    @Test func aSlowLockIsReportedWhileItIsStillHeld() async throws {
        let logs = InMemoryLogHandler()
        let app = makeApp(
            states: [NestState.self], clock: TestClock(), slowLockWarning: .milliseconds(50),
            logger: Logger(label: "test") { _ in logs })
        let tab = try await TestTab.connected(to: app)
        tab.send(NestState.event.holdLock)
        let held: @Sendable () -> InMemoryLogHandler.Entry? = { logs.entries.first { "\($0.message)" == "lock held too long" } }
        #expect(try await eventually { held() != nil })
        // Still held: the task is inside its block, waiting on a clock that never advances.
        #expect(app.backgroundTasks.map(\.name) == ["nest_state.hold_lock"])
        let warning = try #require(held())
        #expect(warning.level == .warning)
        #expect(warning.metadata["token"] == "\(tab.token)")
        #expect(warning.metadata["holder"] == "nest_state.hold_lock")
        #expect(warning.metadata["held"] != nil)
        app.cancelTasks(of: tab.token)
        await tab.settle()
        #expect(try await eventually { logs.entries.contains { "\($0.message)" == "slow lock released" } })
    }

    @Test func aQuickLockIsNotReported() async throws {
        let logs = InMemoryLogHandler()
        let app = makeApp(states: [NestState.self], slowLockWarning: .seconds(30), logger: Logger(label: "test") { _ in logs })
        let tab = try await TestTab.connected(to: app)
        tab.send(NestState.event.setCounter(1))
        _ = try await tab.receiveDelta()
        #expect(!logs.entries.contains { "\($0.message)".contains("lock") })
    }
}
