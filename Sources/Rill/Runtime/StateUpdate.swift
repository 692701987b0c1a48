// What a tab is sent, and where the app sends it.

/// What a tab is sent: a delta, the full state on connect, or an error report.
public struct StateUpdate: Sendable, Equatable {
    /// Changed vars by state full name.
    public var delta: Delta
    /// Whether `delta` is the tab's whole state (sent on connect), replacing what the tab had.
    public var isHydration: Bool
    /// Set when an event failed.
    public var error: EventError?

    /// Creates an update.
    public init(delta: Delta = [:], isHydration: Bool = false, error: EventError? = nil) {
        self.delta = delta
        self.isHydration = isHydration
        self.error = error
    }
}

extension StateUpdate {
    /// Folds a later update into this one, as if both had been applied in order: the newest
    /// value of each var wins, and a hydration replaces everything before it. Errors are not
    /// updates of state; merge only updates without ``error``.
    public mutating func merge(_ later: StateUpdate) {
        if later.isHydration {
            self = later
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
