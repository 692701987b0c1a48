// Checks @Linked: the getter it writes, the var @LiveState declares for it, and the forms it refuses.

import SwiftSyntaxMacrosGenericTestSupport
import Testing

@Suite("@Linked")
struct LinkedTests {
    @Test("a linked var gets a getter, no handle and no setter; a computed var over it depends on it")
    func linkedVar() {
        assertRillExpansion(
            #"""
            @LiveState
            struct Player {
                var goal = 10
                @Linked var room: Room
                @Computed var progress: String { "\(room.count) of \(goal)" }
            }
            """#,
            expandedSource: #"""
            struct Player {
                var goal = 10
                var room: Room {
                    get {
                        _linked(Room.self)
                    }
                }
                var progress: String { "\(room.count) of \(goal)" }

                static let $goal = Var(Player.self, \.goal, "goal")

                static let $progress = Var(Player.self, \.progress, "progress")

                static let stateInfo = StateInfo<Player>(
                    name: "player",
                    parent: nil,
                    vars: [
                        .frontend("goal", \.goal),
                        .linked("room", Room.self),
                        .computed("progress", \.progress, deps: ["goal", "room"]),
                    ],
                    handlers: [
                        "set_goal": .setter(\.goal),
                    ]
                )

                enum Events {
                    static let setGoal = EventRef(Player.self, "set_goal", setting: \.goal)
                }

                static var event: Events.Type { Events.self }
            }

            extension Player: LiveState {}
            """#
        )
    }

    @Test("a linked var with a value, or a let, is refused with the form to write")
    func refusedForms() {
        for (declaration, plain) in [("@Linked var room = Room()", "var room = Room()"), ("@Linked let room: Room", "let room: Room")] {
            assertRefused(
                declaration, expanded: plain,
                DiagnosticSpec(
                    message: "write '@Linked var room: SomeSharedState' with a type and no value: the framework gives it the linked key's value",
                    line: 3, column: 17))
        }
    }

    @Test("@Linked on a static var is misplaced")
    func misplaced() {
        assertRefused(
            "@Linked static var room: Room", expanded: "static var room: Room",
            DiagnosticSpec(message: "@Linked applies to an instance 'var' of a @LiveState struct", line: 3, column: 5))
    }

    /// A `Player` state whose only member is `declaration`, which @Linked refuses with `diagnostic`:
    /// the member stays as written, without the attribute, and the state has no vars.
    private func assertRefused(
        _ declaration: String, expanded: String, _ diagnostic: DiagnosticSpec,
        fileID: StaticString = #fileID, filePath: StaticString = #filePath, line: UInt = #line, column: UInt = #column
    ) {
        assertRillExpansion(
            """
            @LiveState
            struct Player {
                \(declaration)
            }
            """,
            expandedSource: """
            struct Player {
                \(expanded)

                static let stateInfo = StateInfo<Player>(
                    name: "player",
                    parent: nil,
                    vars: [],
                    handlers: [:]
                )

                enum Events {}

                static var event: Events.Type { Events.self }
            }

            extension Player: LiveState {}
            """,
            diagnostics: [diagnostic],
            fileID: fileID, filePath: filePath, line: line, column: column
        )
    }
}
