// Checks every error the macros report, where it points, and the fix-its that repair it.

import SwiftSyntaxMacrosGenericTestSupport
import Testing

/// The members every state gets even when it has nothing else, so tests can focus on the diagnostics.
private func emptyStateMembers(_ type: String, _ name: String) -> String {
    """
        static let stateInfo = StateInfo<\(type)>(
            name: "\(name)",
            parent: nil,
            vars: [],
            handlers: [:]
        )

        enum Events {}

        static var event: Events.Type { Events.self }
    """
}

@Suite("Diagnostics")
struct DiagnosticTests {
    @Test("@LiveState on a class")
    func notAStruct() {
        assertRillExpansion(
            """
            @LiveState
            class Session {
                var count = 0
            }
            """,
            expandedSource: """
            class Session {
                var count = 0
            }
            """,
            diagnostics: [
                DiagnosticSpec(
                    message: "@LiveState applies to a struct: Rill states are values, so they cannot change outside a lock",
                    line: 1,
                    column: 1
                )
            ]
        )
    }

    @Test("a stored var without a default value")
    func missingDefault() {
        assertRillExpansion(
            #"""
            @LiveState
            struct ProfileState {
                @Backend var name: String
            }
            """#,
            expandedSource: #"""
            struct ProfileState {
                var name: String

                static let stateInfo = StateInfo<ProfileState>(
                    name: "profile_state",
                    parent: nil,
                    vars: [
                        .backend("name", \.name),
                    ],
                    handlers: [:]
                )

                enum Events {}

                static var event: Events.Type { Events.self }
            }

            extension ProfileState: LiveState {}
            """#,
            diagnostics: [
                DiagnosticSpec(
                    message: "give 'name' a default value: every tab's state starts from its defaults",
                    line: 3,
                    column: 18
                )
            ]
        )
    }

    @Test("a stored let, with a fix-it that makes it a var")
    func constant() {
        assertRillExpansion(
            """
            @LiveState
            struct LimitState {
                let limit = 10
            }
            """,
            expandedSource: """
            struct LimitState {
                let limit = 10

            \(emptyStateMembers("LimitState", "limit_state"))
            }

            extension LimitState: LiveState {}
            """,
            diagnostics: [
                DiagnosticSpec(
                    message: "'limit' is a constant; state vars must be 'var'",
                    line: 3,
                    column: 5,
                    fixIts: [FixItSpec(message: "replace 'let' with 'var'")]
                )
            ],
            fixedSource: """
            @LiveState
            struct LimitState {
                var limit = 10
            }
            """
        )
    }

    @Test("a background task that is not async")
    func backgroundNotAsync() {
        assertRillExpansion(
            """
            @LiveState
            struct JobState {
                @Background private func run(_: BackgroundRun) throws {}
            }
            """,
            expandedSource: """
            struct JobState {
                private func run(_: BackgroundRun) throws {}

                static let stateInfo = StateInfo<JobState>(
                    name: "job_state",
                    parent: nil,
                    vars: [],
                    handlers: [
                        "run": .background(cancelOnDisconnect: false) { (payload: Payload) in
                            return { (state: JobState, run: BackgroundRun) in try state.run(run) }
                        },
                    ]
                )

                enum Events {
                    static let run = EventSpec(JobState.self, "run")
                }

                static var event: Events.Type { Events.self }
            }

            extension JobState: LiveState {}
            """,
            diagnostics: [
                DiagnosticSpec(message: "background task 'run' must be 'async'", line: 3, column: 30)
            ]
        )
    }

    @Test("a mutating background task gets no handler")
    func backgroundMutating() {
        assertRillExpansion(
            """
            @LiveState
            struct JobState {
                @Background
                private mutating func run(_: BackgroundRun) async {}
            }
            """,
            expandedSource: """
            struct JobState {
                private mutating func run(_: BackgroundRun) async {}

                static let stateInfo = StateInfo<JobState>(
                    name: "job_state",
                    parent: nil,
                    vars: [],
                    handlers: [:]
                )

                enum Events {
                    static let run = EventSpec(JobState.self, "run")
                }

                static var event: Events.Type { Events.self }
            }

            extension JobState: LiveState {}
            """,
            diagnostics: [
                DiagnosticSpec(
                    message:
                        "background task 'run' cannot be 'mutating': it changes state only inside 'withState { … }' blocks",
                    line: 4,
                    column: 13
                )
            ]
        )
    }

    @Test("a background task without its BackgroundRun, with a fix-it inserting it")
    func backgroundWithoutRun() {
        assertRillExpansion(
            """
            @LiveState
            struct FeedState {
                @Background
                private func refresh(every seconds: Int) async {}
            }
            """,
            expandedSource: """
            struct FeedState {
                private func refresh(every seconds: Int) async {}

                static let stateInfo = StateInfo<FeedState>(
                    name: "feed_state",
                    parent: nil,
                    vars: [],
                    handlers: [:]
                )

                enum Events {
                    static let refresh = EventRef<Int>(FeedState.self, "refresh", field: "every")
                }

                static var event: Events.Type { Events.self }
            }

            extension FeedState: LiveState {}
            """,
            diagnostics: [
                DiagnosticSpec(
                    message:
                        "background task 'refresh' must take '_: BackgroundRun' first: only Rill has one, so only its event can start the task",
                    line: 4,
                    column: 25,
                    fixIts: [FixItSpec(message: "insert '_: BackgroundRun' as the first parameter")]
                )
            ],
            fixedSource: """
            @LiveState
            struct FeedState {
                @Background
                private func refresh(_: BackgroundRun, every seconds: Int) async {}
            }
            """
        )
    }

    @Test("a named BackgroundRun, which could be passed on, with a fix-it unnaming it")
    func backgroundRunNamed() {
        assertRillExpansion(
            """
            @LiveState
            struct FeedState {
                @Background
                private func refresh(_ run: BackgroundRun) async {}
            }
            """,
            expandedSource: """
            struct FeedState {
                private func refresh(_ run: BackgroundRun) async {}

                static let stateInfo = StateInfo<FeedState>(
                    name: "feed_state",
                    parent: nil,
                    vars: [],
                    handlers: [:]
                )

                enum Events {
                    static let refresh = EventSpec(FeedState.self, "refresh")
                }

                static var event: Events.Type { Events.self }
            }

            extension FeedState: LiveState {}
            """,
            diagnostics: [
                DiagnosticSpec(
                    message:
                        "leave the BackgroundRun parameter of 'refresh' unnamed ('_: BackgroundRun'): a named one could be passed on to call a task directly",
                    line: 4,
                    column: 26,
                    fixIts: [FixItSpec(message: "write '_: BackgroundRun'")]
                )
            ],
            fixedSource: """
            @LiveState
            struct FeedState {
                @Background
                private func refresh(_: BackgroundRun) async {}
            }
            """
        )
    }

    @Test("@Computed on a stored property or one without a type")
    func computedWithoutTypeOrGetter() {
        assertRillExpansion(
            """
            @LiveState
            struct TotalState {
                @Computed var total = 0
                @Computed var label = { "x" }()
            }
            """,
            expandedSource: """
            struct TotalState {
                var total = 0
                var label = { "x" }()

            \(emptyStateMembers("TotalState", "total_state"))
            }

            extension TotalState: LiveState {}
            """,
            diagnostics: [
                DiagnosticSpec(message: "computed var 'total' needs an explicit type and a getter", line: 3, column: 19),
                DiagnosticSpec(message: "computed var 'label' needs an explicit type and a getter", line: 4, column: 19),
            ]
        )
    }

    @Test("inout, variadic and closure parameters")
    func unsupportedParameters() {
        assertRillExpansion(
            """
            @LiveState
            struct ListState {
                mutating func fill(values: inout [Int]) {}
                mutating func add(_ values: Int...) {}
                mutating func then(done: @escaping () -> Void) {}
                mutating func maybe(done: (() -> Void)?) {}
            }
            """,
            expandedSource: """
            struct ListState {
                mutating func fill(values: inout [Int]) {}
                mutating func add(_ values: Int...) {}
                mutating func then(done: @escaping () -> Void) {}
                mutating func maybe(done: (() -> Void)?) {}

            \(emptyStateMembers("ListState", "list_state"))
            }

            extension ListState: LiveState {}
            """,
            diagnostics: [
                DiagnosticSpec(
                    message: "event 'fill' cannot take parameter 'values': event payloads come from JSON",
                    line: 3,
                    column: 24
                ),
                DiagnosticSpec(
                    message: "event 'add' cannot take parameter 'values': event payloads come from JSON",
                    line: 4,
                    column: 23
                ),
                DiagnosticSpec(
                    message: "event 'then' cannot take parameter 'done': event payloads come from JSON",
                    line: 5,
                    column: 24
                ),
                DiagnosticSpec(
                    message: "event 'maybe' cannot take parameter 'done': event payloads come from JSON",
                    line: 6,
                    column: 25
                ),
            ]
        )
    }

    @Test("a generic event")
    func genericEvent() {
        assertRillExpansion(
            """
            @LiveState
            struct StoreState {
                mutating func put<Value: Codable>(_ value: Value) {}
            }
            """,
            expandedSource: """
            struct StoreState {
                mutating func put<Value: Codable>(_ value: Value) {}

            \(emptyStateMembers("StoreState", "store_state"))
            }

            extension StoreState: LiveState {}
            """,
            diagnostics: [
                DiagnosticSpec(
                    message: "event 'put' cannot be generic: its payload types must be known",
                    line: 3,
                    column: 22
                )
            ]
        )
    }

    @Test("two members that map to the same event name")
    func duplicateEvent() {
        assertRillExpansion(
            """
            @LiveState
            struct PadState {
                mutating func press(key: String) {}
                mutating func press(code: Int) {}
            }
            """,
            expandedSource: """
            struct PadState {
                mutating func press(key: String) {}
                mutating func press(code: Int) {}

                static let stateInfo = StateInfo<PadState>(
                    name: "pad_state",
                    parent: nil,
                    vars: [],
                    handlers: [
                        "press": .event { (payload: Payload) in
                            let key = try payload.decode(String.self, "key")
                            return { (state: inout PadState, scope: EventScope) in state.press(key: key) }
                        },
                    ]
                )

                enum Events {
                    static let press = EventRef<String>(PadState.self, "press", field: "key")
                }

                static var event: Events.Type { Events.self }
            }

            extension PadState: LiveState {}
            """,
            diagnostics: [
                DiagnosticSpec(
                    message: "'press' is overloaded, but events are looked up by name alone; rename one of the overloads of 'press'",
                    line: 4,
                    column: 19
                )
            ]
        )
    }

    @Test("a method whose name becomes a setter's event name")
    func methodCollidesWithSetter() {
        assertRillExpansion(
            #"""
            @LiveState
            struct PadState {
                var level = 0
                mutating func set_level() {}
            }
            """#,
            expandedSource: #"""
            struct PadState {
                var level = 0
                mutating func set_level() {}

                static let $level = Var(PadState.self, \.level, "level")

                static let stateInfo = StateInfo<PadState>(
                    name: "pad_state",
                    parent: nil,
                    vars: [
                        .frontend("level", \.level),
                    ],
                    handlers: [
                        "set_level": .event { (payload: Payload) in
                            return { (state: inout PadState, scope: EventScope) in state.set_level() }
                        },
                    ]
                )

                enum Events {
                    static let set_level = EventSpec(PadState.self, "set_level")
                }

                static var event: Events.Type { Events.self }
            }

            extension PadState: LiveState {}
            """#,
            diagnostics: [
                DiagnosticSpec(
                    message: "'set_level' and 'setLevel' both become event 'set_level'; rename one of them",
                    line: 3,
                    column: 9
                )
            ]
        )
    }

    @Test("a parameter without any name is reported along with the other bad parameters")
    func unnamedParameter() {
        assertRillExpansion(
            """
            @LiveState
            struct PadState {
                mutating func tap(_: Int, _ other: inout Int) {}
            }
            """,
            expandedSource: """
            struct PadState {
                mutating func tap(_: Int, _ other: inout Int) {}

            \(emptyStateMembers("PadState", "pad_state"))
            }

            extension PadState: LiveState {}
            """,
            diagnostics: [
                DiagnosticSpec(
                    message: "give every parameter of event 'tap' a name: it names the parameter's JSON field",
                    line: 3,
                    column: 23
                ),
                DiagnosticSpec(
                    message: "event 'tap' cannot take parameter 'other': event payloads come from JSON",
                    line: 3,
                    column: 31
                ),
            ]
        )
    }

    @Test("marker attributes on members they do not apply to")
    func misplacedMarkers() {
        assertRillExpansion(
            """
            @LiveState
            struct OddState {
                @Backend var doubled: Int { 2 }
                @Computed static var shared: Int { 1 }
                @Background static func tick() async {}
            }
            """,
            expandedSource: """
            struct OddState {
                var doubled: Int { 2 }
                static var shared: Int { 1 }
                static func tick() async {}

            \(emptyStateMembers("OddState", "odd_state"))
            }

            extension OddState: LiveState {}
            """,
            diagnostics: [
                DiagnosticSpec(
                    message: "@Backend applies to a stored instance 'var' of a @LiveState struct",
                    line: 3,
                    column: 5
                ),
                DiagnosticSpec(
                    message: "@Computed applies to an instance 'var' of a @LiveState struct",
                    line: 4,
                    column: 5
                ),
                DiagnosticSpec(
                    message: "@Background applies to an instance method of a @LiveState struct",
                    line: 5,
                    column: 5
                ),
            ]
        )
    }
}
