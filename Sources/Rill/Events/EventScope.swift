// The span in which one task holds a tab's lock: the working copy, intermediate updates, chained events.

import Synchronization

/// The span in which one task holds a tab's lock: a handler's run, a background task's
/// ``LiveState/withState(_:)`` block, or an ``App/modifyState(_:_:)`` call.
///
/// It owns the working copy of the tab's states; the handler's own state is checked out of it
/// while the handler runs. Deltas are computed here, so only while the lock is held.
public final class EventScope: Sendable {
    @TaskLocal static var current: EventScope?

    /// What opened the scope.
    enum Kind {
        /// A normal handler's run: it may push intermediate updates.
        case handler
        /// A background task's block or a `modifyState` call: its changes are sent when it ends.
        case block
    }

    private struct Work: @unchecked Sendable {
        var state: TabState
        /// What the tab has been sent so far during this scope.
        var sent: TabState
        let original: TabState
        /// The state (full name) a handler or block holds `inout`, or `"*"` for the whole tab.
        var checkedOut: String?
        var chained: [EventSpec] = []
        /// Commands for the page not yet sent.
        var commands: [PageCommand] = []
        /// The first command that broke its rules: the scope fails with it.
        var refused: InvalidCommandError?
        /// The tab asked for its whole state: the scope ends with a hydration.
        var rehydrate = false
        /// The shared state key whose lock the scope holds, taken on first use.
        var shared: Hold?
        var open = true
    }

    /// A shared state key's lock held by the scope, with its working value.
    struct Hold: Sendable {
        let lease: any SharedLease
        var value: SharedValue
    }

    let app: App
    let kind: Kind
    /// What the tab's `@Linked` vars show; `nil` when the app has none.
    private let view: LinkedView?
    /// Lets the whole-tab `TabState` handed out by this scope be written only while it is open.
    private let access = TabState.Access()
    /// The tab whose lock is held.
    public let token: Token
    /// The task that opened the scope; other tasks that inherit it are not nested in it.
    let owner: Int?
    private let work: Mutex<Work>

    init(app: App, state: TabState, kind: Kind, view: LinkedView? = nil) {
        self.app = app
        self.kind = kind
        self.view = view
        self.token = state.token
        self.owner = EventScope.currentTaskID()
        self.work = Mutex(Work(state: state, sent: state, original: state))
    }

    static func currentTaskID() -> Int? {
        withUnsafeCurrentTask { $0?.hashValue }
    }

    /// Whether the scope still holds the tab's lock.
    var isOpen: Bool { work.withLock { $0.open } }

    /// Whether the calling task already holds this tab's lock through this scope.
    var heldByCurrentTask: Bool {
        isOpen && owner == EventScope.currentTaskID()
    }

    // MARK: Chaining

    /// Runs `event` after this handler succeeds: a normal event joins the end of the tab's
    /// queue, a background task starts.
    public func chain(_ event: EventSpec) {
        work.withLock { $0.chained.append(event) }
    }

    /// Chains `event` if there is one.
    public func chain(_ event: EventSpec?) {
        if let event { chain(event) }
    }

    /// Chains `events` in order.
    public func chain(_ events: [EventSpec]) {
        work.withLock { $0.chained.append(contentsOf: events) }
    }

    var chained: [EventSpec] { work.withLock { $0.chained } }

    /// Queues `command` for the page, to leave with the scope's next update; one that breaks its
    /// rules makes the scope fail instead.
    func command(_ command: PageCommand) {
        work.withLock { work in
            if let problem = command.problem {
                if work.refused == nil { work.refused = InvalidCommandError(problem: problem) }
            } else {
                work.commands.append(command)
            }
        }
    }

    // MARK: Reaching states

    /// Hands `body` the scope's working copy of `S` to change in place, and keeps what it leaves;
    /// meanwhile `S` cannot be reached another way (``read(_:)``, ``modify(_:_:)``) in this scope.
    func withCheckedOut<S: LiveState, R>(_ type: S.Type, _ body: (inout S) async throws -> R) async throws -> R {
        if S.stateInfo.isShared { return try await withCheckedOutShared(S.self, body) }
        var state = try work.withLock { work in
            try Self.ensureOpen(work)
            work.checkedOut = S.fullName
            return work.state[S.self]
        }
        let result = try await body(&state)
        work.withLock { work in
            work.state[S.self] = state
            work.checkedOut = nil
        }
        return result
    }

    private func withCheckedOutShared<S: LiveState, R>(_ type: S.Type, _ body: (inout S) async throws -> R) async throws -> R {
        guard try await holdShared(S.fullName) else { throw NotLinkedError(state: S.fullName, type: "\(S.self)") }
        var state = try work.withLock { work in
            try Self.ensureOpen(work)
            work.checkedOut = S.fullName
            return work.shared!.value.state as! S
        }
        let result = try await body(&state)
        work.withLock { work in
            work.shared!.value.state = state
            work.checkedOut = nil
        }
        view?.set(S.fullName, state)
        return result
    }

    /// Takes the lock of the key the tab is linked to for the shared state `name`, once per
    /// scope; `false` when the tab is not linked. A scope holds one shared key at most: two
    /// spans taking two keys in opposite orders would wait for each other forever.
    func holdShared(_ name: String) async throws -> Bool {
        enum Need { case held, unlinked, take(SharedKey) }
        let need = try work.withLock { work -> Need in
            try Self.ensureOpen(work)
            if let held = work.shared {
                guard held.value.key.state == name else {
                    throw SharedKeyOrderError(
                        problem: "a handler or block reaches one shared state key at most; it holds \(held.value.key) and asked for '\(name)': change the other in an event of its own")
                }
                return .held
            }
            guard let link = work.state.links[name] else { return .unlinked }
            return .take(try SharedKey(state: name, key: link.key))
        }
        switch need {
        case .held: return true
        case .unlinked: return false
        case .take(let key):
            let lease = try await app.manager.acquire(key, registry: app.registry)
            work.withLock { $0.shared = Hold(lease: lease, value: lease.value) }
            view?.set(name, lease.value.state)
            return true
        }
    }

    /// The shared key lock the scope holds, to release when it ends.
    var sharedLease: (any SharedLease)? { work.withLock { $0.shared?.lease } }

    /// Links the tab to a key of the shared state `name`, or unlinks it (`nil`), in this scope's
    /// commit. A scope that already reached the shared state cannot change its link.
    func link(_ name: String, _ link: SharedLink?) throws {
        try work.withLock { work in
            try Self.ensureOpen(work)
            if work.shared?.value.key.state == name {
                throw SharedKeyOrderError(problem: "'\(name)' was used before it was linked in the same handler or block: link or unlink first")
            }
            work.state.link(name, link)
        }
    }

    /// The key the tab is linked to for the shared state `name`, as this scope sees it.
    func link(of name: String) throws -> SharedLink? {
        try work.withLock { work in
            try Self.ensureOpen(work)
            return work.state.links[name]
        }
    }

    /// The same for the whole tab: `body` gets a `TabState` that can be written only while the scope is open.
    func withCheckedOutTab<R>(_ body: (inout TabState) async throws -> R) async throws -> R {
        var tab = try work.withLock { work in
            try Self.ensureOpen(work)
            work.checkedOut = "*"
            var state = work.state
            state.access = access
            return state
        }
        let result = try await body(&tab)
        work.withLock { work in
            work.state = tab
            work.state.access = nil
            work.checkedOut = nil
        }
        return result
    }

    /// The scope's value of `S`; a shared state's is its held key's, or its defaults when the
    /// tab is not linked (take the key first with ``holdShared(_:)``).
    func read<S: LiveState>(_ type: S.Type) throws -> S {
        try work.withLock { work in
            try Self.ensureOpen(work)
            try Self.ensureFree(work, S.fullName)
            if S.stateInfo.isShared {
                return work.shared?.value.key.state == S.fullName ? work.shared!.value.state as! S : S()
            }
            return work.state[S.self]
        }
    }

    /// Changes the scope's value of `S`; a shared state's must be held (``holdShared(_:)``).
    func modify<S: LiveState, R>(_ type: S.Type, _ body: (inout S) throws -> R) throws -> R {
        try work.withLock { work in
            try Self.ensureOpen(work)
            try Self.ensureFree(work, S.fullName)
            if S.stateInfo.isShared {
                guard work.shared?.value.key.state == S.fullName else { throw NotLinkedError(state: S.fullName, type: "\(S.self)") }
                var state = work.shared!.value.state as! S
                let result = try body(&state)
                work.shared!.value.state = state
                view?.set(S.fullName, state)
                return result
            }
            var state = work.state[S.self]
            let result = try body(&state)
            work.state[S.self] = state
            return result
        }
    }

    // MARK: Updates

    /// Sends the changes so far, `state` being the current value of the checked-out state.
    func push<S: LiveState>(_ state: S) async throws {
        guard kind == .handler else {
            throw ImmutableStateError.pushInBlock
        }
        let update = try work.withLock { work in
            try Self.ensureOpen(work)
            if let refused = work.refused { throw refused }
            // A shared state's changes leave with the commit, to every linked tab at once.
            if S.stateInfo.isShared {
                work.shared?.value.state = state
                view?.set(S.fullName, state)
            } else {
                work.state[S.self] = state
            }
            var update = StateUpdate(delta: try Unsavable.check { work.state.delta(from: work.sent) }, commands: work.commands)
            work.state.number(&update)
            work.sent = work.state
            work.commands = []
            return update
        }
        if !update.isEmpty { await app.deliver(token, update) }
    }

    /// Reads again the keys the tab's `@Linked` vars show.
    func reloadLinked() async throws {
        guard let view else { return }
        try await view.load(work.withLock { $0.state.links }, app)
    }

    /// Marks states as written, so they are diffed (their computed vars recomputed) at the end.
    func touch(_ names: [String]) {
        work.withLock { $0.state.touched.formUnion(names) }
    }

    /// The tab's links if the scope changed them.
    var changedLinks: [String: SharedLink]? {
        work.withLock { $0.state.links != $0.original.links ? $0.state.links : nil }
    }

    /// Ends the scope with the tab's whole state instead of a delta: the page lost its place.
    func resync() {
        work.withLock { $0.rehydrate = true }
    }

    /// Closes the scope and returns the state to commit, what the tab has not been sent yet
    /// (not numbered yet), and the held shared key's new value if it changed. Throws the error of
    /// a refused command, or of a shared state written through the whole tab (then the scope
    /// stays open for ``abandon()``), or ``UnsavableValueError``.
    func finish() throws -> (TabState, StateUpdate, SharedWrite?) {
        try work.withLock { work in
            if let refused = work.refused { throw refused }
            if !app.registry.shared.isEmpty, let name = work.state.touched.first(where: { app.registry.shared[$0] != nil }) {
                throw SharedKeyOrderError(
                    problem: "shared state '\(name)' cannot be changed through the tab's TabState: change it in its handlers, with modifyState(\(name).self) in a handler, or with App.modifyShared")
            }
        }
        access.close()
        return try Unsavable.check {
            work.withLock { work in
                work.open = false
                if let held = work.shared { view?.set(held.value.key.state, held.value.state) }
                // The update first: computing it updates the computed vars' caches the state keeps.
                var update = work.rehydrate
                    ? StateUpdate(delta: work.state.hydrate(), isHydration: true, commands: work.commands)
                    : StateUpdate(delta: work.state.delta(from: work.sent), commands: work.commands)
                update.relinked = work.state.links != work.original.links
                return (work.state, update, work.shared.flatMap { Self.write($0) })
            }
        }
    }

    /// The held key's new value and the change its linked tabs get, or `nil` if nothing changed.
    static func write(_ hold: Hold) -> SharedWrite? {
        let original = hold.lease.value
        var value = hold.value
        let changes = value.changes(from: original)
        guard !changes.isEmpty || value.state.storedDiffers(from: original.state) else { return nil }
        var update = StateUpdate(stream: SharedStream(value.key))
        if !changes.isEmpty {
            update.delta = [value.key.state: changes]
            update.base = value.version
            value.version += 1
            update.version = value.version
            update.encoded = EncodedOnce()
        }
        return SharedWrite(lease: hold.lease, value: value, update: update)
    }

    /// Closes the scope without committing any change of state. Returns the delta that takes
    /// the tab back to the state before the scope (empty unless updates were pushed), and the
    /// state before the scope with the versions the pushes used: what must still be saved, so
    /// the next delta's version follows them.
    func abandon() -> (back: Delta, before: TabState) {
        access.close()
        return work.withLock { work in
            work.open = false
            var before = work.original
            before.delivery = work.sent.delivery
            before.deliveryChanged = work.sent.delivery != work.original.delivery
            guard !work.sent.touched.isEmpty else { return ([:], before) }
            var back = work.original
            back.touched = work.sent.touched
            back.computed = work.sent.computed
            return (back.delta(from: work.sent), before)
        }
    }

    private static func ensureOpen(_ work: Work) throws {
        guard work.open else {
            throw ImmutableStateError.lockReleased
        }
    }

    private static func ensureFree(_ work: Work, _ name: String) throws {
        if work.checkedOut == name || work.checkedOut == "*" {
            throw ImmutableStateError.checkedOut(state: name)
        }
    }
}
