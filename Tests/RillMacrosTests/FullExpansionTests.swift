// Checks complete expansions: the reference state that uses every kind of member, and states with no events.

import RillMacros
import SwiftSyntaxMacroExpansion
import Testing

@Suite("Full expansion")
struct FullExpansionTests {
    @Test("vars, a backend var, a computed var, a background task and events")
    func referenceState() {
        assertRillExpansion(
            #"""
            @LiveState
            struct MyTaskState {
                var counter = 0
                var maxCounter = 10
                var running = false
                @Backend var nTasks = 0
                @Computed var label: String { running ? "Stop" : "Start" }

                @Background
                private func myTask(_: BackgroundRun) async throws {
                }

                mutating func toggleRunning() -> EventSpec? { running.toggle(); return running ? Self.event.myTask : nil }
                mutating func clearCounter() { counter = 0 }
                mutating func setName(_ name: String) { }
                mutating func add(amount: Int, times: Int = 1) async throws { }
                private mutating func helper() { }
                func describe() -> String { "" }
                static var shared = 0
                static mutating func reset() { }
            }
            """#,
            expandedSource: #"""
            struct MyTaskState {
                var counter = 0
                var maxCounter = 10
                var running = false
                var nTasks = 0
                var label: String { running ? "Stop" : "Start" }
                private func myTask(_: BackgroundRun) async throws {
                }

                mutating func toggleRunning() -> EventSpec? { running.toggle(); return running ? Self.event.myTask : nil }
                mutating func clearCounter() { counter = 0 }
                mutating func setName(_ name: String) { }
                mutating func add(amount: Int, times: Int = 1) async throws { }
                private mutating func helper() { }
                func describe() -> String { "" }
                static var shared = 0
                static mutating func reset() { }

                static let $counter = Var(MyTaskState.self, \.counter, "counter")

                static let $maxCounter = Var(MyTaskState.self, \.maxCounter, "max_counter")

                static let $running = Var(MyTaskState.self, \.running, "running")

                static let $label = Var(MyTaskState.self, \.label, "label")

                static let stateInfo = StateInfo<MyTaskState>(
                    name: "my_task_state",
                    parent: nil,
                    vars: [
                        .frontend("counter", \.counter),
                        .frontend("max_counter", \.maxCounter),
                        .frontend("running", \.running),
                        .backend("n_tasks", \.nTasks),
                        .computed("label", \.label, deps: ["running"]),
                    ],
                    handlers: [
                        "my_task": .background(cancelOnDisconnect: false) { (payload: Payload) in
                            return { (state: MyTaskState, run: BackgroundRun) in try await state.myTask(run) }
                        },
                        "toggle_running": .event { (payload: Payload) in
                            return { (state: inout MyTaskState, scope: EventScope) in scope.chain(state.toggleRunning()) }
                        },
                        "clear_counter": .event { (payload: Payload) in
                            return { (state: inout MyTaskState, scope: EventScope) in state.clearCounter() }
                        },
                        "set_name": .event { (payload: Payload) in
                            let name = try payload.decode(String.self, "name")
                            return { (state: inout MyTaskState, scope: EventScope) in state.setName(name) }
                        },
                        "add": .event { (payload: Payload) in
                            let amount = try payload.decode(Int.self, "amount")
                            let times = try payload.decode(Int.self, "times", default: 1)
                            return { (state: inout MyTaskState, scope: EventScope) in try await state.add(amount: amount, times: times) }
                        },
                        "set_counter": .setter(\.counter),
                        "set_max_counter": .setter(\.maxCounter),
                        "set_running": .setter(\.running),
                    ]
                )

                enum Events {
                    static let myTask = EventSpec(MyTaskState.self, "my_task")
                    static let toggleRunning = EventSpec(MyTaskState.self, "toggle_running")
                    static let clearCounter = EventSpec(MyTaskState.self, "clear_counter")
                    static let setName = EventRef<String>(MyTaskState.self, "set_name", field: "name")
                    static func add(amount: Int, times: Int = 1) -> EventSpec {
                        EventSpec(MyTaskState.self, "add", ["amount": JSON(argument: amount), "times": JSON(argument: times)])
                    }
                    static let setCounter = EventRef(MyTaskState.self, "set_counter", setting: \.counter)
                    static let setMaxCounter = EventRef(MyTaskState.self, "set_max_counter", setting: \.maxCounter)
                    static let setRunning = EventRef(MyTaskState.self, "set_running", setting: \.running)
                }

                static var event: Events.Type { Events.self }
            }

            extension MyTaskState: LiveState {}
            """#
        )
    }

    @Test("a state with only backend and computed vars has no handlers and an empty Events")
    func stateWithoutEvents() {
        assertRillExpansion(
            #"""
            @LiveState
            struct ClockState {
                @Backend var ticks = 0
                @Computed var seconds: Int { ticks / 10 }
                func formatted() -> String { "\(ticks)" }
            }
            """#,
            expandedSource: #"""
            struct ClockState {
                var ticks = 0
                var seconds: Int { ticks / 10 }
                func formatted() -> String { "\(ticks)" }

                static let $seconds = Var(ClockState.self, \.seconds, "seconds")

                static let stateInfo = StateInfo<ClockState>(
                    name: "clock_state",
                    parent: nil,
                    vars: [
                        .backend("ticks", \.ticks),
                        .computed("seconds", \.seconds, deps: ["ticks"]),
                    ],
                    handlers: [:]
                )

                enum Events {}

                static var event: Events.Type { Events.self }
            }

            extension ClockState: LiveState {}
            """#
        )
    }

    @Test("an empty state still gets StateInfo, Events and the conformance")
    func emptyState() {
        assertRillExpansion(
            """
            @LiveState
            struct BlankState {
            }
            """,
            expandedSource: """
            struct BlankState {

                static let stateInfo = StateInfo<BlankState>(
                    name: "blank_state",
                    parent: nil,
                    vars: [],
                    handlers: [:]
                )

                enum Events {}

                static var event: Events.Type { Events.self }
            }

            extension BlankState: LiveState {}
            """
        )
    }

    @Test("a state that already declares LiveState gets no second conformance")
    func existingConformance() {
        assertRillExpansion(
            """
            @LiveState
            struct BlankState: LiveState {
            }
            """,
            expandedSource: """
            struct BlankState: LiveState {

                static let stateInfo = StateInfo<BlankState>(
                    name: "blank_state",
                    parent: nil,
                    vars: [],
                    handlers: [:]
                )

                enum Events {}

                static var event: Events.Type { Events.self }
            }
            """,
            // The compiler passes no protocols to conform to when the struct already conforms.
            macros: ["LiveState": MacroSpec(type: LiveStateMacro.self)]
        )
    }
}
