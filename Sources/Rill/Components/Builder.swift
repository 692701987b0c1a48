// The Component protocol and the result builder that turns component blocks into nodes.

/// A piece of a page. Write your own as a struct with a `body`, like a SwiftUI view:
///
/// ```swift
/// struct Counter: Component {
///     var body: some Component {
///         HStack {
///             Text("Count: ", MyTaskState.$counter)
///             Button("Reset", onClick: MyTaskState.event.clearCounter)
///         }
///     }
/// }
/// ```
///
/// A component is compiled to a ``Node`` once, when its ``Page`` is created; the browser then
/// keeps the page up to date from the tab's state without asking Swift again. So `body` runs
/// once per page, never per tab, and plain Swift values in it (an `if` on a constant, a `for`
/// over a static array) are fixed at that moment. What changes per tab is written with
/// ``Var``s and ``Expr``s.
public protocol Component {
    /// The component this one is made of.
    associatedtype Body: Component
    /// The component this one is made of; the framework's own components answer their ``Node``.
    @ComponentBuilder var body: Body { get }
}

extension Node: Component {
    /// The node itself: nodes are where compiling stops.
    public var body: Node { self }
}

extension Optional: Component where Wrapped: Component {
    /// The wrapped component, or nothing: a component known at compile time to be optional
    /// can be placed in a block as it is.
    public var body: Node { self?.compiled() ?? .empty }
}

extension Component {
    /// Follows `body` down to the node every component ends in.
    func compiled() -> Node {
        if let node = self as? Node { return node }
        return body.compiled()
    }
}

/// Builds one ``Node`` from a block of components: several components, `if`/`else`,
/// `switch`, optionals and `for … in` over a Swift collection.
///
/// These run once, when the page is compiled, so they choose on values known then; to choose on
/// a tab's state use ``Cond``, and to repeat over a var use ``ForEach``.
@resultBuilder
public enum ComponentBuilder {
    /// Compiles a component of the block.
    public static func buildExpression(_ component: some Component) -> Node {
        component.compiled()
    }

    /// The components of a block, in order.
    public static func buildBlock(_ nodes: Node...) -> Node {
        Node(group: nodes)
    }

    /// An `if` without `else`: nothing when the condition is false.
    public static func buildOptional(_ node: Node?) -> Node {
        node ?? .empty
    }

    /// The `if` branch of an `if`/`else`, or a case of a `switch`.
    public static func buildEither(first node: Node) -> Node {
        node
    }

    /// The `else` branch of an `if`/`else`, or a case of a `switch`.
    public static func buildEither(second node: Node) -> Node {
        node
    }

    /// The components a `for … in` loop made, one or more per element.
    public static func buildArray(_ nodes: [Node]) -> Node {
        Node(group: nodes)
    }

    /// A block guarded by `if #available`.
    public static func buildLimitedAvailability(_ node: Node) -> Node {
        node
    }
}
