// Modifiers: styles, classes, ids and disabling, applied to any component's compiled node.

/// How a stack lines up its children across its direction (CSS `align-items`).
public enum Alignment: String, Sendable {
    /// Against the top of a row, or the left of a column.
    case start = "flex-start"
    /// In the middle.
    case center
    /// Against the bottom of a row, or the right of a column.
    case end = "flex-end"
    /// Stretched to fill the stack.
    case stretch
    /// On a shared text baseline.
    case baseline
}

extension Component {
    /// Sets a CSS property to a fixed value: `.style("border-radius", "4px")`.
    ///
    /// A modifier styles the element the component shows: every element of a block, and both
    /// branches of a ``Cond``. A later modifier of the same property wins.
    public func style(_ property: String, _ value: String) -> Node {
        setStyle(property, .literal(.string(value)))
    }

    /// Sets a CSS property to a value computed in the browser:
    /// `.style("color", Cond(TaskState.$late, "red", "inherit"))`.
    public func style(_ property: String, _ value: some ExprConvertible<String>) -> Node {
        setStyle(property, value.expr.tree)
    }

    /// Sets the width, a CSS length: `.width("8em")`.
    public func width(_ value: String) -> Node { style("width", value) }

    /// Sets the width to a CSS length computed in the browser.
    public func width(_ value: some ExprConvertible<String>) -> Node { style("width", value) }

    /// Sets the height, a CSS length.
    public func height(_ value: String) -> Node { style("height", value) }

    /// Sets the height to a CSS length computed in the browser.
    public func height(_ value: some ExprConvertible<String>) -> Node { style("height", value) }

    /// Sets the padding: one to four CSS lengths, `.padding("0.5em 1em")`.
    public func padding(_ value: String) -> Node { style("padding", value) }

    /// Sets the margin: one to four CSS lengths.
    public func margin(_ value: String) -> Node { style("margin", value) }

    /// Sets the text color, a CSS color.
    public func color(_ value: String) -> Node { style("color", value) }

    /// Sets the text color to a CSS color computed in the browser.
    public func color(_ value: some ExprConvertible<String>) -> Node { style("color", value) }

    /// Sets the background, a CSS color or background.
    public func background(_ value: String) -> Node { style("background", value) }

    /// Sets the background to a value computed in the browser.
    public func background(_ value: some ExprConvertible<String>) -> Node { style("background", value) }

    /// Sets the font size, a CSS length: `.fontSize("1.5rem")`.
    public func fontSize(_ value: String) -> Node { style("font-size", value) }

    /// Sets the font weight: `"bold"` or a number such as `"600"`.
    public func fontWeight(_ value: String) -> Node { style("font-weight", value) }

    /// Sets the space between a stack's children, a CSS length.
    public func gap(_ value: String) -> Node { style("gap", value) }

    /// Sets how a stack lines up its children across its direction.
    public func align(_ alignment: Alignment) -> Node { style("align-items", alignment.rawValue) }

    /// Adds a CSS class, after the framework's own `rill-…` class.
    public func `class`(_ name: String) -> Node {
        compiled().modifyingElements { $0.classes.append(name) }
    }

    /// Sets the element's `id` attribute. On a control shown inside its label (a field with a
    /// caption, a checkbox, a switch) the id goes to the control, so ``PageCommand/focus(_:)``
    /// and tests reach the control itself.
    public func id(_ id: String) -> Node {
        compiled().modifyingElements { element in
            let id = ExprTree.literal(.string(id))
            if element.tag == "label", let index = element.children.firstIndex(where: \.isControl) {
                element.children[index] = element.children[index].modifyingElements { $0.attrs["id"] = id }
            } else {
                element.attrs["id"] = id
            }
        }
    }

    /// Disables every button, input, list and text area in the component while `condition` holds, as a
    /// disabled `fieldset` would: `.disabled(MyTaskState.$running)`.
    public func disabled(_ condition: some ExprConvertible<Bool>) -> Node {
        setDisabled(condition.expr.tree)
    }

    /// Disables every button, input, list and text area in the component, or, with `false`, leaves them enabled.
    public func disabled(_ condition: Bool = true) -> Node {
        setDisabled(.literal(.bool(condition)))
    }

    /// Hides the element while `condition` holds (its `hidden` property).
    public func hidden(_ condition: some ExprConvertible<Bool>) -> Node {
        compiled().modifyingElements { $0.props["hidden"] = condition.expr.tree }
    }

    /// Hides the element, or, with `false`, shows it; a ``ClientAction`` may show it later.
    public func hidden(_ condition: Bool = true) -> Node {
        compiled().modifyingElements { $0.props["hidden"] = .literal(.bool(condition)) }
    }

    private func setStyle(_ property: String, _ value: ExprTree) -> Node {
        compiled().modifyingElements { $0.style[property] = value }
    }

    private func setDisabled(_ condition: ExprTree) -> Node {
        compiled().modifyingDescendants(tagged: ["button", "input", "select", "textarea"]) { $0.props["disabled"] = condition }
    }
}
