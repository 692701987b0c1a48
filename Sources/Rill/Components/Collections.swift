// Components that depend on the tab's data: ForEach over an array, and Cond, the browser-side if/else.

/// The `ForEach` templates being compiled, counted from the outside in, so each ``Item`` knows
/// which `foreach` it belongs to wherever its expressions end up.
enum ForEachScope {
    @TaskLocal static var level = 0
}

/// The current element of a ``ForEach``, or a field inside it: an expression the browser
/// evaluates once per element.
///
/// Fields are reached with Swift's member syntax, `item.title` or `item.owner.name`; each
/// step is an `Item` of the field's type, so it can be shown, compared or sent like any
/// expression. A field's name in the browser is its Swift property name, which is the name
/// Swift's synthesized `Codable` conformance writes. So an item type must use the synthesized
/// `CodingKeys` (no renamed keys), and only stored properties can be read: a computed property
/// is not in the JSON, and reading one stops the program when the page is compiled.
///
/// A field whose name is also a member of `Item` (`count`, `description`, `expr`) is reached
/// with the subscript spelled out: `item[dynamicMember: \.count]`.
@dynamicMemberLookup
public struct Item<Value>: ExprConvertible, Sendable {
    let level: Int
    let path: [String]

    /// The element, or the field of it this item stands for.
    public var expr: Expr<Value> { Expr(.item(level: level, path: path)) }

    /// A field of the element: `item.title`.
    public subscript<Field>(dynamicMember field: KeyPath<Value, Field>) -> Item<Field> {
        Item<Field>(level: level, path: path + fieldNames(field))
    }
}

/// The Swift property names along `path`, which are the JSON field names of a synthesized
/// `Codable` conformance. Swift prints a key path as `\Root.a.b`, which is the only run-time
/// source of its property names.
func fieldNames<Root>(_ path: PartialKeyPath<Root>) -> [String] {
    let identity: PartialKeyPath<Root> = \Root.self
    if path == identity { return [] }
    let prefix = identity.debugDescription.dropLast("self".count)
    let text = path.debugDescription
    let names = text.dropFirst(prefix.count).split(separator: ".").map { name in
        String(name.reversed().drop { $0 == "?" || $0 == "!" }.reversed())
    }
    let isStoredPath = text.hasPrefix(prefix) && names.allSatisfy { name in
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }
    precondition(isStoredPath, "\(text) does not lead through stored properties only; the browser sees only what Codable writes")
    return names
}

/// One copy of its content per element of an array, kept in step with the array:
/// `<div class="rill-foreach">` around the copies.
///
/// ```swift
/// ForEach(items: TodoState.$todos, id: \.id) { item in
///     HStack {
///         Checkbox(checked: item.done, label: item.title, onChange: TodoState.event.toggle(item.id))
///         Button("Delete", onClick: TodoState.event.remove(item.id))
///     }
/// }
/// ```
///
/// With `id`, an element keeps its DOM (focus, a half-typed input) when others are added,
/// removed or reordered; without it elements are matched by position. The content closure runs
/// once, when the page is compiled, with an ``Item`` standing for every element; it is a
/// template, not a loop.
public struct ForEach: Component {
    let each: ExprTree
    let key: String?
    let template: Node

    /// A copy of `content` for each element of `items`.
    /// - Parameters:
    ///   - items: The array, usually a var: `TodoState.$todos`.
    ///   - id: A stored property that identifies an element, such as `\.id`; `\.self` (or no
    ///     `id`) matches elements by position.
    ///   - content: The components for one element.
    public init<T>(
        items: some ExprConvertible<[T]>, id: PartialKeyPath<T>? = nil,
        @ComponentBuilder content: (Item<T>) -> some Component
    ) {
        self.init(items: items, id: id) { item, _ in content(item) }
    }

    /// A copy of `content` for each element of `items`, which also gets the element's position.
    /// - Parameters:
    ///   - items: The array, usually a var: `TodoState.$todos`.
    ///   - id: A stored property that identifies an element, such as `\.id`; `\.self` (or no
    ///     `id`) matches elements by position.
    ///   - content: The components for one element, given the element and its position from 0.
    public init<T>(
        items: some ExprConvertible<[T]>, id: PartialKeyPath<T>? = nil,
        @ComponentBuilder content: (Item<T>, Expr<Int>) -> some Component
    ) {
        let level = ForEachScope.level + 1
        self.each = items.expr.tree
        self.key = id.flatMap { id in
            let names = fieldNames(id)
            precondition(names.count <= 1, "a ForEach id must be a property of the element itself, not \(id.debugDescription)")
            return names.first
        }
        self.template = ForEachScope.$level.withValue(level) {
            content(Item(level: level, path: []), Expr(.index(level: level))).compiled()
        }
    }

    /// A `div` holding the `foreach` node.
    public var body: Node {
        Node.element("div", class: "rill-foreach", children: [Node(.foreach(each: each, key: key, item: template))])
    }
}

/// A choice the browser makes from the tab's state, as an expression or as components.
///
/// As an expression, it is the value of one of two expressions:
///
/// ```swift
/// Button(Cond(!MyTaskState.$running, "Start", "Stop"), onClick: MyTaskState.event.toggleRunning)
/// ```
///
/// As a component, it shows one of two blocks, and swaps them when the test changes:
///
/// ```swift
/// Cond(TodoState.$todos.count == 0) {
///     Text("Nothing to do")
/// } else: {
///     ForEach(items: TodoState.$todos, id: \.id) { item in Text(item.title) }
/// }
/// ```
///
/// `Branch` is `Expr<Value>` for the expression form and ``Node`` for the component form.
public struct Cond<Branch> {
    let test: ExprTree
    let then: Branch
    let otherwise: Branch
}

extension Cond {
    /// `then` when `test` holds, `otherwise` when it does not.
    public init<Value, Test: ExprConvertible<Bool>, Then: ExprConvertible<Value>, Else: ExprConvertible<Value>>(
        _ test: Test, _ then: Then, _ otherwise: Else
    ) where Branch == Expr<Value> {
        self.init(test: test.expr.tree, then: then.expr, otherwise: otherwise.expr)
    }

    /// The constant `then` when `test` holds, `otherwise` when it does not.
    public init<Value: Encodable, Test: ExprConvertible<Bool>, Else: ExprConvertible<Value>>(
        _ test: Test, _ then: Value, _ otherwise: Else
    ) where Branch == Expr<Value> {
        self.init(test: test.expr.tree, then: Expr(then), otherwise: otherwise.expr)
    }

    /// `then` when `test` holds, the constant `otherwise` when it does not.
    public init<Value: Encodable, Test: ExprConvertible<Bool>, Then: ExprConvertible<Value>>(
        _ test: Test, _ then: Then, _ otherwise: Value
    ) where Branch == Expr<Value> {
        self.init(test: test.expr.tree, then: then.expr, otherwise: Expr(otherwise))
    }

    /// One of two constants: `Cond(MyTaskState.$running, "Stop", "Start")`.
    public init<Value: Encodable, Test: ExprConvertible<Bool>>(
        _ test: Test, _ then: Value, _ otherwise: Value
    ) where Branch == Expr<Value> {
        self.init(test: test.expr.tree, then: Expr(then), otherwise: Expr(otherwise))
    }
}

extension Cond: TextPart where Branch: ExprConvertible {}

extension Cond: ExprConvertible where Branch: ExprConvertible {
    /// The `cond` expression.
    public var expr: Expr<Branch.Value> {
        Expr(.op("cond", [test, then.expr.tree, otherwise.expr.tree]))
    }
}

extension Cond: Component where Branch == Node {
    /// Shows `then` while `test` holds and `else` otherwise.
    public init(
        _ test: some ExprConvertible<Bool>,
        @ComponentBuilder then: () -> some Component,
        @ComponentBuilder else otherwise: () -> some Component
    ) {
        self.init(test: test.expr.tree, then: then().compiled(), otherwise: otherwise().compiled())
    }

    /// Shows `then` while `test` holds, and nothing otherwise.
    public init(_ test: some ExprConvertible<Bool>, @ComponentBuilder then: () -> some Component) {
        self.init(test: test.expr.tree, then: then().compiled(), otherwise: .empty)
    }

    /// A `cond` node.
    public var body: Node {
        Node(.cond(test: test, then: then, else: otherwise))
    }
}
