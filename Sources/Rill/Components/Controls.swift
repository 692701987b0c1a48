// Controls that send events: Button, NumberInput, Input, Checkbox, and the Progress bar beside them.

/// A button that sends an event when clicked: `<button class="rill-button">`.
///
/// ```swift
/// Button("Reset", onClick: MyTaskState.event.clearCounter)
/// Button(Cond(MyTaskState.$running, "Stop", "Start"), onClick: MyTaskState.event.toggleRunning)
/// Button("Delete", onClick: TodoState.event.remove(item.id))    // inside a ForEach
/// ```
public struct Button: Component {
    let label: [Node]
    let action: EventCall

    /// A button labelled with `parts`.
    public init(_ parts: any TextPart..., onClick action: some EventAction) {
        self.label = textNodes(parts)
        self.action = action.eventCall
    }

    /// A button whose label is any components.
    public init(onClick action: some EventAction, @ComponentBuilder label: () -> some Component) {
        self.label = [label().compiled()]
        self.action = action.eventCall
    }

    /// A `button` whose `click` sends the event.
    public var body: Node {
        Node.element("button", class: "rill-button", on: ["click": action.handler()], children: label)
    }
}

/// A number field bound to an `Int` or `Double`: `<input type="number" class="rill-number-input">`.
///
/// It sends `onChange` with the number when the edit is committed (Enter, leaving the field,
/// or the arrows), not at every keystroke: typing `15` must not pass through `1`. Text that is
/// not a number is not sent.
///
/// ```swift
/// NumberInput(value: MyTaskState.$maxCounter, onChange: MyTaskState.event.setMaxCounter)
/// ```
public struct NumberInput: Component {
    let value: ExprTree
    let attrs: [String: ExprTree]
    let handler: DOMHandler

    /// A field showing `value` and sending `onChange` with the new number.
    /// - Parameters:
    ///   - value: The number shown, usually a var of the state.
    ///   - onChange: The event that receives the new number, sent when the field is committed.
    ///   - min: The smallest number the field offers.
    ///   - max: The largest number the field offers.
    ///   - step: The arrows' increment; by default 1 for `Int` and any fraction for `Double`.
    public init<N: ExprNumber>(value: some ExprConvertible<N>, min: N? = nil, max: N? = nil, step: N? = nil, onChange: EventRef<N>) {
        let isInteger = N.self is any BinaryInteger.Type
        var attrs: [String: ExprTree] = ["type": .literal("number")]
        if let min { attrs["min"] = .literal(JSON(argument: min)) }
        if let max { attrs["max"] = .literal(JSON(argument: max)) }
        if let step {
            attrs["step"] = .literal(JSON(argument: step))
        } else if !isInteger {
            attrs["step"] = .literal("any")
        }
        self.value = value.expr.tree
        self.attrs = attrs
        self.handler = onChange.handler(valueType: isInteger ? "int" : "double")
    }

    /// An `input` whose `value` follows the var and whose `change` sends the event.
    public var body: Node {
        Node.element("input", class: "rill-number-input", attrs: attrs, props: ["value": value], on: ["change": handler])
    }
}

/// A text field bound to a `String`: `<input class="rill-input">`.
///
/// It sends `onChange` with the text as it is typed, or once typing pauses for `debounce`;
/// `onSubmit` is sent when the user presses Enter.
///
/// ```swift
/// Input(value: TodoState.$draft, placeholder: "What needs doing?",
///       onChange: TodoState.event.setDraft, onSubmit: TodoState.event.add)
/// ```
public struct Input: Component {
    let value: ExprTree
    let placeholder: String?
    let handlers: [String: DOMHandler]

    /// A field showing `value`.
    /// - Parameters:
    ///   - value: The text shown, usually a var of the state.
    ///   - placeholder: Shown while the field is empty.
    ///   - debounce: Send `onChange` only after typing pauses this long; `nil` sends every change.
    ///   - onChange: The event that receives the text.
    ///   - onSubmit: The event sent on Enter; the text has already been sent by `onChange`.
    public init(
        value: some ExprConvertible<String>, placeholder: String? = nil, debounce: Duration? = nil,
        onChange: EventRef<String>, onSubmit: (any EventAction)? = nil
    ) {
        var handlers = ["input": onChange.handler(valueType: "string", debounce: debounce)]
        if let onSubmit { handlers["submit"] = onSubmit.eventCall.handler() }
        self.value = value.expr.tree
        self.placeholder = placeholder
        self.handlers = handlers
    }

    /// An `input type="text"` whose `value` follows the var.
    public var body: Node {
        var attrs: [String: ExprTree] = ["type": .literal("text")]
        if let placeholder { attrs["placeholder"] = .literal(.string(placeholder)) }
        return .element("input", class: "rill-input", attrs: attrs, props: ["value": value], on: handlers)
    }
}

/// A checkbox bound to a `Bool`, with its label: `<label class="rill-checkbox"><input type="checkbox">…</label>`.
///
/// ```swift
/// Checkbox(checked: SettingsState.$dark, label: "Dark mode", onChange: SettingsState.event.setDark)
/// Checkbox(checked: item.done, label: item.title, onChange: TodoState.event.toggle(item.id))
/// ```
public struct Checkbox: Component {
    let checked: ExprTree
    let label: (any TextPart)?
    let handler: DOMHandler

    /// A checkbox that sends `onChange` with its new state.
    public init(checked: some ExprConvertible<Bool>, label: (any TextPart)? = nil, onChange: EventRef<Bool>) {
        self.checked = checked.expr.tree
        self.label = label
        self.handler = onChange.handler(valueType: "bool")
    }

    /// A checkbox that sends `onChange` as it is when clicked, for handlers that toggle by
    /// themselves or that need other arguments, such as an item's id.
    public init(checked: some ExprConvertible<Bool>, label: (any TextPart)? = nil, onChange: some EventAction) {
        self.checked = checked.expr.tree
        self.label = label
        self.handler = onChange.eventCall.handler()
    }

    /// A `label` around the `input` and the label's text, so clicking the text toggles the box.
    public var body: Node {
        let box = Node.element(
            "input", class: nil, attrs: ["type": .literal("checkbox")], props: ["checked": checked],
            on: ["change": handler])
        let text: [any TextPart] = label.map { [$0] } ?? []
        return .element("label", class: "rill-checkbox", children: [box] + textNodes(text))
    }
}

/// A progress bar: `<progress class="rill-progress">`.
///
/// ```swift
/// Progress(value: MyTaskState.$counter, max: MyTaskState.$maxCounter)
/// ```
public struct Progress: Component {
    let value: ExprTree
    let max: ExprTree

    /// A bar filled to `value` out of a fixed `max`.
    public init<N: ExprNumber>(value: some ExprConvertible<N>, max: N) {
        self.value = value.expr.tree
        self.max = .literal(JSON(argument: max))
    }

    /// A bar filled to `value` out of a computed `max`.
    public init<N: ExprNumber>(value: some ExprConvertible<N>, max: some ExprConvertible<N>) {
        self.value = value.expr.tree
        self.max = max.expr.tree
    }

    /// A `progress` whose `max` attribute and `value` property follow the expressions.
    public var body: Node {
        Node.element("progress", class: "rill-progress", attrs: ["max": max], props: ["value": value])
    }
}
