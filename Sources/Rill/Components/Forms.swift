// Forms: Form sends its named fields as one typed payload and shows the handler's field errors beside them.

/// A form that sends its named fields as one event when submitted: `<form class="rill-form">`.
///
/// Each field inside that has a `name` (`Input(name: "email")`, `Checkbox(name: "terms")`, …)
/// becomes a member of the payload, typed by its control: text fields send strings, number
/// fields and sliders numbers (`null` when empty), checkboxes and switches booleans, a radio
/// group the chosen option (`null` when none is). The handler takes them as one `Codable`
/// struct whose property names are the field names — or as `[String: JSON]`:
///
/// ```swift
/// struct SignUp: Codable, Sendable {
///     var email: String
///     var age: Int?
///     var terms: Bool
/// }
///
/// @LiveState
/// struct AccountState {
///     var welcome = ""
///     mutating func signUp(_ form: SignUp) throws {
///         guard form.email.contains("@") else { throw FieldErrors(field: "email", "Enter an email address") }
///         welcome = "Welcome, \(form.email)"
///     }
/// }
///
/// Form(onSubmit: AccountState.event.signUp, resetOnSuccess: true) {
///     Input(name: "email", label: "Email", placeholder: "you@example.com")
///     NumberInput(name: "age", label: "Age", as: Int.self)
///     Checkbox(name: "terms", label: "I agree")
///     SubmitButton("Sign up")
/// }
/// ```
///
/// Pressing Enter in a field submits, as in any HTML form. While the event runs the form's
/// fields are disabled; when it succeeds the form is reset if `resetOnSuccess` is set. A
/// ``FieldErrors`` thrown by the handler shows each message under its field, marks the
/// field `aria-invalid`, and changes nothing; editing the field clears its message.
public struct Form: Component {
    let handler: DOMHandler
    let reset: Bool
    let content: Node

    /// A form whose submit sends its fields as the one argument of `onSubmit`.
    /// - Parameters:
    ///   - onSubmit: A handler taking one `Codable` value (a struct, or `[String: JSON]`).
    ///   - resetOnSuccess: Put every field back to its initial value once the handler succeeded.
    ///   - content: The fields, a ``SubmitButton``, and anything else.
    public init<Value>(onSubmit: EventRef<Value>, resetOnSuccess: Bool = false, @ComponentBuilder content: () -> some Component) {
        self.handler = onSubmit.handler(valueType: "form")
        self.reset = resetOnSuccess
        self.content = content().compiled()
    }

    /// A `form` around a `fieldset` (disabled while the submit runs) holding the content.
    public var body: Node {
        Node.element(
            "form", class: "rill-form", attrs: reset ? ["data-rill-reset": ExprTree.literal(true)] : [:], on: ["submit": handler],
            children: [Node.element("fieldset", class: "rill-form-body", children: [content])])
    }
}

/// The button that submits its ``Form``: `<button type="submit" class="rill-button">`.
public struct SubmitButton: Component {
    let label: [Node]

    /// A submit button labelled with `parts`.
    public init(_ parts: any TextPart...) {
        self.label = textNodes(parts)
    }

    /// A `button` of type `submit`.
    public var body: Node {
        Node.element("button", class: "rill-button", attrs: ["type": ExprTree.literal("submit")], children: label)
    }
}

/// The attributes that make a control a field of its ``Form``: its name, and the type its value
/// is sent as (`string`, `int`, `double`, `bool`, `radio`).
func fieldAttrs(_ name: String, _ valueType: String) -> [String: ExprTree] {
    ["name": .literal(.string(name)), "data-rill-type": .literal(.string(valueType))]
}

/// `control` with its caption: a `label.rill-field` wrapping the caption and the control, so
/// clicking the caption focuses the control; a field error is shown at the end of the wrapper.
func labelled(_ control: Node, _ label: (any TextPart)?) -> Node {
    guard let label else { return control }
    return .element("label", class: "rill-field", children: [.element("span", class: "rill-field-label", children: textNodes([label])), control])
}
