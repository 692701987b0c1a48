// Client actions: changes the page makes by itself on a trigger (show, hide, classes, focus, dialogs), no round trip.

/// Changes the page makes by itself when a trigger fires, without asking the server: showing
/// or hiding an element, adding or removing a class, setting an attribute, moving focus,
/// opening a dialog. Steps run in order, and may be followed by an event for the server.
///
/// ```swift
/// Button("Menu", onClick: .toggle("menu"))
/// Button("Details", onClick: ClientAction.show("details").then(.focus("details-close")))
/// Text("Help").on(.pointerEnter, ClientAction.addClass("highlight", to: "help-box"))
/// Button("Delete", onClick: ClientAction.hide("row-7").then(TodoState.event.remove(7)))
/// ```
///
/// Elements are found by id (``Component/id(_:)``); a missing one is skipped. The page changes
/// only what a step names, so later updates from the server keep them, unless the server binds
/// the same attribute or property of the same element, or re-creates the element (a `Cond`
/// branch or `ForEach` item shown anew). Like everything the page runs, a step is data: no
/// script text is evaluated, and an attribute is set only if a page may have it at all.
public struct ClientAction: Sendable {
    let steps: [JSON]
    let event: EventCall?

    private init(steps: [JSON], event: EventCall? = nil) {
        self.steps = steps
        self.event = event
    }

    private static func step(_ op: String, _ fields: [String: JSON]) -> ClientAction {
        var step = fields
        step["op"] = .string(op)
        return ClientAction(steps: [.object(step)])
    }

    /// Shows the element (clears its `hidden` property).
    public static func show(_ id: String) -> ClientAction { step("show", ["id": .string(id)]) }
    /// Hides the element (sets its `hidden` property).
    public static func hide(_ id: String) -> ClientAction { step("hide", ["id": .string(id)]) }
    /// Shows the element if hidden, else hides it.
    public static func toggle(_ id: String) -> ClientAction { step("toggle", ["id": .string(id)]) }
    /// Adds a class to the element.
    public static func addClass(_ name: String, to id: String) -> ClientAction { step("add_class", ["id": .string(id), "class": .string(name)]) }
    /// Removes a class from the element.
    public static func removeClass(_ name: String, from id: String) -> ClientAction { step("remove_class", ["id": .string(id), "class": .string(name)]) }
    /// Adds the class if the element lacks it, else removes it.
    public static func toggleClass(_ name: String, on id: String) -> ClientAction { step("toggle_class", ["id": .string(id), "class": .string(name)]) }

    /// Sets an attribute. Only attributes a page may carry (docs/page-format.md: `title`,
    /// `aria-*`, `data-*`, …) are set; no `on…` or `style` attribute ever is, and an `href` or
    /// `src` only with a safe scheme.
    public static func setAttribute(_ name: String, _ value: String, on id: String) -> ClientAction {
        precondition(!name.lowercased().hasPrefix("on"), "ClientAction.setAttribute cannot set event attributes such as '\(name)'")
        return step("set_attr", ["id": .string(id), "name": .string(name), "value": .string(value)])
    }

    /// Removes an attribute.
    public static func removeAttribute(_ name: String, from id: String) -> ClientAction {
        step("remove_attr", ["id": .string(id), "name": .string(name)])
    }

    /// Moves keyboard focus to the element.
    public static func focus(_ id: String) -> ClientAction { step("focus", ["id": .string(id)]) }
    /// Opens a `dialog` element as a modal. A ``Dialog`` bound to a var is better opened through its var.
    public static func openDialog(_ id: String) -> ClientAction { step("open_dialog", ["id": .string(id)]) }
    /// Closes a `dialog` element.
    public static func closeDialog(_ id: String) -> ClientAction { step("close_dialog", ["id": .string(id)]) }

    /// These steps, then `next`'s.
    public func then(_ next: ClientAction) -> ClientAction {
        precondition(event == nil, "a ClientAction's event comes last: add steps before .then(event)")
        return ClientAction(steps: steps + next.steps, event: next.event)
    }

    /// These steps, then `event` sent to the server.
    public func then(_ event: some EventAction) -> ClientAction {
        precondition(self.event == nil, "a ClientAction sends one event at most")
        return ClientAction(steps: steps, event: event.eventCall)
    }

    /// What an element registers for the trigger.
    func handler() -> DOMHandler {
        var handler = event?.handler() ?? DOMHandler(event: nil, stateType: nil, payload: [:])
        handler.client = steps
        return handler
    }
}

extension Button {
    /// A button that runs `action` in the page when clicked.
    public init(_ parts: any TextPart..., onClick action: ClientAction) {
        self.label = textNodes(parts)
        self.handler = action.handler()
    }
}

extension Component {
    /// Runs `action` in the page when `trigger` happens on the component's element.
    public func on(_ trigger: Trigger, _ action: ClientAction, debounce: Duration? = nil, throttle: Duration? = nil) -> Node {
        var handler = action.handler()
        handler.debounceMilliseconds = debounce.map { Int(($0 / .milliseconds(1)).rounded()) }
        return attach(trigger, handler, throttle: throttle)
    }
}
