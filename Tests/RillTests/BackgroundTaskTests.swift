// Background tasks: registry, duplicates, cancellation, nesting, and what they may not do.

import Rill
import RillTesting
import Testing

@Suite struct BackgroundTaskTests {
    let clock = TestClock()
    let app: App

    init() {
        app = makeApp(states: [CounterState.self, FailState.self], clock: clock)
    }

    @Test func aTaskIsListedFromItsStartUntilItEnds() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.ticker)
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 1]])
        #expect(app.backgroundTasks.map(\.name) == ["counter_state.ticker"])
        #expect(app.backgroundTasks.first?.token == tab.token)
        app.cancelTasks(of: tab.token)
        await tab.settle()
        #expect(app.backgroundTasks.isEmpty)
    }

    @Test func duplicatesRunSideBySide() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.ticker)
        tab.send(CounterState.event.ticker)
        await clock.waitForSleepers(2)
        #expect(app.backgroundTasks.count == 2)
        #expect(try await tab.state(CounterState.self).count == 2)
        app.cancelTasks(of: tab.token)
        await tab.settle()
    }

    @Test func cancellingATaskRunsNoFurtherBlocks() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.ticker)
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 1]])
        await clock.waitForSleepers()
        let task = try #require(app.backgroundTasks.first)
        app.cancel(task)
        await tab.settle()
        clock.advance(by: .seconds(5))
        #expect(try await tab.state(CounterState.self).count == 1)
        #expect(app.backgroundTasks.isEmpty)
        #expect(tab.takePending().isEmpty)
    }

    @Test func cancellingTheTasksOfOneTabLeavesOthers() async throws {
        let first = try await TestTab.connected(to: app)
        let second = try await TestTab.connected(to: app)
        first.send(CounterState.event.ticker)
        second.send(CounterState.event.ticker)
        await clock.waitForSleepers(2)
        app.cancelTasks(of: first.token)
        await first.settle()
        #expect(app.backgroundTasks.map(\.token) == [second.token])
        app.cancelTasks(of: second.token)
        await second.settle()
    }

    @Test func cancellationInsideABlockLeavesNoHalfOfIt() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(FailState.event.halfBlock)
        await clock.waitForSleepers()
        app.cancelTasks(of: tab.token)
        await tab.settle()
        let state = try await tab.state(FailState.self)
        #expect(state.value == 0 && state.other == 0)
        #expect(tab.takePending().isEmpty)
        #expect(app.backgroundTasks.isEmpty)
    }

    @Test func tasksKeepRunningAfterDisconnectUnlessTheyOptOut() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.ticker)
        tab.send(CounterState.event.watcher)
        await clock.waitForSleepers(2)
        tab.disconnect()
        #expect(try await eventually { app.backgroundTasks.map(\.name) == ["counter_state.ticker"] })
        let before = try await tab.state(CounterState.self).count
        clock.advance(by: .seconds(1))
        #expect(try await eventually { try await tab.state(CounterState.self).count == before + 1 })
        app.cancelTasks(of: tab.token)
        await tab.settle()
    }

    @Test func aThrowingBlockChangesNothingAndTheRegistryEmpties() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(FailState.event.failingBlock)
        let error = try await tab.receiveError()
        #expect(error.event == "fail_state.failing_block")
        #expect(error.message == "boom")
        await tab.settle()
        #expect(try await tab.state(FailState.self).value == 0)
        #expect(app.backgroundTasks.isEmpty)
        #expect(tab.takePending().isEmpty)
    }

    @Test func aNestedBlockIsAnErrorNotADeadlock() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(FailState.event.nestedBlock)
        let error = try await tab.receiveError()
        #expect(error.message.contains("already open in this task"))
        await tab.settle()
        let state = try await tab.state(FailState.self)
        #expect(state.value == 0 && state.other == 0)
    }

    @Test func aHandlerCannotOpenABlock() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(FailState.event.useBlockInHandler)
        let error = try await tab.receiveError()
        #expect(error.message.contains("withState { … } is for background tasks"))
        #expect(try await tab.state(FailState.self).value == 0)
    }

    @Test func changingAnotherStateOutsideABlockThrowsImmutableStateError() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(FailState.event.mutateOutside)
        let error = try await tab.receiveError()
        #expect(error.message.contains("changes state only while the tab's lock is held"))
        await tab.settle()
        #expect(try await tab.state(CounterState.self).count == 0)
    }

    @Test func theTaskReadsASnapshotAndBlocksSeeTheLatestState() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.ticker)
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 1]])
        await clock.waitForSleepers()
        tab.send(CounterState.event.increment)
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 2]])
        clock.advance(by: .seconds(1))
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 3]])
        app.cancelTasks(of: tab.token)
        await tab.settle()
    }
}

/// A durable task's shape, for the memory state manager, which keeps no task past its process.
@LiveState
struct Chores {
    var done: [Int] = []
    var seen: [Int] = []

    @Background(durable: true)
    private func work(_: BackgroundRun, count: Int) async throws {
        var step = try checkpoint(Int.self) ?? 0
        while step < count {
            let next = step + 1
            try await withState(checkpoint: next) { s in s.done.append(next) }
            step = try checkpoint(Int.self) ?? -1
            try await withState { s in s.seen.append(step) }
        }
    }
}

@Suite struct DurableInMemoryTests {
    @Test func aDurableTaskRunsAsANormalTaskAndSeesItsOwnCheckpoints() async throws {
        let app = makeApp(states: [Chores.self])
        let tab = try await TestTab.connected(to: app)
        tab.send(Chores.event.work(3))
        await tab.settle()
        #expect(try await tab.state(Chores.self).done == [1, 2, 3])
        #expect(try await tab.state(Chores.self).seen == [1, 2, 3], "checkpoint(_:) gives the last one committed")
        #expect(try await app.durableTasks().filter { $0.record.token == tab.token }.isEmpty, "nothing is left recorded once it ended")
    }
}
