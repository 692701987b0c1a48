// What a tab's socket may call: the events its pages send and the public ones; and how many tasks it may run.

import Rill
import RillTesting
import SeedExamples
import Testing

@Suite struct ExposureTests {
    let page = Page("/", title: "Background task") { backgroundTaskExample() }

    @Test func aPageKnowsTheEventsItsComponentsSend() {
        #expect(page.events == [
            "my_task_state.set_max_counter", "my_task_state.toggle_running", "my_task_state.clear_counter",
        ])
    }

    @Test func aSocketMayCallOnlyWhatThePagesSendOrTheAppMakesPublic() async throws {
        let app = App(pages: [page], publicEvents: ["my_task_state.set_counter"])
        let tab = try await TestTab.connected(to: app)
        for hidden in ["my_task_state.my_task", "my_task_state.set_running", "my_task_state.nope"] {
            app.receive(EventSpec(name: hidden), from: tab.token)
            let error = try await tab.receiveError()
            #expect(error.event == hidden)
            #expect(error.message.hasPrefix("no event '\(hidden)' that a page may send"))
        }
        app.receive(EventSpec(name: "my_task_state.set_max_counter", payload: ["value": 3]), from: tab.token)
        #expect(try await tab.receiveDelta() == ["my_task_state": ["max_counter": 3]])
        app.receive(EventSpec(name: "my_task_state.set_counter", payload: ["value": 2]), from: tab.token)
        #expect(try await tab.receiveDelta() == ["my_task_state": ["counter": 2]])
    }

    @Test func handlersAndTestsStillReachEveryEvent() async throws {
        let app = App(pages: [page], clock: TestClock())
        let tab = try await TestTab.connected(to: app)
        tab.send(MyTaskState.event.toggleRunning)   // chains the background task the page cannot call
        #expect(try await tab.receiveDelta() == ["my_task_state": ["running": true]])
        #expect(try await tab.receiveDelta() == ["my_task_state": ["counter": 1]])
        app.cancelTasks(of: tab.token)
        await tab.settle()
    }

    @Test func aTabRunsAtMostItsShareOfBackgroundTasks() async throws {
        let app = makeApp(states: [CounterState.self], clock: TestClock(), maxTasksPerTab: 2)
        let tab = try await TestTab.connected(to: app)
        let other = try await TestTab.connected(to: app)
        for _ in 0..<3 { tab.send(CounterState.event.ticker) }
        other.send(CounterState.event.ticker)
        var updates: [StateUpdate] = []
        for _ in 0..<3 { updates.append(try await tab.receive()) }   // two first deltas and the refusal
        #expect(try await eventually { app.backgroundTasks.count == 3 })
        let errors = updates.compactMap(\.error)
        #expect(errors.map(\.message) == [
            "this tab already runs 2 background tasks, the most it may (App(maxTasksPerTab:)); the task did not start",
        ])
        app.cancelTasks(of: tab.token)
        #expect(try await eventually { app.backgroundTasks.count == 1 })
        tab.send(CounterState.event.ticker)
        #expect(try await eventually { app.backgroundTasks.count == 2 })
        app.cancelTasks(of: tab.token)
        app.cancelTasks(of: other.token)
        await tab.settle()
        await other.settle()
    }
}
