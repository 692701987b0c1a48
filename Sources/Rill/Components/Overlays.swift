// Components that show one thing of several, or over the page: Dialog and Tabs.

/// A modal dialog whose open state follows a var: `<dialog class="rill-dialog">`.
///
/// While `isOpen` holds the dialog shows over the page, which is inert behind it. Escape and
/// the close button send `onClose`, whose handler sets the var to `false`.
///
/// ```swift
/// Dialog(isOpen: TodoState.$editing, title: "Edit task", onClose: TodoState.event.stopEditing) {
///     Input(value: TodoState.$draft, onChange: TodoState.event.setDraft)
///     Button("Save", onClick: TodoState.event.save)
/// }
/// ```
public struct Dialog: Component {
    let isOpen: ExprTree
    let title: String?
    let onClose: EventCall
    let content: Node

    /// A dialog shown while `isOpen` holds.
    /// - Parameters:
    ///   - isOpen: Whether it shows, usually a var.
    ///   - title: Its heading, which also names it for assistive technology.
    ///   - onClose: Sent when the person closes it (Escape or the close button).
    ///   - content: What it shows.
    public init(isOpen: some ExprConvertible<Bool>, title: String? = nil, onClose: some EventAction, @ComponentBuilder content: () -> some Component) {
        self.isOpen = isOpen.expr.tree
        self.title = title
        self.onClose = onClose.eventCall
        self.content = content().compiled()
    }

    /// A `dialog` with a header (title and close button) and the content.
    public var body: Node {
        var header: [Node] = []
        if let title { header.append(Node.element("h2", class: "rill-dialog-title", children: textNodes([title]))) }
        header.append(Node.element(
            "button", class: "rill-dialog-close", attrs: ["type": .literal("button"), "aria-label": .literal("Close")],
            on: ["click": onClose.handler()], children: textNodes(["×"])))
        var attrs: [String: ExprTree] = [:]
        if let title { attrs["aria-label"] = .literal(.string(title)) }
        return Node.element(
            "dialog", class: "rill-dialog", attrs: attrs, props: ["open": isOpen], on: ["close": onClose.handler()],
            children: [Node.element("div", class: "rill-dialog-header", children: header), content])
    }
}

/// Tabs: a row of tab buttons and the panel of the selected one, the selection kept in a var:
/// `<div class="rill-tabs">` with a `tablist` and `tabpanel`s. The selected tab is the one Tab
/// stop of the list; the left and right arrow keys, Home and End select another.
///
/// ```swift
/// Tabs(selection: SettingsState.$tab, onChange: SettingsState.event.setTab, tabs: [
///     Tab("Profile", id: "profile") { profileForm() },
///     Tab("Billing", id: "billing") { billingView() },
/// ])
/// ```
public struct Tabs: Component {
    let selection: ExprTree
    let onChange: EventRef<String>
    let tabs: [Tab]

    /// Tabs showing the panel whose id `selection` holds, sending `onChange` with a tab's id when it is clicked.
    public init(selection: some ExprConvertible<String>, onChange: EventRef<String>, tabs: [Tab]) {
        self.selection = selection.expr.tree
        self.onChange = onChange
        self.tabs = tabs
    }

    /// The tab list and every panel, those not selected hidden.
    public var body: Node {
        let buttons = tabs.map { tab -> Node in
            let selected = ExprTree.op("eq", [selection, .literal(.string(tab.id))])
            return Node.element(
                "button", class: "rill-tab",
                attrs: [
                    "type": .literal("button"), "role": .literal("tab"), "id": .literal(.string("rill-tab-\(tab.id)")),
                    "aria-controls": .literal(.string("rill-panel-\(tab.id)")),
                    "aria-selected": .op("cond", [selected, .literal("true"), .literal("false")]),
                    // Only the selected tab is a Tab stop; the arrow keys move between tabs.
                    "tabindex": .op("cond", [selected, .literal("0"), .literal("-1")]),
                ],
                on: ["click": onChange(tab.id).eventCall.handler()], children: textNodes([tab.title]))
        }
        let panels = tabs.map { tab -> Node in
            Node.element(
                "div", class: "rill-tab-panel",
                attrs: [
                    "role": .literal("tabpanel"), "id": .literal(.string("rill-panel-\(tab.id)")),
                    "aria-labelledby": .literal(.string("rill-tab-\(tab.id)")),
                ],
                props: ["hidden": .op("ne", [selection, .literal(.string(tab.id))])], children: [tab.content])
        }
        return Node.element("div", class: "rill-tabs", children: [Node.element("div", class: "rill-tab-list", attrs: ["role": .literal("tablist")], children: buttons)] + panels)
    }
}

/// One tab of ``Tabs``: its title, its id (what the selection var holds), and its panel.
public struct Tab: Sendable {
    let title: String
    let id: String
    let content: Node

    /// A tab titled `title`, selected when the selection is `id`.
    public init(_ title: String, id: String, @ComponentBuilder content: () -> some Component) {
        self.title = title
        self.id = id
        self.content = content().compiled()
    }
}
