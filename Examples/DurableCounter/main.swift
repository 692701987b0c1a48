// Runs the seed's counter as a durable task: swift run DurableCounter --redis redis://127.0.0.1:6379,
// twice on two ports, then open either. Kill the process that counts: the other goes on counting
// from the last committed step once the tab reconnects to it. With memory state it counts as a normal task.

import Rill
import RillRedis
import RillServer

@LiveState
struct DurableCounterState {
    var counter = 0
    var maxCounter = 60
    var running = false
    /// Every committed step, in order: a step done twice or skipped would show here.
    var steps: [Int] = []
    /// Milliseconds between steps.
    var interval = 500
    /// Run again after a crash (resume), or only reset the flags and say so (fail).
    var resumable = true
    @Backend var nTasks = 0

    @Background(durable: true)
    private func count(_: BackgroundRun) async throws {
        try await countSteps()
    }

    @Background(durable: true, afterCrash: .fail)
    private func countOnce(_: BackgroundRun) async throws {
        try await countSteps()
    }

    /// The seed's loop, with each step's block checkpointing the step it committed.
    private func countSteps() async throws {
        // A resumed task has a checkpoint: it already holds the counting slot.
        if try checkpoint(Int.self) == nil {
            let started = try await withState(checkpoint: 0) { s in
                if s.nTasks > 0 { return false }
                s.nTasks += 1
                return true
            }
            guard started else { return }
        }
        try await withCleanup {
            var step = try checkpoint(Int.self) ?? 0
            while true {
                try await sleep(for: .milliseconds(max(10, interval)))
                let next = step + 1
                let going = try await withState(checkpoint: next) { s in
                    guard s.running, next <= s.maxCounter else { return false }
                    s.counter = next
                    s.steps.append(next)
                    return true
                }
                guard going else { return }
                step = next
            }
        } cleanup: { s in
            s.nTasks -= 1
            s.running = false
        }
    }

    mutating func toggleRunning() -> EventSpec? {
        running.toggle()
        guard running else { return nil }
        return resumable ? Self.event.count : Self.event.countOnce
    }

    mutating func clearCounter() {
        counter = 0
        steps = []
    }
}

let page = Page("/", title: "Durable counter") {
    VStack {
        HStack {
            Heading(DurableCounterState.$counter, " /")
            NumberInput(value: DurableCounterState.$maxCounter, onChange: DurableCounterState.event.setMaxCounter).width("8em")
            Button(Cond(!DurableCounterState.$running, "Start", "Stop"), onClick: DurableCounterState.event.toggleRunning).id("toggle")
            Button("Reset", onClick: DurableCounterState.event.clearCounter)
        }
        HStack {
            NumberInput(value: DurableCounterState.$interval, onChange: DurableCounterState.event.setInterval).width("8em").id("interval")
            Text("ms between steps")
        }
        Checkbox(checked: DurableCounterState.$resumable, label: "Resume after a crash", onChange: DurableCounterState.event.setResumable).id("resumable")
        Text(DurableCounterState.$steps.count, " steps committed").id("steps")
    }
}

try await App.serve(pages: [page], store: RedisStore.self)
