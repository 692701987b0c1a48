// A minimal app for load tests and multi-process tests: a counter, an increment, and a background count.

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

    /// Adds one `n` times, each in its own lock block: one delta per block.
    @Background
    private func bgCount(_: BackgroundRun, _ n: Int) async throws {
        for _ in 0..<n {
            try await withState { $0.counter += 1 }
        }
    }
}

let page = Page("/", title: "Rill bench") {
    VStack {
        Heading(BenchState.$counter)
        Button("Increment", onClick: BenchState.event.increment)
    }
}
// The load generator starts the background task directly; no component on the page does.
try await App.serve(pages: [page], publicEvents: [BenchState.event.bgCount.name], store: RedisStore.self)
