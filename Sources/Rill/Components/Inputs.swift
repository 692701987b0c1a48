// More inputs, each bound to a var or named for a form: PasswordInput, TextArea, DateInput, Select, RadioGroup, Switch, Slider.

/// A password field: `<input type="password" class="rill-input">`. Its text is never shown.
///
/// ```swift
/// PasswordInput(name: "password", label: "Password", autocomplete: "new-password")
/// ```
public struct PasswordInput: Component {
    let input: Input

    /// A password field bound to `value`, sending `onChange` as it is typed (or after `debounce`).
    public init(value: some ExprConvertible<String>, placeholder: String? = nil, debounce: Duration? = nil, onChange: EventRef<String>) {
        self.input = Input(value: value, placeholder: placeholder, debounce: debounce, onChange: onChange)
    }

    /// A password field of a ``Form``, sent as `name`.
    /// - Parameters:
    ///   - name: The field's name in the form's payload.
    ///   - label: The caption shown with the field.
    ///   - placeholder: Shown while the field is empty.
    ///   - autocomplete: `"current-password"` for a sign-in, `"new-password"` for a sign-up.
    public init(name: String, label: (any TextPart)? = nil, placeholder: String? = nil, autocomplete: String = "current-password") {
        self.input = Input(name: name, label: label, placeholder: placeholder, autocomplete: autocomplete)
    }

    /// An `input type="password"`.
    public var body: Node {
        input.compiled().modifyingDescendants(tagged: ["input"]) { $0.attrs["type"] = .literal("password") }
    }
}

/// A date field, its value a `yyyy-mm-dd` string (empty when no date is set):
/// `<input type="date" class="rill-input">`.
///
/// ```swift
/// DateInput(value: TripState.$start, onChange: TripState.event.setStart)
/// ```
public struct DateInput: Component {
    let input: Input

    /// A date field bound to `value`, sending `onChange` when a date is picked or typed in full.
    public init(value: some ExprConvertible<String>, min: String? = nil, max: String? = nil, onChange: EventRef<String>) {
        self.input = Self.limited(Input(value: value, onChange: onChange), min: min, max: max)
    }

    /// A date field of a ``Form``, sent as `name`: `yyyy-mm-dd`, or `""` when empty.
    public init(name: String, label: (any TextPart)? = nil, initial: String? = nil, min: String? = nil, max: String? = nil) {
        self.input = Self.limited(Input(name: name, label: label, initial: initial), min: min, max: max)
    }

    private static func limited(_ input: Input, min: String?, max: String?) -> Input {
        var attrs = input.attrs
        attrs["type"] = .literal("date")
        if let min { attrs["min"] = .literal(.string(min)) }
        if let max { attrs["max"] = .literal(.string(max)) }
        // A date input fires `input` only for a whole date, so each one is sent as it is picked.
        return Input(attrs: attrs, props: input.props, handlers: input.handlers, label: input.label)
    }

    /// An `input type="date"`.
    public var body: Node { input.body }
}

/// A multi-line text field: `<textarea class="rill-textarea">`.
///
/// ```swift
/// TextArea(value: PostState.$body, rows: 6, debounce: .milliseconds(300), onChange: PostState.event.setBody)
/// TextArea(name: "message", label: "Message", rows: 4)
/// ```
public struct TextArea: Component {
    let attrs: [String: ExprTree]
    let props: [String: ExprTree]
    let handlers: [String: DOMHandler]
    let label: (any TextPart)?
    let initial: String?

    /// A text area bound to `value`, sending `onChange` as it is typed, or once typing pauses
    /// for `debounce`. Enter adds a line; it does not submit.
    public init(
        value: some ExprConvertible<String>, placeholder: String? = nil, rows: Int = 3, debounce: Duration? = nil,
        onChange: EventRef<String>
    ) {
        self.attrs = Self.attrs(placeholder: placeholder, rows: rows)
        self.props = ["value": value.expr.tree]
        self.handlers = ["input": onChange.handler(valueType: "string", debounce: debounce)]
        self.label = nil
        self.initial = nil
    }

    /// A text area of a ``Form``, sent as `name`.
    public init(name: String, label: (any TextPart)? = nil, placeholder: String? = nil, rows: Int = 3, initial: String? = nil) {
        self.attrs = Self.attrs(placeholder: placeholder, rows: rows).merging(fieldAttrs(name, "string")) { $1 }
        self.props = [:]
        self.handlers = [:]
        self.label = label
        self.initial = initial
    }

    private static func attrs(placeholder: String?, rows: Int) -> [String: ExprTree] {
        var attrs: [String: ExprTree] = ["rows": .literal(.int(max(1, rows)))]
        if let placeholder { attrs["placeholder"] = .literal(.string(placeholder)) }
        return attrs
    }

    /// A `textarea`; a form's initial text is its content, which a reset goes back to.
    public var body: Node {
        let children = initial.map { [Node(.text(.literal(.string($0))))] } ?? []
        return labelled(.element("textarea", class: "rill-textarea", attrs: attrs, props: props, on: handlers, children: children), label)
    }
}

/// A drop-down list: `<select class="rill-select">`.
///
/// Options are strings, fixed or from a var; or the cases of a `String` enum, whose raw values
/// are sent and which the handler receives as the enum:
///
/// ```swift
/// enum Size: String, Codable, CaseIterable, Sendable { case small, medium, large }
///
/// Select(value: ShirtState.$size, onChange: ShirtState.event.setSize)          // a Size var
/// Select(value: ShirtState.$color, options: ["red", "green"], onChange: ShirtState.event.setColor)
/// Select(value: ShirtState.$city, options: ShirtState.$cities, onChange: ShirtState.event.setCity)
/// Select(name: "size", label: "Size", options: Size.allCases.map(\.rawValue), initial: "medium")
/// ```
public struct Select: Component {
    let attrs: [String: ExprTree]
    let props: [String: ExprTree]
    let handlers: [String: DOMHandler]
    let label: (any TextPart)?
    let options: Node

    /// A list bound to `value`, offering fixed `options` and sending `onChange` with the chosen one.
    /// - Parameters:
    ///   - value: The chosen option, usually a var.
    ///   - options: The options' values, in order.
    ///   - labels: What each option shows, by its value; the value itself when absent.
    ///   - onChange: The event that receives the chosen value.
    public init(value: some ExprConvertible<String>, options: [String], labels: [String: String] = [:], onChange: EventRef<String>) {
        self.init(bound: value.expr.tree, options: Self.fixed(options, labels: labels, initial: nil), onChange: onChange.name, onChange.stateType, onChange.field)
    }

    /// A list bound to `value`, offering the strings of a var and sending `onChange` with the chosen one.
    public init(value: some ExprConvertible<String>, options: some ExprConvertible<[String]>, onChange: EventRef<String>) {
        let level = ForEachScope.level + 1
        let option = Node.element(
            "option", class: nil, attrs: ["value": .item(level: level, path: [])], children: [Node(.text(.item(level: level, path: [])))])
        self.init(bound: value.expr.tree, options: Node(.foreach(each: options.expr.tree, key: nil, item: option)),
                  onChange: onChange.name, onChange.stateType, onChange.field)
    }

    /// A list bound to an enum var, offering its cases (labelled by `label`, by default the raw value).
    public init<E: RawRepresentable<String> & CaseIterable & Encodable & Sendable>(
        value: some ExprConvertible<E>, label: (E) -> String = { $0.rawValue }, onChange: EventRef<E>
    ) {
        let cases = E.allCases.map(\.rawValue)
        let labels = Dictionary(uniqueKeysWithValues: E.allCases.map { ($0.rawValue, label($0)) })
        self.init(bound: value.expr.tree, options: Self.fixed(cases, labels: labels, initial: nil), onChange: onChange.name, onChange.stateType, onChange.field)
    }

    /// A list of a ``Form``, sent as `name`: the chosen option.
    /// - Parameters:
    ///   - name: The field's name in the form's payload.
    ///   - label: The caption shown with the list.
    ///   - options: The options' values, in order.
    ///   - labels: What each option shows, by its value; the value itself when absent.
    ///   - initial: The option chosen at first and after a reset; the first when absent.
    public init(name: String, label: (any TextPart)? = nil, options: [String], labels: [String: String] = [:], initial: String? = nil) {
        self.attrs = fieldAttrs(name, "string")
        self.props = [:]
        self.handlers = [:]
        self.label = label
        self.options = Self.fixed(options, labels: labels, initial: initial)
    }

    private init(bound value: ExprTree, options: Node, onChange event: String, _ state: any LiveState.Type, _ field: String) {
        self.attrs = [:]
        self.props = ["value": value]
        self.handlers = ["change": EventCall(event: event, stateType: state, payload: [:]).handler(field: (field, "string"))]
        self.label = nil
        self.options = options
    }

    private static func fixed(_ options: [String], labels: [String: String], initial: String?) -> Node {
        Node(group: options.map { option in
            var attrs: [String: ExprTree] = ["value": .literal(.string(option))]
            if option == initial { attrs["selected"] = .literal(true) }
            return .element("option", class: nil, attrs: attrs, children: [Node(.text(.literal(.string(labels[option] ?? option))))])
        })
    }

    /// A `select` whose `value` follows the var and whose `change` sends the event.
    public var body: Node {
        labelled(.element("select", class: "rill-select", attrs: attrs, props: props, on: handlers, children: [options]), label)
    }
}

/// A set of radio buttons of which one is chosen: `<div class="rill-radio-group" role="radiogroup">`.
///
/// ```swift
/// RadioGroup(value: PollState.$answer, options: ["yes", "no", "maybe"], onChange: PollState.event.setAnswer)
/// RadioGroup(name: "plan", options: ["free", "pro"], labels: ["pro": "Pro (paid)"], initial: "free")
/// ```
public struct RadioGroup: Component {
    let name: String
    let options: [String]
    let labels: [String: String]
    let value: ExprTree?
    let handler: DOMHandler?
    let initial: String?
    let named: Bool

    /// Radio buttons bound to `value`, sending `onChange` with the option chosen.
    public init(value: some ExprConvertible<String>, options: [String], labels: [String: String] = [:], onChange: EventRef<String>) {
        // Radios are grouped by name; the event's name is unique to this binding on the page.
        self.name = onChange.name + "." + onChange.field
        self.options = options
        self.labels = labels
        self.value = value.expr.tree
        self.handler = EventCall(event: onChange.name, stateType: onChange.stateType, payload: [:]).handler(field: (onChange.field, "string"))
        self.initial = nil
        self.named = false
    }

    /// Radio buttons of a ``Form``, sent as `name`: the option chosen, or `null` if none is.
    public init(name: String, options: [String], labels: [String: String] = [:], initial: String? = nil) {
        self.name = name
        self.options = options
        self.labels = labels
        self.value = nil
        self.handler = nil
        self.initial = initial
        self.named = true
    }

    /// A `div` of `label`s, each around an `input type="radio"` and its text.
    public var body: Node {
        let radios = options.map { option -> Node in
            var attrs: [String: ExprTree] = ["type": .literal("radio"), "value": .literal(.string(option))]
            if named {
                attrs.merge(fieldAttrs(name, "radio")) { $1 }
                if option == initial { attrs["checked"] = .literal(true) }
            } else {
                attrs["name"] = .literal(.string(name))
            }
            var props: [String: ExprTree] = [:]
            if let value { props["checked"] = .op("eq", [value, .literal(.string(option))]) }
            let radio = Node.element("input", class: nil, attrs: attrs, props: props, on: handler.map { ["change": $0] } ?? [:])
            return .element("label", class: "rill-radio", children: [radio, Node(.text(.literal(.string(labels[option] ?? option))))])
        }
        return .element("div", class: "rill-radio-group", attrs: ["role": .literal("radiogroup")], children: radios)
    }
}

/// An on/off switch: a checkbox shown as a sliding toggle, announced as a switch:
/// `<label class="rill-switch"><input type="checkbox" role="switch">…</label>`.
///
/// ```swift
/// Switch(isOn: SettingsState.$notifications, label: "Notifications", onChange: SettingsState.event.setNotifications)
/// ```
public struct Switch: Component {
    let box: Checkbox

    /// A switch showing `isOn` and sending `onChange` with its new position.
    public init(isOn: some ExprConvertible<Bool>, label: (any TextPart)? = nil, onChange: EventRef<Bool>) {
        box = Checkbox(
            props: ["checked": isOn.expr.tree], handlers: ["change": onChange.handler(valueType: "bool")],
            label: label, className: "rill-switch", role: "switch")
    }

    /// A switch of a ``Form``, sent as `name`: `true` or `false`.
    public init(name: String, label: (any TextPart)? = nil, initial: Bool = false) {
        var attrs = fieldAttrs(name, "bool")
        if initial { attrs["checked"] = .literal(true) }
        box = Checkbox(attrs: attrs, label: label, className: "rill-switch", role: "switch")
    }

    /// The checkbox in its `label.rill-switch`.
    public var body: Node { box.body }
}

/// A slider over a range of numbers: `<input type="range" class="rill-slider">`.
///
/// While it is dragged it sends `onChange` at most once per `throttle`, and it always sends the
/// value it is released at, so the state ends where the thumb does.
///
/// ```swift
/// Slider(value: PlayerState.$volume, min: 0, max: 100, onChange: PlayerState.event.setVolume)
/// ```
public struct Slider: Component {
    let attrs: [String: ExprTree]
    let props: [String: ExprTree]
    let handlers: [String: DOMHandler]
    let label: (any TextPart)?

    /// A slider showing `value` between `min` and `max`.
    /// - Parameters:
    ///   - value: The number shown, usually a var.
    ///   - min: The smallest number.
    ///   - max: The largest number.
    ///   - step: The distance between values; by default 1 for `Int` and any fraction for `Double`.
    ///   - throttle: The least time between two sends while dragging.
    ///   - onChange: The event that receives the number.
    public init<N: ExprNumber>(
        value: some ExprConvertible<N>, min: N, max: N, step: N? = nil, throttle: Duration = .milliseconds(100),
        onChange: EventRef<N>
    ) {
        let valueType = numberType(N.self)
        self.attrs = numberAttrs("range", min: min, max: max, step: step)
        self.props = ["value": value.expr.tree]
        var dragging = onChange.handler(valueType: valueType)
        dragging.throttleMilliseconds = Int((throttle / .milliseconds(1)).rounded())
        self.handlers = ["input": dragging, "change": onChange.handler(valueType: valueType)]
        self.label = nil
    }

    /// A slider of a ``Form``, sent as `name`: its number.
    public init<N: ExprNumber>(name: String, label: (any TextPart)? = nil, min: N, max: N, step: N? = nil, initial: N? = nil) {
        self.attrs = numberFieldAttrs("range", name: name, initial: initial, min: min, max: max, step: step)
        self.props = [:]
        self.handlers = [:]
        self.label = label
    }

    /// An `input type="range"`.
    public var body: Node {
        labelled(.element("input", class: "rill-slider", attrs: attrs, props: props, on: handlers), label)
    }
}
