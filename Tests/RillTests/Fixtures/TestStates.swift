// Small states that each exercise one feature of the runtime.

import Rill
import Synchronization

struct Boom: Error, CustomStringConvertible {
    var description: String { "boom" }
}

/// Gates a handler until the test opens it, per tab, so tests need no timing.
final class Gates: Sendable {
    static let shared = Gates()
    private let gates = Mutex<[Token: [CheckedContinuation<Void, Never>]]>([:])
    private let opened = Mutex<Set<Token>>([])

    func wait(_ token: Token) async {
        await withCheckedContinuation { continuation in
            let open = gates.withLock { gates -> Bool in
                if opened.withLock({ $0.contains(token) }) { return true }
                gates[token, default: []].append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
    }

    func waiting(_ token: Token) -> Int { gates.withLock { $0[token]?.count ?? 0 } }

    func open(_ token: Token) {
        let waiters = gates.withLock { gates in
            opened.withLock { _ = $0.insert(token) }
            return gates.removeValue(forKey: token) ?? []
        }
        for waiter in waiters { waiter.resume() }
    }
}

@LiveState
struct CounterState {
    var count = 0
    var log: [Int] = []
    var token = ""
    @Backend var secret = "hidden"

    mutating func increment() { count += 1 }

    mutating func append(_ value: Int) async {
        await Task.yield()
        log.append(value)
    }

    mutating func waitAtGate() async {
        await Gates.shared.wait(router.token)
        count += 100
    }

    mutating func steps() async throws {
        for step in 1...5 {
            count = step
            try await push()
        }
    }

    mutating func incrementTwiceLater() -> [EventSpec] {
        [Self.event.increment, Self.event.increment]
    }

    mutating func emitAndBump() {
        emit(Self.event.bump(2))
        count += 10
    }

    mutating func rememberToken() {
        token = router.token.rawValue
    }

    mutating func changeSecret(_ value: String) {
        secret = value
    }

    private mutating func hiddenHelper() {
        count = -1
    }

    @Background
    private func bump(_: BackgroundRun, _ times: Int) async throws {
        for _ in 0..<times {
            try await withState { $0.count += 1 }
        }
    }

    @Background
    private func ticker(_: BackgroundRun) async throws {
        while true {
            try await withState { $0.count += 1 }
            try await sleep(for: .seconds(1))
        }
    }

    @Background(cancelOnDisconnect: true)
    private func watcher(_: BackgroundRun) async throws {
        while true {
            try await sleep(for: .seconds(1))
            try await withState { $0.count += 1 }
        }
    }
}

@LiveState
struct FailState {
    var value = 0
    var other = 0

    mutating func failAfterChange() throws {
        value = 99
        throw Boom()
    }

    mutating func pushThenFail() async throws {
        value = 1
        try await push()
        value = 2
        throw Boom()
    }

    mutating func useBlockInHandler() async throws {
        try await withState { $0.value = 5 }
    }

    mutating func chainThenFail() throws -> EventSpec {
        value = 7
        throw Boom()
    }

    @Background
    private func failingBlock(_: BackgroundRun) async throws {
        try await withState { s in
            s.value = 42
            throw Boom()
        }
    }

    @Background
    private func nestedBlock(_: BackgroundRun) async throws {
        try await withState { s in
            s.value = 1
            try await withState { $0.other = 1 }
        }
    }

    @Background
    private func halfBlock(_: BackgroundRun) async throws {
        try await withState { s in
            s.value = 1
            try await sleep(for: .seconds(5))
            s.other = 1
        }
    }

    @Background
    private func mutateOutside(_: BackgroundRun) async throws {
        try await modifyState(CounterState.self) { $0.count = 1 }
    }
}

enum ComputedProbe {
    static let calls = Atomic(0)
}

@LiveState
struct ComputedState {
    var price = 2
    var quantity = 3
    var note = ""

    @Computed var total: Int {
        ComputedProbe.calls.add(1, ordering: .relaxed)
        return price * quantity
    }
}

@LiveState
struct ParentState {
    var title = "parent"
}

@LiveState(parent: ParentState.self)
struct ChildState {
    var value = 0

    mutating func touchParent() async throws {
        value += 1
        try await modifyState(ParentState.self) { $0.title = "changed by child" }
    }

    mutating func readParent() async throws {
        let parent = try await getState(ParentState.self)
        value = parent.title.count
    }
}
