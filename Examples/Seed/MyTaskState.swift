// The seed's first example: a counter that a background task advances twice a second.

import Rill

/// The counter's state: the heading shows `counter`, the input sets `maxCounter`.
@LiveState
public struct MyTaskState {
    var counter = 0
    var maxCounter = 10
    var running = false
    @Backend var nTasks = 0

    @Background
    private func myTask(_: BackgroundRun) async throws {
        let started = try await withState { s in
            // The latest values are always available inside the block.
            if s.nTasks > 0 { return false }   // only one counting loop at a time
            s.nTasks += 1
            return true
        }
        guard started else { return }
        try await withCleanup {
            while true {
                let stop = try await withState { s in
                    if s.counter >= s.maxCounter { s.running = false }
                    if !s.running { return true }
                    s.counter += 1
                    return false
                }
                if stop { return }
                // Long work goes outside the block so the tab stays interactive.
                try await sleep(for: .milliseconds(500))
            }
        } cleanup: { s in
            // However the loop ends (Stop, the maximum, a cancel, a failure) the tab is left consistent.
            s.nTasks -= 1
            s.running = false
        }
    }

    public init() {}

    mutating func toggleRunning() -> EventSpec? {
        running.toggle()
        return running ? Self.event.myTask : nil
    }

    mutating func clearCounter() {
        counter = 0
    }
}

/// The seed's page: a heading with the counter, the maximum, Start/Stop and Reset.
public func backgroundTaskExample() -> some Component {
    HStack {
        Heading(MyTaskState.$counter, " /")
        NumberInput(value: MyTaskState.$maxCounter, onChange: MyTaskState.event.setMaxCounter)
            .width("8em")
        Button(Cond(!MyTaskState.$running, "Start", "Stop"), onClick: MyTaskState.event.toggleRunning)
        Button("Reset", onClick: MyTaskState.event.clearCounter)
    }
}
