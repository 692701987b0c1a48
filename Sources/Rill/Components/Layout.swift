// Layout components: stacks that arrange their children, and the spacer and divider between them.

/// Children side by side, left to right: `<div class="rill-hstack">` (a flex row).
///
/// ```swift
/// HStack {
///     Text("Name")
///     Spacer()
///     Button("Edit", onClick: ProfileState.event.edit)
/// }
/// .gap("1em")
/// ```
public struct HStack: Component {
    let content: Node

    /// A row of the block's components.
    public init(@ComponentBuilder content: () -> some Component) {
        self.content = content().compiled()
    }

    /// A `div` holding the children.
    public var body: Node {
        Node.element("div", class: "rill-hstack", children: [content])
    }
}

/// Children one under another: `<div class="rill-vstack">` (a flex column).
///
/// ```swift
/// VStack {
///     Heading("Settings")
///     Checkbox(checked: SettingsState.$dark, label: "Dark mode", onChange: SettingsState.event.setDark)
/// }
/// ```
public struct VStack: Component {
    let content: Node

    /// A column of the block's components.
    public init(@ComponentBuilder content: () -> some Component) {
        self.content = content().compiled()
    }

    /// A `div` holding the children.
    public var body: Node {
        Node.element("div", class: "rill-vstack", children: [content])
    }
}

/// Empty space that grows to fill its stack, pushing what follows to the far end:
/// `<div class="rill-spacer">`.
public struct Spacer: Component {
    /// A spacer.
    public init() {}

    /// An empty `div`.
    public var body: Node {
        Node.element("div", class: "rill-spacer")
    }
}

/// A horizontal rule: `<hr class="rill-divider">`.
public struct Divider: Component {
    /// A divider.
    public init() {}

    /// An `hr`.
    public var body: Node {
        Node.element("hr", class: "rill-divider")
    }
}
