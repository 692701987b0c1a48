// Checks that a public state exposes everything the macro generates.

import Testing

@Suite("Access")
struct AccessTests {
    @Test("a public state makes its var handles, StateInfo, Events and event public")
    func publicState() {
        assertRillExpansion(
            #"""
            @LiveState
            public struct CounterState {
                public var count = 0
                @Computed public var isZero: Bool { count == 0 }
                public mutating func increment(by step: Int) {}
                public mutating func reset(to value: Int, animated: Bool = false) {}
            }
            """#,
            expandedSource: #"""
            public struct CounterState {
                public var count = 0
                public var isZero: Bool { count == 0 }
                public mutating func increment(by step: Int) {}
                public mutating func reset(to value: Int, animated: Bool = false) {}

                public static let $count = Var(CounterState.self, \.count, "count")

                public static let $isZero = Var(CounterState.self, \.isZero, "is_zero")

                public static let stateInfo = StateInfo<CounterState>(
                    name: "counter_state",
                    parent: nil,
                    vars: [
                        .frontend("count", \.count),
                        .computed("is_zero", \.isZero, deps: ["count"]),
                    ],
                    handlers: [
                        "increment": .event { (payload: Payload) in
                            let step = try payload.decode(Int.self, "by")
                            return { (state: inout CounterState, scope: EventScope) in state.increment(by: step) }
                        },
                        "reset": .event { (payload: Payload) in
                            let value = try payload.decode(Int.self, "to")
                            let animated = try payload.decode(Bool.self, "animated", default: false)
                            return { (state: inout CounterState, scope: EventScope) in state.reset(to: value, animated: animated) }
                        },
                        "set_count": .setter(\.count),
                    ]
                )

                public enum Events {
                    public static let increment = EventRef<Int>(CounterState.self, "increment", field: "by")
                    public static func reset(to value: Int, animated: Bool = false) -> EventSpec {
                        EventSpec(CounterState.self, "reset", ["to": JSON(argument: value), "animated": JSON(argument: animated)])
                    }
                    public static let setCount = EventRef(CounterState.self, "set_count", setting: \.count)
                }

                public static var event: Events.Type { Events.self }
            }

            extension CounterState: LiveState {}
            """#
        )
    }

    @Test("an internal state adds no access modifiers")
    func internalState() {
        assertRillExpansion(
            """
            @LiveState
            internal struct QuietState {
            }
            """,
            expandedSource: """
            internal struct QuietState {

                static let stateInfo = StateInfo<QuietState>(
                    name: "quiet_state",
                    parent: nil,
                    vars: [],
                    handlers: [:]
                )

                enum Events {}

                static var event: Events.Type { Events.self }
            }

            extension QuietState: LiveState {}
            """
        )
    }
}
