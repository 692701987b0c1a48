// A tab that reads more slowly than its state changes gets coalesced deltas and the final state.

import Rill
import RillServer
import Testing

@LiveState
struct FloodState {
    var count = 0
    var filler = ""

    /// `n` lock blocks, each sending a delta of about 6 KB.
    @Background
    private func flood(_: BackgroundRun, _ n: Int) async throws {
        for step in 1...n {
            try await withState { state in
                state.count = step
                state.filler = String(repeating: "x", count: 6000) + "\(step)"
            }
        }
    }
}

@Suite struct SlowTabTests {
    @Test func aTabThatStopsReadingGetsCoalescedDeltasEndingInTheFinalState() async throws {
        // A thread of its own, so the flood does not slow other suites' sockets.
        let server = try await RunningServer.start(
            App(states: [FloodState.self]), configuration: ServerConfiguration(port: 0, logLevel: .warning, threads: 1))
        defer { Task { await server.stop() } }
        let tab = try await server.socket(receiveBufferSize: 64 << 10)
        let (token, _) = try await tab.hydrate()

        // 2,000 deltas of 6 KB (12 MB) cannot all wait in the socket buffers (a 64 KB receive
        // buffer, a send buffer of at most a few MB) of a tab that does not read: the server
        // has to hold some back and merge them.
        let steps = 2_000
        try await tab.client.pauseReading()
        try await tab.event("flood_state.flood", ["n": .int(steps)])
        let tabToken = Token(token)!
        let deadline = ContinuousClock.now + .seconds(30)
        while !server.app.backgroundTasks.contains(where: { $0.token == tabToken }) {
            guard ContinuousClock.now < deadline else { throw HarnessError("the flood task did not start") }
            try await Task.sleep(for: .milliseconds(5))
        }
        await server.app.idle(tabToken)
        try await tab.client.resumeReading()

        var messages = 0
        var last = 0
        var version: Int?
        var merged = 0
        while last < steps {
            let message = try await tab.next()
            guard message["type"] == "delta", let delta = message["delta"], case .int(let to)? = message["v"]
            else { throw HarnessError("expected a numbered delta, got \(message)") }
            // `from` is said when it is not `v - 1`.
            var from = to - 1
            if case .int(let given)? = message["from"] { from = given }
            // Merged or not, each delta starts where the one before ended.
            if let version { #expect(from == version) }
            if to - from > 1 { merged += 1 }
            version = to
            messages += 1
            guard case .int(let count)? = delta["flood_state"]?["count"] else { continue }
            #expect(count > last, "deltas arrive in commit order")
            #expect(delta["flood_state"]?["filler"] == .string(String(repeating: "x", count: 6000) + "\(count)"))
            last = count
        }
        #expect(last == steps)
        #expect(messages < steps, "some deltas were merged while the tab was not reading")
        #expect(merged > 0, "a merged delta states the range of versions it covers")
        // The tab is live again: a new change arrives as its own delta.
        try await tab.event("flood_state.set_count", ["value": 0])
        #expect(try await tab.delta() == ["flood_state": ["count": 0]])
    }

    @Test func mergingKeepsTheNewestValueOfEachVarAndAHydrationStaysOne() {
        var update = StateUpdate(delta: ["a": ["x": 1, "y": 1]])
        update.merge(StateUpdate(delta: ["a": ["x": 2], "b": ["z": 3]]))
        #expect(update == StateUpdate(delta: ["a": ["x": 2, "y": 1], "b": ["z": 3]]))

        var hydration = StateUpdate(delta: ["a": ["x": 1, "y": 1]], isHydration: true)
        hydration.merge(StateUpdate(delta: ["a": ["y": 5]]))
        #expect(hydration == StateUpdate(delta: ["a": ["x": 1, "y": 5]], isHydration: true))

        var delta = StateUpdate(delta: ["a": ["x": 1]])
        delta.merge(StateUpdate(delta: ["a": ["x": 9, "y": 9]], isHydration: true))
        #expect(delta == StateUpdate(delta: ["a": ["x": 9, "y": 9]], isHydration: true))
    }
}
