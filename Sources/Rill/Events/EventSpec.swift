// References to events: what handlers return to chain events and what components bind to.

/// An event with its payload, ready to run: returned or emitted by a handler to chain it,
/// or bound to a component (`Button("Reset", onClick: MyTaskState.event.clearCounter)`).
public struct EventSpec: Sendable, Hashable {
    /// The full event name: the state's full name and the handler's, e.g. `my_task_state.clear_counter`.
    public let name: String
    /// The handler's arguments by parameter name.
    public var payload: [String: JSON]
    /// The state type that handles the event, so a page can list the states it sends events
    /// to; `nil` for an event known only by name.
    public let stateType: (any LiveState.Type)?
    /// For a background task: the id it can be cancelled by (``LiveState/cancelTasks(id:)``),
    /// set with ``cancellable(id:cancelInFlight:)``.
    public private(set) var cancelID: String?
    /// Whether starting the task first cancels the tab's running tasks with the same ``cancelID``.
    public private(set) var cancelInFlight = false

    /// An event of `state`; used by the macro's expansion.
    public init<S: LiveState>(_ state: S.Type, _ handler: String, _ payload: [String: JSON] = [:]) {
        self.name = S.fullName + "." + handler
        self.payload = payload
        self.stateType = S.self
    }

    /// An event by its full name, for events that arrive from outside Swift (the browser).
    public init(name: String, payload: [String: JSON] = [:]) {
        self.init(name: name, payload: payload, stateType: nil)
    }

    init(name: String, payload: [String: JSON], stateType: (any LiveState.Type)?) {
        self.name = name
        self.payload = payload
        self.stateType = stateType
    }

    /// This background task, cancellable by `id`: ``LiveState/cancelTasks(id:)`` in a handler
    /// or ``App/cancelTasks(id:of:)`` stops every task of the tab started with it. With
    /// `cancelInFlight` (the default) the latest start wins: the tab's running tasks with the
    /// same id are cancelled before this one starts.
    ///
    /// ```swift
    /// mutating func start() -> EventSpec {
    ///     running = true
    ///     return Self.event.count.cancellable(id: "count")
    /// }
    /// mutating func cancel() { cancelTasks(id: "count") }
    /// ```
    ///
    /// It applies where Swift starts the event (a handler's return value, ``LiveState/emit(_:)-(EventSpec)``,
    /// ``App/send(_:to:)-(EventSpec,Token)``); the browser sends names and payloads only.
    public func cancellable(id: String, cancelInFlight: Bool = true) -> EventSpec {
        var event = self
        event.cancelID = id
        event.cancelInFlight = cancelInFlight
        return event
    }

    /// Two events are equal when they name the same handler with the same payload; the name
    /// already determines the state type.
    public static func == (lhs: EventSpec, rhs: EventSpec) -> Bool {
        lhs.name == rhs.name && lhs.payload == rhs.payload
    }

    /// Hashes the name and payload, matching ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(payload)
    }
}

/// An event whose one argument is filled in later: by the browser (an input's value, for
/// `onChange`) or by calling it (`MyTaskState.event.setMaxCounter(20)`).
public struct EventRef<Value: Encodable & Sendable>: Sendable, Hashable {
    /// The full event name.
    public let name: String
    /// The payload field the value goes into.
    public let field: String
    /// The state type that handles the event.
    public let stateType: any LiveState.Type

    /// A handler with one parameter; used by the macro's expansion.
    public init<S: LiveState>(_ state: S.Type, _ handler: String, field: String) {
        self.name = S.fullName + "." + handler
        self.field = field
        self.stateType = S.self
    }

    /// The setter of a var; used by the macro's expansion.
    public init<S: LiveState>(_ state: S.Type, _ handler: String, setting path: KeyPath<S, Value>) {
        self.init(state, handler, field: "value")
    }

    /// The event with its value.
    public func callAsFunction(_ value: Value) -> EventSpec {
        EventSpec(name: name, payload: [field: JSON(argument: value)], stateType: stateType)
    }

    /// Two references are equal when they fill the same field of the same handler.
    public static func == (lhs: EventRef, rhs: EventRef) -> Bool {
        lhs.name == rhs.name && lhs.field == rhs.field
    }

    /// Hashes the name and field, matching ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(field)
    }
}

/// An event's arguments as they arrived, decoded field by field into the handler's parameter types.
public struct Payload: Sendable {
    /// The full event name, for error messages.
    public let event: String
    /// The arguments by parameter name.
    public let fields: [String: JSON]

    /// Creates a payload.
    public init(event: String, fields: [String: JSON]) {
        self.event = event
        self.fields = fields
    }

    /// Decodes a required argument.
    public func decode<T: Decodable>(_ type: T.Type, _ field: String) throws -> T {
        guard let value = fields[field] else {
            throw EventDeserializationError(event: event, field: field, expected: "\(T.self)", found: "nothing (the field is missing)")
        }
        return try decode(type, field, value)
    }

    /// Decodes an argument that has a default value when absent.
    public func decode<T: Decodable>(_ type: T.Type, _ field: String, default fallback: @autoclosure () -> T) throws -> T {
        guard let value = fields[field] else { return fallback() }
        return try decode(type, field, value)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ field: String, _ value: JSON) throws -> T {
        do {
            return try value.decode(T.self)
        } catch let error as DecodingError {
            throw EventDeserializationError(decoding: error, event: event, field: field, expected: "\(T.self)", value: value)
        }
    }
}

extension EventDeserializationError {
    /// Names the innermost field and type that failed, so `items[2].name` is reported, not `items`.
    init(decoding error: DecodingError, event: String, field: String, expected: String, value: JSON) {
        var path = field
        var expectedType = expected
        var found = value.kindName
        let context: DecodingError.Context
        switch error {
        case .typeMismatch(let type, let ctx):
            context = ctx
            expectedType = "\(type)"
            found = Self.kind(at: ctx.codingPath, in: value)
        case .valueNotFound(let type, let ctx):
            context = ctx
            expectedType = "\(type)"
            found = "null"
        case .keyNotFound(let key, let ctx):
            context = ctx
            path += Self.render(ctx.codingPath + [key])
            self.init(event: event, field: path, expected: expectedType, found: "nothing (the field is missing)")
            return
        case .dataCorrupted(let ctx):
            context = ctx
            found = ctx.debugDescription
        @unknown default:
            self.init(event: event, field: field, expected: expected, found: "\(error)")
            return
        }
        path += Self.render(context.codingPath)
        self.init(event: event, field: path, expected: expectedType, found: found)
    }

    private static func render(_ path: [any CodingKey]) -> String {
        path.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
    }

    private static func kind(at path: [any CodingKey], in value: JSON) -> String {
        var node = value
        for key in path {
            if let index = key.intValue, let next = node[index] { node = next }
            else if let next = node[key.stringValue] { node = next }
            else { break }
        }
        return node.kindName
    }
}
