// What a tab is sent, and where the app sends it.

/// What a tab is sent: a delta, the full state on connect, or an error report; with the
/// commands for its page that handlers emitted, run after the delta is applied.
public struct StateUpdate: Sendable, Equatable {
    /// Changed vars by state full name.
    public var delta: Delta
    /// Whether `delta` is the tab's whole state (sent on connect), replacing what the tab had.
    public var isHydration: Bool
    /// Set when an event failed.
    public var error: EventError?
    /// What the page is asked to do, in the order handlers emitted it.
    public var commands: [PageCommand]
    /// The ids of the page's events that finished (their changes are in this update or came
    /// before it), so a form knows its submit is done. A failed event's id is in ``error``.
    public var done: [Int]

    /// Creates an update.
    public init(delta: Delta = [:], isHydration: Bool = false, error: EventError? = nil, commands: [PageCommand] = [], done: [Int] = []) {
        self.delta = delta
        self.isHydration = isHydration
        self.error = error
        self.commands = commands
        self.done = done
    }

    /// Whether there is nothing to send: no change, no error, no command.
    var isEmpty: Bool { delta.isEmpty && !isHydration && error == nil && commands.isEmpty && done.isEmpty }
}

extension StateUpdate {
    /// Folds a later update into this one, as if both had been applied in order: the newest
    /// value of each var wins, a hydration replaces the state before it, and the commands of
    /// both are kept in order. Errors are not updates of state; merge only updates without ``error``.
    public mutating func merge(_ later: StateUpdate) {
        commands += later.commands
        done += later.done
        if later.isHydration {
            (delta, isHydration) = (later.delta, true)
            return
        }
        for (state, vars) in later.delta {
            delta[state, default: [:]].merge(vars) { _, newer in newer }
        }
    }
}

/// Where a connected tab's updates go: the transport's socket writer, or a test's inbox.
///
/// ``send(_:)`` is called while the tab's lock may be held, so it must not block: queue the
/// update and return.
public protocol UpdateSink: AnyObject, Sendable {
    /// Queues an update for the tab.
    func send(_ update: StateUpdate)
    /// The app no longer sends to this sink: another connection took the token over, or the
    /// app is shutting down. A socket closes itself.
    func close(_ reason: CloseReason)
    /// Where the tab's events and background tasks run. A socket returns its event loop's
    /// executor, so an event is read, run and answered on one thread; `nil` runs them on the
    /// global pool.
    var executor: (any TaskExecutor)? { get }
}

extension UpdateSink {
    public func close(_ reason: CloseReason) {}
    public var executor: (any TaskExecutor)? { nil }
}

/// Why the app let go of a tab's connection.
public enum CloseReason: Sendable, Equatable {
    /// A newer connection with the same token replaced this one (the tab reconnected).
    case superseded
    /// The app is shutting down.
    case shutdown
}
