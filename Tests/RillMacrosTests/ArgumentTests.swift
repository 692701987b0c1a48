// Checks the `name:` and `parent:` arguments of @LiveState.

import Testing

@Suite("@LiveState arguments")
struct ArgumentTests {
    @Test("name: replaces the derived state name and parent: is passed through")
    func nameAndParent() {
        assertRillExpansion(
            #"""
            @LiveState(name: "tasks", parent: AppState.self)
            struct TaskListState {
                @Backend var loaded = false
            }
            """#,
            expandedSource: #"""
            struct TaskListState {
                var loaded = false

                static let stateInfo = StateInfo<TaskListState>(
                    name: "tasks",
                    parent: AppState.self,
                    vars: [
                        .backend("loaded", \.loaded),
                    ],
                    handlers: [:]
                )

                enum Events {}

                static var event: Events.Type { Events.self }
            }

            extension TaskListState: LiveState {}
            """#
        )
    }

    @Test("parent: alone keeps the derived name")
    func parentOnly() {
        assertRillExpansion(
            """
            @LiveState(parent: AppState.self)
            struct SidebarState {
            }
            """,
            expandedSource: """
            struct SidebarState {

                static let stateInfo = StateInfo<SidebarState>(
                    name: "sidebar_state",
                    parent: AppState.self,
                    vars: [],
                    handlers: [:]
                )

                enum Events {}

                static var event: Events.Type { Events.self }
            }

            extension SidebarState: LiveState {}
            """
        )
    }

    @Test("explicit nil arguments mean the defaults")
    func nilArguments() {
        assertRillExpansion(
            """
            @LiveState(name: nil, parent: nil)
            struct SidebarState {
            }
            """,
            expandedSource: """
            struct SidebarState {

                static let stateInfo = StateInfo<SidebarState>(
                    name: "sidebar_state",
                    parent: nil,
                    vars: [],
                    handlers: [:]
                )

                enum Events {}

                static var event: Events.Type { Events.self }
            }

            extension SidebarState: LiveState {}
            """
        )
    }
}
