// The errors the runtime reports, each naming what was wrong and what to do.

/// An event's payload did not match its handler's parameters. The state is untouched.
public struct EventDeserializationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The full event name, e.g. `my_task_state.set_max_counter`.
    public let event: String
    /// The payload field, e.g. `value` (or `items[2].name` inside it).
    public let field: String
    /// The Swift type the handler expects.
    public let expected: String
    /// What arrived instead.
    public let found: String

    public var description: String {
        "event '\(event.clipped())': field '\(field.clipped())' must be \(expected), found \(found.clipped(200))"
    }
}

/// No state declares an event of this name. Only `mutating` methods that are not private,
/// setters and `@Background` methods are events.
public struct UnknownEventError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The name that was sent.
    public let event: String

    public var description: String {
        "no event '\(event.clipped())': events are named 'state_full_name.handler_name', e.g. 'my_task_state.toggle_running'"
    }
}

/// A tab's socket sent an event that none of the app's pages sends and that is not one of
/// ``App/publicEvents``. Nothing ran.
public struct NotCallableError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The name that was sent.
    public let event: String

    public var description: String {
        "no event '\(event.clipped())' that a page may send: a tab may send the events the app's pages' components send, and those listed in App(publicEvents:)"
    }
}

/// A tab already runs as many background tasks as the app allows; the new one did not start.
public struct TooManyTasksError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The limit.
    public let limit: Int

    public var description: String {
        "this tab already runs \(limit) background tasks, the most it may (App(maxTasksPerTab:)); the task did not start"
    }
}

/// State was changed, or a lock-only call made, where no lock is held. Change state in a
/// handler, inside ``LiveState/withState(_:)`` in a background task, or with ``App/modifyState(_:_:)``.
public enum ImmutableStateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A lock block (`call` is `withState`, `withTab` or `withCleanup`) was opened in a handler,
    /// which holds the tab's lock already.
    case blockInHandler(call: String)
    /// `push()` was called outside a running handler.
    case pushOutsideHandler
    /// `push()` was called in a background task's block, whose changes are sent when it ends.
    case pushInBlock
    /// `getState(_:)` or `modifyState(_:_:)` was called where there is no tab: outside handlers and tasks.
    case noTab(call: String)
    /// `modifyState(_:_:)` of another state outside a lock.
    case notLocked(state: String)
    /// A state or tab handed out by a handler or block was used after its lock was released.
    case lockReleased
    /// `state` is checked out as `self` (or the whole tab is) in this block, so it must be changed there.
    case checkedOut(state: String)
    /// A tab's state read without its lock (a snapshot) was written to.
    case snapshot
    /// A computed var was set.
    case computedVar(path: String)

    public var description: String {
        switch self {
        case .blockInHandler(let call):
            "\(call) { … } is for background tasks; a handler already holds the tab's lock, so change 'self' directly"
        case .pushOutsideHandler:
            "push() works inside a handler while it runs"
        case .pushInBlock:
            "push() sends a handler's changes while it runs; a block's changes are sent when the block ends"
        case .noTab(let call):
            "\(call) reaches the tab's states from a handler or a background task"
        case .notLocked(let state):
            "modifyState(\(state).self) changes state only while the tab's lock is held: in a handler, or inside withState { … } in a background task"
        case .lockReleased:
            "the tab's lock was released when its handler or block ended; use app.modifyState(token) from later work"
        case .checkedOut(let state):
            "'\(state)' is being changed through 'self' (or the tab) in this block; change it there"
        case .snapshot:
            "this tab state is a snapshot or its lock block has ended; change it inside app.modifyState(token) { tab in … }"
        case .computedVar(let path):
            "'\(path)' is a computed var; set the vars it is computed from"
        }
    }
}

/// A lock block was opened for a tab whose lock is held by this task, or by the block this task
/// was started in (an `async let`, a task-group child, a `Task {}`); it would wait for that block,
/// which may be waiting for it, forever. Change the state inside the block that is already open.
public struct NestedLockError: Error, CustomStringConvertible, Sendable {
    /// The tab.
    public let token: Token

    public var description: String {
        "a lock block for tab \(token) is already open in this task or in the block that started it; change the state inside the open block, or to change it after the block, chain an event or use Task.detached"
    }
}

/// A stored var holds a value JSON cannot carry — a NaN or infinite `Double` or `Float`, or a
/// value whose `encode(to:)` threw — so the state could not be saved or sent. Nothing the
/// handler or block changed was saved. Running it again would fail the same way, so the page
/// does not send the event again and a durable task fails instead of waiting to resume.
/// A computed var with such a value is sent as `null` instead.
public struct UnsavableValueError: Error, CustomStringConvertible, Sendable {
    /// The var: `state_full_name.var_name`.
    public let path: String
    /// Why it could not be encoded.
    public let problem: String

    public var description: String {
        "'\(path)' cannot be saved: \(problem); JSON has no NaN or infinity, so check the value before assigning it (or keep an optional and assign nil); nothing was changed"
    }
}

/// A handler emitted a ``PageCommand`` that breaks its rules; the event failed and changed nothing.
public struct InvalidCommandError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong, and what to write instead.
    public let problem: String

    public var description: String { "page command refused: \(problem)" }
}

/// A substate path that no registered state has.
public struct UnknownStateError: Error, CustomStringConvertible, Sendable {
    /// The path that was asked for.
    public let path: String

    public var description: String {
        "no state '\(path)': give the full name, e.g. 'parent_state.child_state', of a state passed to App(states:)"
    }
}

/// A tab has more events waiting than the app allows, by count or by bytes; the newest was dropped.
public struct QueueFullError: Error, CustomStringConvertible, Sendable {
    /// The limit: events, or bytes when ``isBytes``.
    public let limit: Int
    /// Whether the bytes of the waiting events' messages were over the limit.
    public let isBytes: Bool

    /// Too many events waiting.
    public init(limit: Int) {
        self.limit = limit
        self.isBytes = false
    }

    /// Too many bytes of events waiting.
    public init(byteLimit: Int) {
        self.limit = byteLimit
        self.isBytes = true
    }

    public var description: String {
        isBytes
            ? "too many bytes of events waiting for this tab (limit \(limit)); the event was dropped, slow down"
            : "too many events waiting for this tab (limit \(limit)); the event was dropped, slow down"
    }
}

/// The error a tab is told about when an event failed.
public struct EventError: Sendable, Equatable, Codable {
    /// The event that failed (full name), if one did.
    public var event: String?
    /// What went wrong, for people.
    public var message: String
    /// The id the page gave the event, so it can tell which of its events failed.
    public var id: Int?
    /// Messages by form field name, when the handler threw a ``FieldErrors``.
    public var fields: [String: String]
    /// Whether the event failed for want of the store or the process (the state could not be
    /// loaded or saved, the app is shutting down) rather than by its handler: it changed nothing,
    /// and the page keeps it to send again.
    public var retry: Bool

    /// Creates an error report.
    public init(event: String?, message: String, id: Int? = nil, fields: [String: String] = [:], retry: Bool = false) {
        self.event = event
        self.message = message
        self.id = id
        self.fields = fields
        self.retry = retry
    }
}

/// Thrown by a handler to refuse what a form sent, with a message for each field that needs
/// fixing; a ``Form`` shows each one next to its field. Like any error, it leaves the state as
/// it was.
///
/// ```swift
/// mutating func signUp(_ form: SignUp) throws {
///     var problems: [String: String] = [:]
///     if !form.email.contains("@") { problems["email"] = "Enter an email address" }
///     if form.password.count < 8 { problems["password"] = "Use at least 8 characters" }
///     if !problems.isEmpty { throw FieldErrors(problems) }
///     …
/// }
/// ```
public struct FieldErrors: Error, CustomStringConvertible, Sendable, Equatable {
    /// Messages by field name.
    public let fields: [String: String]

    /// Messages by field name.
    public init(_ fields: [String: String]) {
        self.fields = fields
    }

    /// One field's message.
    public init(field: String, _ message: String) {
        self.fields = [field: message]
    }

    public var description: String {
        let listed = fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
        return "check the form: \(listed)"
    }
}

/// The app is shutting down and takes no new events.
public struct ShuttingDownError: Error, CustomStringConvertible, Sendable {
    public var description: String { "the server is shutting down; the event was not run" }
}

/// A lock holder's lock expired before it committed, so another holder may have written since:
/// its changes were discarded. Keep lock blocks short, or raise the manager's lock expiry.
public struct LockExpiredError: Error, CustomStringConvertible, Sendable {
    /// The tab, or `nil` when the lock was a shared state key's.
    public let token: Token?
    /// The shared state key, when the lock was one's.
    public let key: SharedKey?

    /// Creates the error for a tab's lock.
    public init(token: Token) {
        self.token = token
        self.key = nil
    }

    /// Creates the error for a shared state key's lock.
    public init(key: SharedKey) {
        self.token = nil
        self.key = key
    }

    public var description: String {
        let lock = key.map { "shared state key \($0)" } ?? "tab \(token.map(\.rawValue) ?? "-")"
        return "the lock on \(lock) expired before the change was saved, so the change was discarded; keep lock blocks short or raise the lock expiry"
    }
}
