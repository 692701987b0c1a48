// States the transport tests drive over a real socket.

import Rill
import Synchronization

@LiveState
struct WireState {
    var count = 0
    var step = 0
    var label = ""
    @Backend var hidden = "never sent"

    mutating func increment() { count += 1 }

    mutating func rememberSession() { label = router.sessionID ?? "none" }

    mutating func steps() async throws {
        for value in 1...3 {
            step = value
            try await push()
        }
    }

    mutating func incrementLater() -> EventSpec { Self.event.increment }

    mutating func setBoth(count: Int, label: String) {
        self.count = count
        self.label = label
    }

    mutating func hold() async {
        await WireGate.shared.wait()
    }

    mutating func fail() throws {
        count = 99
        throw WireFailure()
    }
}

struct WireFailure: Error, CustomStringConvertible {
    var description: String { "the handler failed on purpose" }
}

/// Holds `hold()` until a test opens it.
final class WireGate: Sendable {
    static let shared = WireGate()
    private let waiters = Mutex<[CheckedContinuation<Void, Never>]>([])

    func wait() async {
        await withCheckedContinuation { continuation in waiters.withLock { $0.append(continuation) } }
    }

    var waiting: Int { waiters.withLock { $0.count } }

    func open() {
        for waiter in waiters.withLock({ w in defer { w.removeAll() }; return w }) { waiter.resume() }
    }
}
