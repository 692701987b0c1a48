// Checks generated setter events: when they are generated and which vars count as stored.

import Testing

@Suite("Setters")
struct SetterTests {
    @Test("a var gets no generated setter when the state declares a method with the setter's name")
    func userSetterWins() {
        assertRillExpansion(
            #"""
            @LiveState
            struct VolumeState {
                var volume = 5
                var muted = false
                mutating func setVolume(_ volume: Int) { self.volume = min(volume, 11) }
            }
            """#,
            expandedSource: #"""
            struct VolumeState {
                var volume = 5
                var muted = false
                mutating func setVolume(_ volume: Int) { self.volume = min(volume, 11) }

                static let $volume = Var(VolumeState.self, \.volume, "volume")

                static let $muted = Var(VolumeState.self, \.muted, "muted")

                static let stateInfo = StateInfo<VolumeState>(
                    name: "volume_state",
                    parent: nil,
                    vars: [
                        .frontend("volume", \.volume),
                        .frontend("muted", \.muted),
                    ],
                    handlers: [
                        "set_volume": .event { (payload: Payload) in
                            let volume = try payload.decode(Int.self, "volume")
                            return { (state: inout VolumeState, scope: EventScope) in state.setVolume(volume) }
                        },
                        "set_muted": .setter(\.muted),
                    ]
                )

                enum Events {
                    static let setVolume = EventRef<Int>(VolumeState.self, "set_volume", field: "volume")
                    static let setMuted = EventRef(VolumeState.self, "set_muted", setting: \.muted)
                }

                static var event: Events.Type { Events.self }
            }

            extension VolumeState: LiveState {}
            """#
        )
    }

    @Test("optional vars need no written default, and vars with observers are still stored")
    func optionalAndObserved() {
        assertRillExpansion(
            #"""
            @LiveState
            struct PickState {
                var choice: String?
                var count = 0 {
                    didSet { print(count) }
                }
            }
            """#,
            expandedSource: #"""
            struct PickState {
                var choice: String?
                var count = 0 {
                    didSet { print(count) }
                }

                static let $choice = Var(PickState.self, \.choice, "choice")

                static let $count = Var(PickState.self, \.count, "count")

                static let stateInfo = StateInfo<PickState>(
                    name: "pick_state",
                    parent: nil,
                    vars: [
                        .frontend("choice", \.choice),
                        .frontend("count", \.count),
                    ],
                    handlers: [
                        "set_choice": .setter(\.choice),
                        "set_count": .setter(\.count),
                    ]
                )

                enum Events {
                    static let setChoice = EventRef(PickState.self, "set_choice", setting: \.choice)
                    static let setCount = EventRef(PickState.self, "set_count", setting: \.count)
                }

                static var event: Events.Type { Events.self }
            }

            extension PickState: LiveState {}
            """#
        )
    }
}
