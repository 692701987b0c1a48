// Controls that send events or fill a form: Button, NumberInput, Input, Checkbox, and the Progress bar beside them.

/// A button that sends an event when clicked: `<button class="rill-button">`.
///
/// ```swift
/// Button("Reset", onClick: MyTaskState.event.clearCounter)
/// Button(Cond(MyTaskState.$running, "Stop", "Start"), onClick: MyTaskState.event.toggleRunning)
/// Button("Delete", onClick: TodoState.event.remove(item.id))    // inside a ForEach
/// ```
public struct Button: Component {
    let label: [Node]
    let handler: DOMHandler

    /// A button labelled with `parts`.
    public init(_ parts: any TextPart..., onClick action: some EventAction) {
        self.label = textNodes(parts)
        self.handler = action.eventCall.handler()
    }

    /// A button whose label is any components.
    public init(onClick action: some EventAction, @ComponentBuilder label: () -> some Component) {
        self.label = [label().compiled()]
        self.handler = action.eventCall.handler()
    }

    /// A `button` whose `click` sends the event.
    public var body: Node {
        // `type="button"`: inside a ``Form`` a plain button must not submit it.
        Node.element("button", class: "rill-button", attrs: ["type": .literal("button")], on: ["click": handler], children: label)
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
    let attrs: [String: ExprTree]
    let props: [String: ExprTree]
    let handlers: [String: DOMHandler]
    let label: (any TextPart)?

    /// A field showing `value` and sending `onChange` with the new number.
    /// - Parameters:
    ///   - value: The number shown, usually a var of the state.
    ///   - onChange: The event that receives the new number, sent when the field is committed.
    ///   - min: The smallest number the field offers.
    ///   - max: The largest number the field offers.
    ///   - step: The arrows' increment; by default 1 for `Int` and any fraction for `Double`.
    public init<N: ExprNumber>(value: some ExprConvertible<N>, min: N? = nil, max: N? = nil, step: N? = nil, onChange: EventRef<N>) {
        self.attrs = numberAttrs("number", min: min, max: max, step: step)
        self.props = ["value": value.expr.tree]
        self.handlers = ["change": onChange.handler(valueType: numberType(N.self))]
        self.label = nil
    }

    /// A number field of a ``Form``, sent as `name`: a number, or `null` when empty.
    /// - Parameters:
    ///   - name: The field's name in the form's payload.
    ///   - label: The caption shown with the field.
    ///   - type: `Int.self` or `Double.self`: what the field accepts and sends.
    ///   - initial: The number the field starts with, and goes back to when the form is reset.
    ///   - min: The smallest number the field offers.
    ///   - max: The largest number the field offers.
    ///   - step: The arrows' increment; by default 1 for `Int` and any fraction for `Double`.
    public init<N: ExprNumber>(
        name: String, label: (any TextPart)? = nil, as type: N.Type, initial: N? = nil, min: N? = nil, max: N? = nil, step: N? = nil
    ) {
        self.attrs = numberFieldAttrs("number", name: name, initial: initial, min: min, max: max, step: step)
        self.props = [:]
        self.handlers = [:]
        self.label = label
    }

    /// An `input` whose `value` follows the var and whose `change` sends the event.
    public var body: Node {
        labelled(Node.element("input", class: "rill-number-input", attrs: attrs, props: props, on: handlers), label)
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
    let attrs: [String: ExprTree]
    let props: [String: ExprTree]
    let handlers: [String: DOMHandler]
    let label: (any TextPart)?

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
        self.attrs = textAttrs("text", placeholder: placeholder)
        self.props = ["value": value.expr.tree]
        self.handlers = handlers
        self.label = nil
    }

    /// A text field of a ``Form``, sent as `name`.
    /// - Parameters:
    ///   - name: The field's name in the form's payload.
    ///   - label: The caption shown with the field.
    ///   - placeholder: Shown while the field is empty.
    ///   - initial: The text the field starts with, and goes back to when the form is reset.
    ///   - autocomplete: The browser's autofill hint, such as `"email"` or `"name"`.
    public init(name: String, label: (any TextPart)? = nil, placeholder: String? = nil, initial: String? = nil, autocomplete: String? = nil) {
        self.attrs = textAttrs("text", placeholder: placeholder, initial: initial, autocomplete: autocomplete).merging(fieldAttrs(name, "string")) { $1 }
        self.props = [:]
        self.handlers = [:]
        self.label = label
    }

    init(attrs: [String: ExprTree], props: [String: ExprTree], handlers: [String: DOMHandler], label: (any TextPart)?) {
        self.attrs = attrs
        self.props = props
        self.handlers = handlers
        self.label = label
    }

    /// An `input type="text"`.
    public var body: Node {
        labelled(.element("input", class: "rill-input", attrs: attrs, props: props, on: handlers), label)
    }
}

/// The attributes of a text-like `input`: its type, placeholder, initial value and autofill hint.
func textAttrs(_ type: String, placeholder: String?, initial: String? = nil, autocomplete: String? = nil) -> [String: ExprTree] {
    var attrs: [String: ExprTree] = ["type": .literal(.string(type))]
    if let placeholder { attrs["placeholder"] = .literal(.string(placeholder)) }
    if let initial { attrs["value"] = .literal(.string(initial)) }
    if let autocomplete { attrs["autocomplete"] = .literal(.string(autocomplete)) }
    return attrs
}

/// A checkbox bound to a `Bool`, with its label: `<label class="rill-checkbox"><input type="checkbox">…</label>`.
///
/// ```swift
/// Checkbox(checked: SettingsState.$dark, label: "Dark mode", onChange: SettingsState.event.setDark)
/// Checkbox(checked: item.done, label: item.title, onChange: TodoState.event.toggle(item.id))
/// ```
public struct Checkbox: Component {
    let attrs: [String: ExprTree]
    let props: [String: ExprTree]
    let handlers: [String: DOMHandler]
    let label: (any TextPart)?
    let className: String

    /// A checkbox that sends `onChange` with its new state.
    public init(checked: some ExprConvertible<Bool>, label: (any TextPart)? = nil, onChange: EventRef<Bool>) {
        self.init(props: ["checked": checked.expr.tree], handlers: ["change": onChange.handler(valueType: "bool")], label: label)
    }

    /// A checkbox that sends `onChange` as it is when clicked, for handlers that toggle by
    /// themselves or that need other arguments, such as an item's id.
    public init(checked: some ExprConvertible<Bool>, label: (any TextPart)? = nil, onChange: some EventAction) {
        self.init(props: ["checked": checked.expr.tree], handlers: ["change": onChange.eventCall.handler()], label: label)
    }

    /// A checkbox of a ``Form``, sent as `name`: `true` or `false`.
    /// - Parameters:
    ///   - name: The field's name in the form's payload.
    ///   - label: The text beside the box.
    ///   - initial: Whether it starts checked, and is again when the form is reset.
    public init(name: String, label: (any TextPart)? = nil, initial: Bool = false) {
        var attrs = fieldAttrs(name, "bool")
        if initial { attrs["checked"] = .literal(true) }
        self.init(attrs: attrs, label: label)
    }

    init(
        attrs: [String: ExprTree] = [:], props: [String: ExprTree] = [:], handlers: [String: DOMHandler] = [:],
        label: (any TextPart)?, className: String = "rill-checkbox", role: String? = nil
    ) {
        var attrs = attrs
        attrs["type"] = .literal("checkbox")
        if let role { attrs["role"] = .literal(.string(role)) }
        self.attrs = attrs
        self.props = props
        self.handlers = handlers
        self.label = label
        self.className = className
    }

    /// A `label` around the `input` and the label's text, so clicking the text toggles the box.
    public var body: Node {
        let box = Node.element("input", class: nil, attrs: attrs, props: props, on: handlers)
        let text: [any TextPart] = label.map { [$0] } ?? []
        return .element("label", class: className, children: [box] + textNodes(text))
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

/// `int` or `double`: how a number control's value is sent.
func numberType<N>(_: N.Type) -> String {
    N.self is any BinaryInteger.Type ? "int" : "double"
}

/// A number-like `input`'s type and limits; without a step, an `Int` moves by one and a
/// `Double` by any fraction.
func numberAttrs<N: ExprNumber>(_ type: String, min: N?, max: N?, step: N?) -> [String: ExprTree] {
    var attrs: [String: ExprTree] = ["type": .literal(.string(type))]
    if let min { attrs["min"] = .literal(JSON(argument: min)) }
    if let max { attrs["max"] = .literal(JSON(argument: max)) }
    if let step {
        attrs["step"] = .literal(JSON(argument: step))
    } else if !(N.self is any BinaryInteger.Type) {
        attrs["step"] = .literal("any")
    }
    return attrs
}

/// A number-like `input` of a ``Form``: its limits, its name and type, and its initial number.
func numberFieldAttrs<N: ExprNumber>(_ type: String, name: String, initial: N?, min: N?, max: N?, step: N?) -> [String: ExprTree] {
    var attrs = numberAttrs(type, min: min, max: max, step: step).merging(fieldAttrs(name, numberType(N.self))) { $1 }
    if let initial { attrs["value"] = .literal(JSON(argument: initial)) }
    return attrs
}
