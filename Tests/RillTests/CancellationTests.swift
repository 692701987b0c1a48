// Cancelling the task a handler started, by id, and clean-up blocks that run however a task ends.

import Rill
import RillTesting
import Testing

@Suite struct CancellationTests {
    let app = makeApp(states: [JobState.self])

    @Test func aCancelRightAfterStartNeverLetsTheTaskFinish() async throws {
        for _ in 0..<20 {
            let tab = try await TestTab.connected(to: app)
            tab.send(JobState.event.start)
            tab.send(JobState.event.cancel)
            await tab.settle()
            let state = try await tab.state(JobState.self)
            #expect(!state.finished)
            #expect(!state.running, "the clean-up block resets the flag")
            #expect(state.steps < 3)
        }
        #expect(app.backgroundTasks.isEmpty)
    }

    @Test func aTaskThatIsNotCancelledFinishesAndCleansUp() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(JobState.event.start)
        await tab.settle()
        let state = try await tab.state(JobState.self)
        #expect(state.finished && state.steps == 3 && !state.running)
    }

    @Test func theLatestStartWinsUnlessAskedToKeepOthers() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(JobState.event.startKeepingOthers)
        tab.send(JobState.event.startKeepingOthers)
        #expect(try await eventually { app.backgroundTasks.count == 2 })
        tab.send(JobState.event.start)
        #expect(try await eventually { app.backgroundTasks.count == 1 })
        #expect(app.backgroundTasks.first?.cancelID == "work")
        await tab.settle()
        let state = try await tab.state(JobState.self)
        #expect(state.finished && !state.running)
    }

    @Test func cancelOnlyStopsTheTasksOfItsOwnTab() async throws {
        let first = try await TestTab.connected(to: app)
        let second = try await TestTab.connected(to: app)
        first.send(JobState.event.start)
        second.send(JobState.event.start)
        first.send(JobState.event.cancel)
        await first.settle()
        await second.settle()
        #expect(try await !first.state(JobState.self).finished)
        #expect(try await second.state(JobState.self).finished)
    }

    @Test func aFailingTaskCleansUpAndReportsItsError() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(JobState.event.startFailing)
        await tab.settle()
        let updates = tab.takePending()
        // The clean-up's delta comes before the failure is reported.
        #expect(updates.map(\.delta) == [
            ["job_state": ["running": true]], ["job_state": ["steps": 1]], ["job_state": ["running": false]], [:],
        ])
        let errors = updates.compactMap(\.error)
        #expect(errors == [EventError(event: "job_state.failing", message: "boom")])
        let state = try await tab.state(JobState.self)
        #expect(!state.running)
        #expect(state.steps == 1, "the committed block before the failure stays")
    }

    @Test func aTaskCancelledOnDisconnectCleansUp() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(JobState.event.startFollowing)
        #expect(try await eventually { app.backgroundTasks.map(\.name) == ["job_state.follow"] })
        #expect(try await tab.state(JobState.self).running)
        tab.disconnect()
        await tab.settle()
        #expect(try await !tab.state(JobState.self).running)
    }

    @Test func cleanUpOutsideABackgroundTaskIsRefused() async throws {
        await #expect(throws: ImmutableStateError.self) {
            try await JobState().withCleanup({ }, cleanup: { _ in })
        }
    }
}
