// Locking under contention, per-tab ordering, and tabs running in parallel.

import Rill
import RillTesting
import Testing

@Suite struct ConcurrencyTests {
    let app = makeApp(states: [CounterState.self])

    @Test func fourTasksOfFiftyLockedIncrementsMakeExactlyTwoHundred() async throws {
        let tab = try await TestTab.connected(to: app)
        for _ in 0..<4 { tab.send(CounterState.event.bump(50)) }
        await tab.settle()
        #expect(try await tab.state(CounterState.self).count == 200)
        #expect(app.backgroundTasks.isEmpty)
        // One delta per block, each seeing the previous block's value.
        let counts = tab.takePending().compactMap { $0.delta["counter_state"]?["count"] }
        #expect(counts == (1...200).map { JSON.int($0) })
    }

    @Test func tenRacingModifyStateCallsMakeExactlyTen() async throws {
        let tab = try await TestTab.connected(to: app)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    try await app.modifyState(tab.token) { state in
                        let seen = state[CounterState.self].count
                        await Task.yield()   // invites a lost update if the lock were missing
                        state[CounterState.self].count = seen + 1
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await tab.state(CounterState.self).count == 10)
    }

    @Test func oneTabsEventsRunInArrivalOrder() async throws {
        let tab = try await TestTab.connected(to: app)
        for value in 0..<30 { tab.send(CounterState.event.append(value)) }
        await tab.settle()
        #expect(try await tab.state(CounterState.self).log == Array(0..<30))
        #expect(tab.takePending().count == 30)
    }

    @Test func aSlowHandlerInOneTabDoesNotDelayAnother() async throws {
        let slow = try await TestTab.connected(to: app)
        let quick = try await TestTab.connected(to: app)
        slow.send(CounterState.event.waitAtGate)
        #expect(try await eventually { Gates.shared.waiting(slow.token) == 1 })

        quick.send(CounterState.event.increment)
        #expect(try await quick.receiveDelta() == ["counter_state": ["count": 1]])

        // The slow tab's next event waits behind its blocked handler.
        slow.send(CounterState.event.increment)
        #expect(slow.takePending().isEmpty)
        Gates.shared.open(slow.token)
        #expect(try await slow.receiveDelta() == ["counter_state": ["count": 100]])
        #expect(try await slow.receiveDelta() == ["counter_state": ["count": 101]])
    }

    @Test func aBackgroundTaskDoesNotWaitForTheTabsQueue() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.waitAtGate)
        #expect(try await eventually { Gates.shared.waiting(tab.token) == 1 })
        // The handler holds the lock, so the task has started but waits for its block.
        tab.send(CounterState.event.bump(1))
        #expect(try await eventually { app.backgroundTasks.contains { $0.token == tab.token } })
        Gates.shared.open(tab.token)
        await tab.settle()
        #expect(try await tab.state(CounterState.self).count == 101)
    }
}
