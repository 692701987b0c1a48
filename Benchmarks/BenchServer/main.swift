// A minimal app for load tests and multi-process tests: a counter, an increment, a background count,
// and a shared room every tab may join.

import Rill
import RillRedis
import RillServer

/// One counter per tab.
@LiveState
struct BenchState {
    var counter = 0

    mutating func increment() {
        counter += 1
    }

    /// Adds one `n` times, each in its own lock block: one delta per block. The load generator
    /// sends `n` from outside, so it is checked like any argument a client chooses.
    @Background
    private func bgCount(_: BackgroundRun, _ n: Int) async throws {
        guard (0...1_000_000).contains(n) else { throw CountOutOfRange(n: n) }
        for _ in 0..<n {
            try await withState { $0.counter += 1 }
        }
    }

    /// The same as a durable task (with Redis): each block also commits its step as the task's
    /// checkpoint, in the same script.
    @Background(durable: true)
    private func bgCountDurable(_: BackgroundRun, _ n: Int) async throws {
        guard (0...1_000_000).contains(n) else { throw CountOutOfRange(n: n) }
        var step = try checkpoint(Int.self) ?? 0
        while step < n {
            let next = step + 1
            try await withState(checkpoint: next) { $0.counter += 1 }
            step = next
        }
    }

    /// Links the tab to the one shared room the fan-out scenario writes to.
    mutating func join() async throws {
        try await link(BenchRoom.self, to: "bench")
    }
}

/// The room of the fan-out scenario: one writer changes it, every linked tab gets each change.
@LiveState
struct BenchRoom: SharedState {
    var total = 0

    mutating func increment() {
        total += 1
    }
}

struct CountOutOfRange: Error, CustomStringConvertible {
    let n: Int
    var description: String { "n must be 0 to 1000000, got \(n)" }
}

let page = Page("/", title: "Rill bench") {
    VStack {
        Heading(BenchState.$counter)
        Button("Increment", onClick: BenchState.event.increment)
    }
}
// The load generator starts the background task and joins the room directly; no component on the page does.
try await App.serve(
    pages: [page], states: [BenchRoom.self], publicEvents: [BenchState.event.bgCount.name, BenchState.event.bgCountDurable.name, BenchState.event.join.name, BenchRoom.event.increment.name],
    store: RedisStore.self)
