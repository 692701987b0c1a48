// A tab without a browser: send events, await the updates a real tab would get, read its state.

import DequeModule
import Rill
import Synchronization

/// A tab connected to an `App` in-process, for tests: send events for its token, await the
/// updates a browser would receive, and read its state.
///
/// ```swift
/// let tab = try await TestTab.connect(to: app)
/// tab.send(MyTaskState.event.clearCounter)
/// let update = try await tab.receive()
/// #expect(update.delta == ["my_task_state": ["counter": 0]])
/// ```
public final class TestTab: UpdateSink, Sendable {
    /// Thrown by ``receive(timeout:)`` when nothing arrived in time.
    public struct Timeout: Error, CustomStringConvertible {
        /// How long it waited.
        public let waited: Duration
        public var description: String { "no update arrived within \(waited)" }
    }

    private struct Inbox {
        var buffer: Deque<StateUpdate> = []
        var waiter: (id: UInt64, continuation: CheckedContinuation<StateUpdate?, Never>)?
        var nextID: UInt64 = 0
    }

    /// The app the tab is connected to.
    public let app: App
    /// The tab's token.
    public let token: Token
    private let inbox = Mutex(Inbox())

    private init(app: App, token: Token) {
        self.app = app
        self.token = token
    }

    /// Connects a tab and waits for its whole state, returned as `hydration`.
    public static func connect(to app: App, token: Token = .random(), router: RouterData? = nil) async throws -> TestTab {
        let tab = TestTab(app: app, token: token)
        try await app.connect(token, router: router, sink: tab)
        return tab
    }

    /// Disconnects the tab (its background tasks declared `cancelOnDisconnect` are cancelled).
    public func disconnect() {
        app.disconnect(token, sink: self)
    }

    /// Arrives at `path` (with an optional query), as opening the page or following a link
    /// would: sets `RouteState` and the router, then runs the page's `onLoad` events.
    public func navigate(to path: String) {
        app.navigate(token, to: path)
    }

    /// Sends an event, as a click would.
    public func send(_ event: EventSpec) {
        app.send(event, to: token)
    }

    /// Sends an event with the id a page gives it, as the browser's runtime does: it runs once
    /// however often the same id is sent, and the update that carries its changes lists the id
    /// in `acks` (a copy sent again gets an update with only the id). Only events a page may send
    /// are taken, as from a socket.
    public func send(_ event: EventSpec, id: Int) {
        app.receive(event, from: token, id: id)
    }

    /// Asks for the tab's whole state, as a page does after a gap in the versions of its deltas:
    /// the answer is a hydration at the current version.
    public func resync() {
        app.resync(token)
    }

    /// Sends an event by name with a raw payload, as a browser could.
    public func send(name: String, payload: [String: JSON] = [:]) {
        app.send(EventSpec(name: name, payload: payload), to: token)
    }

    /// The next update, waiting for it up to `timeout`.
    public func receive(timeout: Duration = .seconds(10)) async throws -> StateUpdate {
        let update: StateUpdate? = await withCheckedContinuation { continuation in
            let ready = inbox.withLock { inbox -> (StateUpdate?, UInt64) in
                if let first = inbox.buffer.popFirst() { return (first, 0) }
                inbox.nextID += 1
                inbox.waiter = (inbox.nextID, continuation)
                return (nil, inbox.nextID)
            }
            if let update = ready.0 { return continuation.resume(returning: update) }
            let id = ready.1
            Task {
                try? await Task.sleep(for: timeout)
                let expired = self.inbox.withLock { inbox -> CheckedContinuation<StateUpdate?, Never>? in
                    guard let waiter = inbox.waiter, waiter.id == id else { return nil }
                    inbox.waiter = nil
                    return waiter.continuation
                }
                expired?.resume(returning: nil)
            }
        }
        guard let update else { throw Timeout(waited: timeout) }
        return update
    }

    /// The next update's delta; an error update is thrown as ``EventFailed``.
    public func receiveDelta(timeout: Duration = .seconds(10)) async throws -> Delta {
        let update = try await receive(timeout: timeout)
        if let error = update.error { throw EventFailed(error: error) }
        return update.delta
    }

    /// The next update's error report; a delta is thrown as ``UnexpectedDelta``.
    public func receiveError(timeout: Duration = .seconds(10)) async throws -> EventError {
        let update = try await receive(timeout: timeout)
        guard let error = update.error else { throw UnexpectedDelta(delta: update.delta) }
        return error
    }

    /// Takes every update that has arrived and not been received; an exhaustive test ends by
    /// checking this is empty.
    public func takePending() -> [StateUpdate] {
        inbox.withLock { inbox in
            defer { inbox.buffer.removeAll() }
            return Array(inbox.buffer)
        }
    }

    /// The tab's state of type `S` now (read without the lock). Its `@Linked` vars show their
    /// defaults here; read them, and computed vars over them, with ``read(_:_:)``.
    public func state<S: LiveState>(_ type: S.Type) async throws -> S {
        try await app.snapshot(token)[S.self]
    }

    /// Reads the tab's state of type `S` now (without the lock), its `@Linked` vars showing the
    /// keys the tab is linked to while `body` runs.
    ///
    /// ```swift
    /// #expect(try await tab.read(Player.self) { $0.progress } == "3 of 10")
    /// ```
    public func read<S: LiveState, R>(_ type: S.Type, _ body: (S) throws -> R) async throws -> R {
        try await app.read(token, S.self, body)
    }

    /// The value of the shared state key the tab is linked to for `S` (read without its lock),
    /// or `S`'s defaults when it is not linked.
    public func shared<S: SharedState>(_ type: S.Type) async throws -> S {
        guard let link = try await app.snapshot(token).links[S.fullName] else { return S() }
        return try await app.sharedState(S.self, link.key)
    }

    /// The key the tab is linked to for `S`, or `nil`.
    public func linkedKey<S: SharedState>(_ type: S.Type) async throws -> String? {
        try await app.snapshot(token).links[S.fullName]?.key
    }

    /// Waits until the tab has no queued events and no running background tasks.
    public func settle() async {
        await app.idle(token)
    }

    /// Receives the update the app sends; tests do not call it.
    public func send(_ update: StateUpdate) {
        let waiter = inbox.withLock { inbox -> CheckedContinuation<StateUpdate?, Never>? in
            if let waiter = inbox.waiter {
                inbox.waiter = nil
                return waiter.continuation
            }
            inbox.buffer.append(update)
            return nil
        }
        waiter?.resume(returning: update)
    }

    /// An update carried an error where a delta was expected.
    public struct EventFailed: Error, CustomStringConvertible {
        /// The reported error.
        public let error: EventError
        public var description: String { "event failed: \(error.message)" }
    }

    /// An update carried a delta where an error was expected.
    public struct UnexpectedDelta: Error, CustomStringConvertible {
        /// The delta that came instead.
        public let delta: Delta
        public var description: String { "expected an error, got delta \(delta)" }
    }
}
