// What a component sends when it is clicked or changed: events whose payloads are expressions.

/// An event a component can send as it is, without a value from the element: an
/// ``EventSpec`` (`MyTaskState.event.clearCounter`, `MyTaskState.event.setMaxCounter(20)`) or an
/// ``EventCall`` (`TodoState.event.remove(item.id)`).
///
/// An ``EventRef`` is not an action: its argument is missing until an input supplies it, so
/// it only fits an input's `onChange`.
public protocol EventAction {
    /// The event with its payload as expressions.
    var eventCall: EventCall { get }
}

/// An event whose payload is computed in the browser when the event is sent: what calling an
/// ``EventRef`` with an ``Expr`` makes, for example with a ``ForEach`` item's field.
public struct EventCall: EventAction, Sendable {
    let event: String
    let stateType: (any LiveState.Type)?
    let payload: [String: ExprTree]

    /// The call itself.
    public var eventCall: EventCall { self }

    /// The handler an element registers: this call, with `field` filled from the element's own
    /// value when given.
    func handler(field: (name: String, valueType: String)? = nil, debounce: Duration? = nil) -> DOMHandler {
        DOMHandler(
            event: event, stateType: stateType, payload: payload, field: field,
            debounceMilliseconds: debounce.map { Int(($0 / .milliseconds(1)).rounded()) })
    }
}

extension EventSpec: EventAction {
    /// The event with its fixed payload.
    public var eventCall: EventCall {
        EventCall(event: name, stateType: stateType, payload: payload.mapValues(ExprTree.literal))
    }
}

extension EventRef {
    /// The event with its argument computed in the browser when it is sent:
    /// `TodoState.event.remove(item.id)` inside a ``ForEach``.
    public func callAsFunction(_ value: some ExprConvertible<Value>) -> EventCall {
        EventCall(event: name, stateType: stateType, payload: [field: value.expr.tree])
    }

    /// What an input sends: the event, with `field` filled from the element's value.
    func handler(valueType: String, debounce: Duration? = nil) -> DOMHandler {
        EventCall(event: name, stateType: stateType, payload: [:]).handler(field: (field, valueType), debounce: debounce)
    }
}
