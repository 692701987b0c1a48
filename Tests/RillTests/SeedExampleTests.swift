// The seed's first example behaves as the seed describes, step by step on a test clock.

import Rill
@testable import SeedExamples
import RillTesting
import Testing

@Suite struct SeedExampleTests {
    let clock = TestClock()
    let app: App

    init() {
        app = makeApp(states: [MyTaskState.self], clock: clock)
    }

    /// Lets the counting loop take its next half-second step.
    func step() async {
        await clock.waitForSleepers()
        clock.advance(by: .milliseconds(500))
    }

    @Test func hydrationHasFrontendVarsOnly() async throws {
        let tab = try await TestTab.connect(to: app)
        let update = try await tab.receive()
        #expect(update.isHydration)
        #expect(update.delta == ["my_task_state": ["counter": 0, "max_counter": 10, "running": false]])
    }

    @Test func countsToTheMaximumAndStops() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(MyTaskState.event.setMaxCounter(3))
        #expect(try await tab.receiveDelta() == ["my_task_state": ["max_counter": 3]])

        tab.send(MyTaskState.event.toggleRunning)
        #expect(try await tab.receiveDelta() == ["my_task_state": ["running": true]])
        #expect(try await tab.receiveDelta() == ["my_task_state": ["counter": 1]])
        await step()
        #expect(try await tab.receiveDelta() == ["my_task_state": ["counter": 2]])
        await step()
        #expect(try await tab.receiveDelta() == ["my_task_state": ["counter": 3]])
        await step()
        #expect(try await tab.receiveDelta() == ["my_task_state": ["running": false]])

        await tab.settle()
        #expect(app.backgroundTasks.isEmpty)
        let state = try await tab.state(MyTaskState.self)
        #expect(state.counter == 3 && !state.running && state.nTasks == 0)
        #expect(tab.takePending().isEmpty)
    }

    @Test func aSecondStartWhileRunningDoesNotStartASecondLoop() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(MyTaskState.event.toggleRunning)
        #expect(try await tab.receiveDelta() == ["my_task_state": ["running": true]])
        #expect(try await tab.receiveDelta() == ["my_task_state": ["counter": 1]])
        await clock.waitForSleepers()

        // Stop and start again while the first loop sleeps: a second task starts, sees
        // nTasks > 0 and returns at once.
        tab.send(MyTaskState.event.toggleRunning)
        #expect(try await tab.receiveDelta() == ["my_task_state": ["running": false]])
        tab.send(MyTaskState.event.toggleRunning)
        #expect(try await tab.receiveDelta() == ["my_task_state": ["running": true]])
        #expect(try await eventually { app.backgroundTasks.count == 1 })
        #expect(clock.sleeperCount == 1)

        for expected in 2...4 {
            await step()
            #expect(try await tab.receiveDelta() == ["my_task_state": ["counter": .int(expected)]])
        }
        #expect(try await tab.state(MyTaskState.self).nTasks == 1)
        app.cancelTasks(of: tab.token)
        await tab.settle()
    }

    @Test func resetWhileRunningKeepsCountingFromZero() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(MyTaskState.event.toggleRunning)
        _ = try await tab.receiveDelta()
        #expect(try await tab.receiveDelta() == ["my_task_state": ["counter": 1]])
        await step()
        #expect(try await tab.receiveDelta() == ["my_task_state": ["counter": 2]])

        // The task sleeps outside its block, so the tab's events run meanwhile.
        await clock.waitForSleepers()
        tab.send(MyTaskState.event.clearCounter)
        #expect(try await tab.receiveDelta() == ["my_task_state": ["counter": 0]])
        tab.send(MyTaskState.event.setMaxCounter(2))
        #expect(try await tab.receiveDelta() == ["my_task_state": ["max_counter": 2]])

        clock.advance(by: .milliseconds(500))
        #expect(try await tab.receiveDelta() == ["my_task_state": ["counter": 1]])
        await step()
        #expect(try await tab.receiveDelta() == ["my_task_state": ["counter": 2]])
        await step()
        #expect(try await tab.receiveDelta() == ["my_task_state": ["running": false]])
        await tab.settle()
    }

    @Test func stopEndsTheLoop() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(MyTaskState.event.toggleRunning)
        _ = try await tab.receiveDelta()
        _ = try await tab.receiveDelta()
        await clock.waitForSleepers()
        tab.send(MyTaskState.event.toggleRunning)
        #expect(try await tab.receiveDelta() == ["my_task_state": ["running": false]])
        clock.advance(by: .milliseconds(500))
        await tab.settle()
        #expect(app.backgroundTasks.isEmpty)
        #expect(try await tab.state(MyTaskState.self).counter == 1)
        #expect(tab.takePending().isEmpty)
    }

    @Test func theBackendVarNeverReachesTheTab() async throws {
        let tab = try await TestTab.connect(to: app)
        var updates = [try await tab.receive()]
        tab.send(MyTaskState.event.setMaxCounter(2))
        tab.send(MyTaskState.event.toggleRunning)
        for _ in 0..<3 { updates.append(try await tab.receive()) }
        await step()
        updates.append(try await tab.receive())
        await step()
        updates.append(try await tab.receive())
        await tab.settle()
        #expect(try await tab.state(MyTaskState.self).nTasks == 0)
        #expect(updates.count == 6)
        for update in updates {
            #expect(update.delta["my_task_state"]?["n_tasks"] == nil)
            #expect(update.error == nil)
        }
    }
}
