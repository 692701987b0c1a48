// A stored var JSON cannot carry (a NaN, an infinity) fails the commit with an error naming it:
// saved as null it would no longer load, and the state would quietly start again from its defaults.

import Rill
import RillTesting
import Testing

@LiveState
struct Gauge {
    var readings: [Double] = []
    var average: Double = 0
    var label = "idle"
    @Backend var scale: Double = 1
    /// Not saved: a NaN here is sent as null.
    @Computed var perReading: Double { average / Double(readings.count) }

    mutating func record(_ value: Double) {
        readings.append(value)
        average = readings.reduce(0, +) / Double(readings.count)
    }

    /// 0 / 0 when the factor is 0.
    mutating func rescale(by factor: Double) {
        label = "rescaled"
        scale = factor / (factor * average)
    }

    mutating func divide(by divisor: Double) {
        label = "divided"
        readings = readings.map { $0 / divisor }
    }

    @Background
    private func overflow(_: BackgroundRun) async throws {
        try await withCleanup {
            try await withState { s in s.label = "overflowing" }
            try await withState { s in s.average = .infinity }
        } cleanup: { s in
            s.label = "stopped"
        }
    }
}

@LiveState
struct Scoreboard: SharedState {
    var mean: Double = 0
    var games = 0
}

@Suite struct UnsavableValueTests {
    let app = makeApp(states: [Gauge.self, CounterState.self, Scoreboard.self])

    @Test func aNaNInAVarFailsTheHandlerNamingTheVarAndChangesNothing() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(Gauge.event.record(4))
        tab.send(Gauge.event.rescale(0))
        _ = try await tab.receiveDelta()
        let error = try await tab.receiveError()
        #expect(error.message.contains("'gauge.scale' cannot be saved"), "\(error.message)")
        #expect(error.message.contains("nan"), "\(error.message)")
        #expect(!error.retry, "it would fail again: the page does not resend it")
        let gauge = try await tab.state(Gauge.self)
        #expect(gauge.label == "idle", "the handler's other changes were not saved either")
        #expect(gauge.scale == 1)
        #expect(gauge.readings == [4], "and the state before it is whole")

        tab.send(Gauge.event.record(6))
        #expect(try await tab.receiveDelta()["gauge"]?["average"] == .double(5), "the tab goes on")
    }

    @Test func anInfinityInsideACollectionIsFoundWhereItIs() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(Gauge.event.record(2))
        tab.send(Gauge.event.divide(0))
        _ = try await tab.receiveDelta()
        let error = try await tab.receiveError()
        #expect(error.message.contains("'gauge.readings' cannot be saved: it holds Double inf at [0]"), "\(error.message)")
        #expect(try await tab.state(Gauge.self).readings == [2])
    }

    @Test func aComputedVarThatIsNaNIsSentAsNull() async throws {
        let tab = try await TestTab.connect(to: app)
        let hydration = try await tab.receive()
        #expect(hydration.delta["gauge"]?["per_reading"] == .null, "0 / 0 readings")
        tab.send(Gauge.event.record(8))
        #expect(try await tab.receiveDelta()["gauge"]?["per_reading"] == .double(8))
    }

    @Test func aBlockThatLeavesANaNFailsItsTaskAndTheCleanUpRuns() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(Gauge.event.overflow)
        #expect(try await tab.receiveDelta()["gauge"]?["label"] == "overflowing")
        #expect(try await tab.receiveDelta()["gauge"]?["label"] == "stopped", "the clean-up ran")
        let error = try await tab.receiveError()
        #expect(error.message.contains("'gauge.average' cannot be saved: it holds Double inf;"), "\(error.message)")
        #expect(try await tab.state(Gauge.self).average == 0)
    }

    @Test func otherTabsNeverNotice() async throws {
        let failing = try await TestTab.connected(to: app)
        let other = try await TestTab.connected(to: app)
        failing.send(Gauge.event.rescale(0))
        other.send(CounterState.event.increment)
        _ = try await failing.receiveError()
        #expect(try await other.receiveDelta() == ["counter_state": ["count": 1]])
    }

    @Test func aSharedKeyChangedToANaNKeepsItsValue() async throws {
        let key = "board-\(Token.random())"
        try await app.modifyShared(Scoreboard.self, key) { $0.games = 2 }
        await #expect(throws: UnsavableValueError.self) {
            try await app.modifyShared(Scoreboard.self, key) { board in
                board.games = 0
                board.mean = 0 / Double(board.games)
            }
        }
        let board = try await app.sharedState(Scoreboard.self, key)
        #expect(board.games == 2, "nothing of the change was saved")
        #expect(board.mean == 0)
    }
}
