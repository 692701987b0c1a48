// Text components — Text, Heading, Link — and the text parts their labels are made of.

/// One piece of a label: a `String`, `Int` or `Double` shown as written, or a ``Var``,
/// ``Expr``, ``Item`` or expression ``Cond`` shown as its current value.
///
/// `Text`, `Heading`, `Button` and `Link` take any number of parts:
/// `Heading(MyTaskState.$counter, " /")`.
public protocol TextPart {
    /// The expression whose value the part shows.
    var textExpr: AnyExpr { get }
}

extension String: TextPart {
    /// The string itself.
    public var textExpr: AnyExpr { AnyExpr(tree: .literal(.string(self))) }
}

extension Int: TextPart {
    /// The number as JavaScript prints it.
    public var textExpr: AnyExpr { AnyExpr(tree: .literal(.int(self))) }
}

extension Double: TextPart {
    /// The number as JavaScript prints it.
    public var textExpr: AnyExpr { AnyExpr(tree: .literal(JSON(argument: self))) }
}

/// One text node per part, each updated on its own when its value changes.
func textNodes(_ parts: [any TextPart]) -> [Node] {
    parts.map { Node(.text($0.textExpr.tree)) }
}

/// Inline text: `<span class="rill-text">`.
///
/// ```swift
/// Text("Done: ", TodoState.$doneCount, " of ", TodoState.$todos.count)
/// ```
public struct Text: Component {
    let parts: [any TextPart]

    /// Text made of `parts`, shown one after the other.
    public init(_ parts: any TextPart...) {
        self.parts = parts
    }

    /// A `span` with one text node per part.
    public var body: Node {
        Node.element("span", class: "rill-text", children: textNodes(parts))
    }
}

/// A heading, `<h1>` to `<h6>` with class `rill-heading`.
///
/// ```swift
/// Heading(MyTaskState.$counter, " /")
/// Heading(level: 1, "Todos")
/// ```
public struct Heading: Component {
    let level: Int
    let parts: [any TextPart]

    /// A heading of `level` 1 (largest) to 6; a level outside that range stops the program
    /// when the page is compiled.
    public init(level: Int = 2, _ parts: any TextPart...) {
        precondition((1...6).contains(level), "Heading level \(level) is not between 1 and 6")
        self.level = level
        self.parts = parts
    }

    /// An `h1`…`h6` with one text node per part.
    public var body: Node {
        Node.element("h\(level)", class: "rill-heading", children: textNodes(parts))
    }
}

/// A link, `<a class="rill-link">`.
///
/// ```swift
/// Link("Docs", href: "/docs")
/// Link(item.name, href: concat("/users/", item.id))
/// ```
public struct Link: Component {
    let parts: [any TextPart]
    let href: ExprTree

    /// A link showing `parts` that leads to `href`.
    public init(_ parts: any TextPart..., href: String) {
        self.parts = parts
        self.href = .literal(.string(href))
    }

    /// A link whose address is computed in the browser.
    public init(_ parts: any TextPart..., href: some ExprConvertible<String>) {
        self.parts = parts
        self.href = href.expr.tree
    }

    /// An `a` with an `href` attribute and one text node per part.
    public var body: Node {
        Node.element("a", class: "rill-link", attrs: ["href": href], children: textNodes(parts))
    }
}
