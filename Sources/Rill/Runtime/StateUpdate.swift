// What a tab is sent, and where the app sends it.

import Synchronization

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
    /// The ids of the page's events this update acknowledges: applied and committed (their
    /// changes are in this update or came before it), or sent again after they had been. The
    /// page drops them from its outbox. A failed event's id is in ``error``.
    public var acks: [Int]
    /// The tab's version this delta applies on; `nil` for a hydration and for an update that
    /// changes no state.
    public var base: Int?
    /// The tab's version once this update is applied; `nil` when it changes no state.
    public var version: Int?
    /// The base of a coalesced update whose parts were not consecutive versions: no page is at
    /// it, so the page that gets it applies nothing and asks for its whole state.
    public static let brokenBase = -1
    /// The shared state key this update is a change of, when it is one: then ``base`` and
    /// ``version`` count that key's changes, not the tab's. A hydration with a stream and no
    /// version tells the page the tab left the key: the delta holds the state's defaults.
    public var stream: SharedStream?
    /// For a hydration of the tab: the shared state keys it is linked to and the version of
    /// each its delta holds.
    public var streams: [SharedStream: Int]
    /// The tab's links changed: the process holding its socket follows them.
    public var relinked: Bool
    /// The update's message bytes, made once for the many tabs that get the same update.
    public var encoded: EncodedOnce?

    /// Creates an update.
    public init(
        delta: Delta = [:], isHydration: Bool = false, error: EventError? = nil, commands: [PageCommand] = [], acks: [Int] = [],
        base: Int? = nil, version: Int? = nil, stream: SharedStream? = nil, streams: [SharedStream: Int] = [:], relinked: Bool = false
    ) {
        self.delta = delta
        self.isHydration = isHydration
        self.error = error
        self.commands = commands
        self.acks = acks
        self.base = base
        self.version = version
        self.stream = stream
        self.streams = streams
        self.relinked = relinked
    }

    /// Whether there is nothing to send: no change, no error, no command, no acknowledgement.
    var isEmpty: Bool { delta.isEmpty && !isHydration && error == nil && commands.isEmpty && acks.isEmpty && !relinked }
}

/// The changes of one shared state key, as a page tells them apart: the state's full name and a
/// hash of the key (the key itself is a capability and is not sent).
public struct SharedStream: Hashable, Sendable {
    /// The shared state's full name.
    public let state: String
    /// ``SharedKey/streamID`` of the key.
    public let id: String

    /// The stream of `key`.
    public init(_ key: SharedKey) {
        self.state = key.state
        self.id = key.streamID
    }

    /// A stream as a message names it.
    public init(state: String, id: String) {
        self.state = state
        self.id = id
    }
}

/// The bytes of a message many tabs get alike, made by the first socket that writes it.
public final class EncodedOnce: Sendable, Equatable {
    private let bytes = Mutex<[UInt8]?>(nil)

    /// An empty cache.
    public init() {}

    /// The bytes, made with `make` on first use.
    public func get(_ make: () -> [UInt8]) -> [UInt8] {
        bytes.withLock { bytes in
            if let bytes { return bytes }
            let made = make()
            bytes = made
            return made
        }
    }

    /// A cache does not change what an update says: any two are equal.
    public static func == (lhs: EncodedOnce, rhs: EncodedOnce) -> Bool { true }
}

extension StateUpdate {
    /// Folds a later update into this one, as if both had been applied in order: the newest
    /// value of each var wins, a hydration replaces the state before it, the commands and
    /// acknowledgements of both are kept in order, and the versions covered run from this one's
    /// base to the later one's version. Errors are not updates of state; merge only updates
    /// without ``error``.
    public mutating func merge(_ later: StateUpdate) {
        commands += later.commands
        acks += later.acks
        encoded = nil
        relinked = relinked || later.relinked
        if later.isHydration {
            (delta, isHydration, base, version, streams) = (later.delta, true, nil, later.version, later.streams)
            return
        }
        if let next = later.version {
            if version == nil, !isHydration {
                base = later.base
            } else if version != later.base {
                // A hole between the two: no page is at this base, so the page asks for its whole state.
                (base, isHydration) = (Self.brokenBase, false)
            }
            version = next
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
