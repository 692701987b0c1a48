// Checks event handlers: payload decoding, labels, try/await placement, chaining and background options.

import Testing

@Suite("Events")
struct EventTests {
    @Test("try and await appear exactly where each signature needs them, and results are chained")
    func effectsAndChaining() {
        assertRillExpansion(
            #"""
            @LiveState
            struct SyncState {
                mutating func pause() async {}
                mutating func load() throws {}
                mutating func sync() async throws -> EventSpec? { nil }
                mutating func stop() -> Void {}
                mutating func tidy() throws(Never) {}
                mutating func next() -> [EventSpec] { [] }
            }
            """#,
            expandedSource: #"""
            struct SyncState {
                mutating func pause() async {}
                mutating func load() throws {}
                mutating func sync() async throws -> EventSpec? { nil }
                mutating func stop() -> Void {}
                mutating func tidy() throws(Never) {}
                mutating func next() -> [EventSpec] { [] }

                static let stateInfo = StateInfo<SyncState>(
                    name: "sync_state",
                    parent: nil,
                    vars: [],
                    handlers: [
                        "pause": .event { (payload: Payload) in
                            return { (state: inout SyncState, scope: EventScope) in await state.pause() }
                        },
                        "load": .event { (payload: Payload) in
                            return { (state: inout SyncState, scope: EventScope) in try state.load() }
                        },
                        "sync": .event { (payload: Payload) in
                            return { (state: inout SyncState, scope: EventScope) in try await scope.chain(state.sync()) }
                        },
                        "stop": .event { (payload: Payload) in
                            return { (state: inout SyncState, scope: EventScope) in state.stop() }
                        },
                        "tidy": .event { (payload: Payload) in
                            return { (state: inout SyncState, scope: EventScope) in state.tidy() }
                        },
                        "next": .event { (payload: Payload) in
                            return { (state: inout SyncState, scope: EventScope) in scope.chain(state.next()) }
                        },
                    ]
                )

                enum Events {
                    static let pause = EventSpec(SyncState.self, "pause")
                    static let load = EventSpec(SyncState.self, "load")
                    static let sync = EventSpec(SyncState.self, "sync")
                    static let stop = EventSpec(SyncState.self, "stop")
                    static let tidy = EventSpec(SyncState.self, "tidy")
                    static let next = EventSpec(SyncState.self, "next")
                }

                static var event: Events.Type { Events.self }
            }

            extension SyncState: LiveState {}
            """#
        )
    }

    @Test("fields use the external label, else the internal name; locals never hide payload, state or scope")
    func parameterNames() {
        assertRillExpansion(
            #"""
            @LiveState
            struct FormState {
                mutating func rename(to newName: String, _ reason: String? = nil) {}
                mutating func move(state: Int, scope: [Int]) {}
                mutating func open(_ payload: String) {}
            }
            """#,
            expandedSource: #"""
            struct FormState {
                mutating func rename(to newName: String, _ reason: String? = nil) {}
                mutating func move(state: Int, scope: [Int]) {}
                mutating func open(_ payload: String) {}

                static let stateInfo = StateInfo<FormState>(
                    name: "form_state",
                    parent: nil,
                    vars: [],
                    handlers: [
                        "rename": .event { (payload: Payload) in
                            let newName = try payload.decode(String.self, "to")
                            let reason = try payload.decode(String?.self, "reason", default: nil)
                            return { (state: inout FormState, scope: EventScope) in state.rename(to: newName, reason) }
                        },
                        "move": .event { (payload: Payload) in
                            let stateArgument = try payload.decode(Int.self, "state")
                            let scopeArgument = try payload.decode([Int].self, "scope")
                            return { (state: inout FormState, scope: EventScope) in state.move(state: stateArgument, scope: scopeArgument) }
                        },
                        "open": .event { (payload: Payload) in
                            let payloadArgument = try payload.decode(String.self, "payload")
                            return { (state: inout FormState, scope: EventScope) in state.open(payloadArgument) }
                        },
                    ]
                )

                enum Events {
                    static func rename(to newName: String, _ reason: String? = nil) -> EventSpec {
                        EventSpec(FormState.self, "rename", ["to": JSON(argument: newName), "reason": JSON(argument: reason)])
                    }
                    static func move(state: Int, scope: [Int]) -> EventSpec {
                        EventSpec(FormState.self, "move", ["state": JSON(argument: state), "scope": JSON(argument: scope)])
                    }
                    static let open = EventRef<String>(FormState.self, "open", field: "payload")
                }

                static var event: Events.Type { Events.self }
            }

            extension FormState: LiveState {}
            """#
        )
    }

    @Test("background tasks pass cancelOnDisconnect through and decode their parameters")
    func backgroundOptions() {
        assertRillExpansion(
            #"""
            @LiveState
            struct PollState {
                @Background(cancelOnDisconnect: true)
                private func poll(_: BackgroundRun, every seconds: Double) async {}
                @Background
                fileprivate func fetch(_: BackgroundRun) async throws -> Int { 0 }
            }
            """#,
            expandedSource: #"""
            struct PollState {
                private func poll(_: BackgroundRun, every seconds: Double) async {}
                fileprivate func fetch(_: BackgroundRun) async throws -> Int { 0 }

                static let stateInfo = StateInfo<PollState>(
                    name: "poll_state",
                    parent: nil,
                    vars: [],
                    handlers: [
                        "poll": .background(cancelOnDisconnect: true) { (payload: Payload) in
                            let seconds = try payload.decode(Double.self, "every")
                            return { (state: PollState, run: BackgroundRun) in await state.poll(run, every: seconds) }
                        },
                        "fetch": .background(cancelOnDisconnect: false) { (payload: Payload) in
                            return { (state: PollState, run: BackgroundRun) in _ = try await state.fetch(run) }
                        },
                    ]
                )

                enum Events {
                    static let poll = EventRef<Double>(PollState.self, "poll", field: "every")
                    static let fetch = EventSpec(PollState.self, "fetch")
                }

                static var event: Events.Type { Events.self }
            }

            extension PollState: LiveState {}
            """#
        )
    }

    @Test("durable background tasks pass durable and afterCrash through")
    func durableOptions() {
        assertRillExpansion(
            #"""
            @LiveState
            struct JobState {
                @Background(durable: true)
                private func run(_: BackgroundRun) async throws {}
                @Background(cancelOnDisconnect: false, durable: true, afterCrash: .fail)
                private func once(_: BackgroundRun) async throws {}
            }
            """#,
            expandedSource: #"""
            struct JobState {
                private func run(_: BackgroundRun) async throws {}
                private func once(_: BackgroundRun) async throws {}

                static let stateInfo = StateInfo<JobState>(
                    name: "job_state",
                    parent: nil,
                    vars: [],
                    handlers: [
                        "run": .background(cancelOnDisconnect: false, durable: true) { (payload: Payload) in
                            return { (state: JobState, run: BackgroundRun) in try await state.run(run) }
                        },
                        "once": .background(cancelOnDisconnect: false, durable: true, afterCrash: .fail) { (payload: Payload) in
                            return { (state: JobState, run: BackgroundRun) in try await state.once(run) }
                        },
                    ]
                )

                enum Events {
                    static let run = EventSpec(JobState.self, "run")
                    static let once = EventSpec(JobState.self, "once")
                }

                static var event: Events.Type { Events.self }
            }

            extension JobState: LiveState {}
            """#
        )
    }
}
