// The low-level API: any task changes a tab with app.modifyState(token), as in the seed's second example.

import Rill
import RillTesting
import Synchronization
import Testing

@LiveState
struct FreeTaskState {
    var result = ""

    mutating func fetchData() {
        let app = self.app
        let token = router.token
        // A free-standing task, not a Rill background task; it keeps the tab's token, never `self`.
        FetchRegistry.tasks.withLock {
            $0.append(Task {
                await Task.yield()
                try? await app.modifyState(token) { tab in
                    var state = try tab.substate(path: FreeTaskState.fullName.split(separator: ".").map(String.init))
                    if var low = state as? FreeTaskState {
                        low.result = "fetched for \(token)"
                        state = low
                    }
                    try tab.setSubstate(state)
                }
            })
        }
    }
}

enum FetchRegistry {
    static let tasks = Mutex<[Task<Void, Never>]>([])
}

@Suite(.serialized) struct LowLevelTests {
    @Test func aFreeStandingTaskWritesIntoTheTab() async throws {
        let app = makeApp(states: [FreeTaskState.self])
        let tab = try await TestTab.connected(to: app)
        tab.send(FreeTaskState.event.fetchData)
        #expect(try await tab.receiveDelta() == ["free_task_state": ["result": .string("fetched for \(tab.token)")]])
        for task in FetchRegistry.tasks.withLock({ $0 }) { await task.value }
    }

    @Test func modifyStateSendsOneDeltaAndAThrowChangesNothing() async throws {
        let app = makeApp(states: [CounterState.self])
        let tab = try await TestTab.connected(to: app)
        try await app.modifyState(tab.token) { $0[CounterState.self].count = 5 }
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 5]])
        await #expect(throws: Boom.self) {
            try await app.modifyState(tab.token) { tab in
                tab[CounterState.self].count = 6
                throw Boom()
            }
        }
        #expect(try await tab.state(CounterState.self).count == 5)
        #expect(tab.takePending().isEmpty)
    }

    @Test func dynamicSettersAreTypeCheckedAndRefusedOutsideALock() async throws {
        let app = makeApp(states: [CounterState.self])
        let tab = try await TestTab.connected(to: app)
        try await app.modifyState(tab.token) { try $0.set("counter_state.count", to: 9) }
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 9]])
        await #expect(throws: EventDeserializationError.self) {
            try await app.modifyState(tab.token) { try $0.set("counter_state.count", to: "nine") }
        }
        var escaped: TabState?
        try await app.modifyState(tab.token) { escaped = $0 }
        #expect(throws: ImmutableStateError.self) { try escaped?.set("counter_state.count", to: 1) }
        var snapshot = try await app.snapshot(tab.token)
        #expect(throws: ImmutableStateError.self) { try snapshot.set("counter_state.count", to: 1) }
        #expect(try await tab.state(CounterState.self).count == 9)
    }

    @Test func aNestedModifyStateOfTheSameTabIsAnError() async throws {
        let app = makeApp(states: [CounterState.self])
        let tab = try await TestTab.connected(to: app)
        await #expect(throws: NestedLockError.self) {
            try await app.modifyState(tab.token) { _ in
                try await app.modifyState(tab.token) { $0[CounterState.self].count = 1 }
            }
        }
        #expect(try await tab.state(CounterState.self).count == 0)
    }
}
