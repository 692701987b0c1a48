// Typed expressions the browser evaluates against a tab's state, and the operators that build them.

/// The untyped tree behind every expression; it becomes JSON only once its place in the page is
/// known, because an item reference is written relative to the `foreach` it is used in.
indirect enum ExprTree: Sendable {
    case literal(JSON)
    case variable(path: String, state: any LiveState.Type)
    /// A field path in the item of the `ForEach` whose template is at nesting `level` (1 = outermost).
    case item(level: Int, path: [String])
    case index(level: Int)
    case op(String, [ExprTree])

    /// The expression as written inside `level` nested `foreach` templates.
    func json(at level: Int) -> JSON {
        switch self {
        case .literal(let value):
            // Only an object could be mistaken for an expression form; arrays are wrapped too so a
            // runtime never has to guess what a bare array means.
            switch value {
            case .array, .object: return ["lit": value]
            default: return value
            }
        case .variable(let path, _):
            return ["var": .string(path)]
        case .item(let itemLevel, let path):
            return ["item": .array(path.map(JSON.string)), "depth": .int(Self.depth(of: itemLevel, at: level))]
        case .index(let itemLevel):
            // `index` and `depth` carry the same number; see docs/page-format.md.
            let depth = JSON.int(Self.depth(of: itemLevel, at: level))
            return ["index": depth, "depth": depth]
        case .op(let name, let args):
            return ["op": .string(name), "args": .array(args.map { $0.json(at: level) })]
        }
    }

    private static func depth(of itemLevel: Int, at level: Int) -> Int {
        precondition(itemLevel <= level, "an Item or index was used outside the ForEach that made it")
        return level - itemLevel
    }

    /// The innermost `ForEach` this expression reads from; 0 when it reads none.
    var innermostLevel: Int {
        switch self {
        case .literal, .variable: 0
        case .item(let level, _), .index(let level): level
        case .op(_, let args): args.map(\.innermostLevel).max() ?? 0
        }
    }

    func collectStates(into states: inout [String: any LiveState.Type]) {
        switch self {
        case .variable(_, let state): states[state.fullName] = state
        case .op(_, let args): for arg in args { arg.collectStates(into: &states) }
        case .literal, .item, .index: break
        }
    }
}

/// A value computed in the browser from the tab's state: a literal, a ``Var``, a field of a
/// ``ForEach`` item, or an operator applied to other expressions.
///
/// Build expressions with Swift operators; the result type follows the operands, so
/// `MyTaskState.$counter + 1` is an `Expr<Int>` and `MyTaskState.$counter >= MyTaskState.$maxCounter`
/// an `Expr<Bool>`. Operands of different types (a `String` and a `Bool`) do not compile.
public struct Expr<Value>: Sendable {
    let tree: ExprTree

    init(_ tree: ExprTree) {
        self.tree = tree
    }

    /// An expression whose value is always `constant`.
    public init(_ constant: Value) where Value: Encodable {
        self.tree = .literal(JSON(argument: constant))
    }

    /// The expression as the browser receives it. An expression that reads a ``ForEach`` item
    /// is written as used inside the innermost `ForEach` it reads from.
    public var json: JSON { tree.json(at: tree.innermostLevel) }
}

/// An expression whose value type is not tracked: what text nodes and ``concat(_:)`` take,
/// since they show any value as text.
public struct AnyExpr: Sendable {
    let tree: ExprTree

    /// Forgets the value type of `expression`.
    public init(_ expression: some ExprConvertible) {
        self.tree = expression.expr.tree
    }

    init(tree: ExprTree) {
        self.tree = tree
    }
}

/// Anything that stands for an ``Expr``: the expression itself, a ``Var``, a ``ForEach``
/// ``Item`` or an expression ``Cond``. Component parameters take this protocol, so each of
/// them can be passed where an expression is expected.
public protocol ExprConvertible<Value>: TextPart {
    /// The type of the value the expression computes.
    associatedtype Value
    /// The expression.
    var expr: Expr<Value> { get }
}

extension ExprConvertible {
    /// A text part showing the expression's value.
    public var textExpr: AnyExpr { AnyExpr(tree: expr.tree) }
}

extension Expr: ExprConvertible {
    /// The expression itself.
    public var expr: Expr<Value> { self }
}

extension Var: ExprConvertible {
    /// The var's current value in the tab.
    public var expr: Expr<Value> { Expr(.variable(path: path, state: stateType)) }
}

/// A number type expressions compute with: `Int` and `Double`. `Int` division truncates as in
/// Swift, although the browser computes in floating point.
public protocol ExprNumber: ExprAddable, Comparable {}

/// A type `+` works on in expressions: numbers add, strings join.
public protocol ExprAddable: Encodable, Sendable {}

extension Int: ExprNumber {}
extension Double: ExprNumber {}
extension String: ExprAddable {}

private func operation<Value>(_ name: String, _ args: ExprTree...) -> Expr<Value> {
    Expr(.op(name, args))
}

private func literal(_ value: some Encodable) -> ExprTree {
    .literal(JSON(argument: value))
}

/// Division as the operand type defines it: JavaScript divides every number as a double, so an
/// integer quotient is built as `(a - a % b) / b`, which is exact and truncates toward zero like
/// Swift's `/`.
private func divide<Value>(_ lhs: ExprTree, _ rhs: ExprTree) -> Expr<Value> {
    guard Value.self is any BinaryInteger.Type else { return operation("div", lhs, rhs) }
    return operation("div", .op("sub", [lhs, .op("mod", [lhs, rhs])]), rhs)
}

// MARK: - Arithmetic

/// Adds two numbers or joins two strings, in the browser.
public func + <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<L.Value> where L.Value == R.Value, L.Value: ExprAddable {
    operation("add", lhs.expr.tree, rhs.expr.tree)
}

/// Adds a constant to a number or appends a constant to a string, in the browser.
public func + <L: ExprConvertible>(lhs: L, rhs: L.Value) -> Expr<L.Value> where L.Value: ExprAddable {
    operation("add", lhs.expr.tree, literal(rhs))
}

/// Adds a number to a constant or prepends a constant to a string, in the browser.
public func + <R: ExprConvertible>(lhs: R.Value, rhs: R) -> Expr<R.Value> where R.Value: ExprAddable {
    operation("add", literal(lhs), rhs.expr.tree)
}

/// Subtracts, in the browser.
public func - <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<L.Value> where L.Value == R.Value, L.Value: ExprNumber {
    operation("sub", lhs.expr.tree, rhs.expr.tree)
}

/// Subtracts a constant, in the browser.
public func - <L: ExprConvertible>(lhs: L, rhs: L.Value) -> Expr<L.Value> where L.Value: ExprNumber {
    operation("sub", lhs.expr.tree, literal(rhs))
}

/// Subtracts from a constant, in the browser.
public func - <R: ExprConvertible>(lhs: R.Value, rhs: R) -> Expr<R.Value> where R.Value: ExprNumber {
    operation("sub", literal(lhs), rhs.expr.tree)
}

/// Multiplies, in the browser.
public func * <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<L.Value> where L.Value == R.Value, L.Value: ExprNumber {
    operation("mul", lhs.expr.tree, rhs.expr.tree)
}

/// Multiplies by a constant, in the browser.
public func * <L: ExprConvertible>(lhs: L, rhs: L.Value) -> Expr<L.Value> where L.Value: ExprNumber {
    operation("mul", lhs.expr.tree, literal(rhs))
}

/// Multiplies a constant, in the browser.
public func * <R: ExprConvertible>(lhs: R.Value, rhs: R) -> Expr<R.Value> where R.Value: ExprNumber {
    operation("mul", literal(lhs), rhs.expr.tree)
}

/// Divides, in the browser; integers truncate toward zero as in Swift.
public func / <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<L.Value> where L.Value == R.Value, L.Value: ExprNumber {
    divide(lhs.expr.tree, rhs.expr.tree)
}

/// Divides by a constant, in the browser; integers truncate toward zero as in Swift.
public func / <L: ExprConvertible>(lhs: L, rhs: L.Value) -> Expr<L.Value> where L.Value: ExprNumber {
    divide(lhs.expr.tree, literal(rhs))
}

/// Divides a constant, in the browser; integers truncate toward zero as in Swift.
public func / <R: ExprConvertible>(lhs: R.Value, rhs: R) -> Expr<R.Value> where R.Value: ExprNumber {
    divide(literal(lhs), rhs.expr.tree)
}

/// The remainder, in the browser; its sign follows the dividend, as in Swift.
public func % <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<L.Value> where L.Value == R.Value, L.Value: ExprNumber {
    operation("mod", lhs.expr.tree, rhs.expr.tree)
}

/// The remainder after dividing by a constant, in the browser.
public func % <L: ExprConvertible>(lhs: L, rhs: L.Value) -> Expr<L.Value> where L.Value: ExprNumber {
    operation("mod", lhs.expr.tree, literal(rhs))
}

/// The remainder of a constant, in the browser.
public func % <R: ExprConvertible>(lhs: R.Value, rhs: R) -> Expr<R.Value> where R.Value: ExprNumber {
    operation("mod", literal(lhs), rhs.expr.tree)
}

/// The negated number, in the browser.
public prefix func - <E: ExprConvertible>(operand: E) -> Expr<E.Value> where E.Value: ExprNumber {
    operation("neg", operand.expr.tree)
}

// MARK: - Comparison

/// Whether two values are equal, in the browser.
public func == <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<Bool> where L.Value == R.Value, L.Value: Equatable {
    operation("eq", lhs.expr.tree, rhs.expr.tree)
}

/// Whether a value equals a constant, in the browser.
public func == <L: ExprConvertible>(lhs: L, rhs: L.Value) -> Expr<Bool> where L.Value: Equatable & Encodable {
    operation("eq", lhs.expr.tree, literal(rhs))
}

/// Whether a constant equals a value, in the browser.
public func == <R: ExprConvertible>(lhs: R.Value, rhs: R) -> Expr<Bool> where R.Value: Equatable & Encodable {
    operation("eq", literal(lhs), rhs.expr.tree)
}

/// Whether two values differ, in the browser.
public func != <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<Bool> where L.Value == R.Value, L.Value: Equatable {
    operation("ne", lhs.expr.tree, rhs.expr.tree)
}

/// Whether a value differs from a constant, in the browser.
public func != <L: ExprConvertible>(lhs: L, rhs: L.Value) -> Expr<Bool> where L.Value: Equatable & Encodable {
    operation("ne", lhs.expr.tree, literal(rhs))
}

/// Whether a constant differs from a value, in the browser.
public func != <R: ExprConvertible>(lhs: R.Value, rhs: R) -> Expr<Bool> where R.Value: Equatable & Encodable {
    operation("ne", literal(lhs), rhs.expr.tree)
}

/// Whether the left value is smaller, in the browser.
public func < <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<Bool> where L.Value == R.Value, L.Value: Comparable {
    operation("lt", lhs.expr.tree, rhs.expr.tree)
}

/// Whether a value is smaller than a constant, in the browser.
public func < <L: ExprConvertible>(lhs: L, rhs: L.Value) -> Expr<Bool> where L.Value: Comparable & Encodable {
    operation("lt", lhs.expr.tree, literal(rhs))
}

/// Whether a constant is smaller than a value, in the browser.
public func < <R: ExprConvertible>(lhs: R.Value, rhs: R) -> Expr<Bool> where R.Value: Comparable & Encodable {
    operation("lt", literal(lhs), rhs.expr.tree)
}

/// Whether the left value is smaller or equal, in the browser.
public func <= <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<Bool> where L.Value == R.Value, L.Value: Comparable {
    operation("le", lhs.expr.tree, rhs.expr.tree)
}

/// Whether a value is smaller than or equal to a constant, in the browser.
public func <= <L: ExprConvertible>(lhs: L, rhs: L.Value) -> Expr<Bool> where L.Value: Comparable & Encodable {
    operation("le", lhs.expr.tree, literal(rhs))
}

/// Whether a constant is smaller than or equal to a value, in the browser.
public func <= <R: ExprConvertible>(lhs: R.Value, rhs: R) -> Expr<Bool> where R.Value: Comparable & Encodable {
    operation("le", literal(lhs), rhs.expr.tree)
}

/// Whether the left value is larger, in the browser.
public func > <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<Bool> where L.Value == R.Value, L.Value: Comparable {
    operation("gt", lhs.expr.tree, rhs.expr.tree)
}

/// Whether a value is larger than a constant, in the browser.
public func > <L: ExprConvertible>(lhs: L, rhs: L.Value) -> Expr<Bool> where L.Value: Comparable & Encodable {
    operation("gt", lhs.expr.tree, literal(rhs))
}

/// Whether a constant is larger than a value, in the browser.
public func > <R: ExprConvertible>(lhs: R.Value, rhs: R) -> Expr<Bool> where R.Value: Comparable & Encodable {
    operation("gt", literal(lhs), rhs.expr.tree)
}

/// Whether the left value is larger or equal, in the browser.
public func >= <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<Bool> where L.Value == R.Value, L.Value: Comparable {
    operation("ge", lhs.expr.tree, rhs.expr.tree)
}

/// Whether a value is larger than or equal to a constant, in the browser.
public func >= <L: ExprConvertible>(lhs: L, rhs: L.Value) -> Expr<Bool> where L.Value: Comparable & Encodable {
    operation("ge", lhs.expr.tree, literal(rhs))
}

/// Whether a constant is larger than or equal to a value, in the browser.
public func >= <R: ExprConvertible>(lhs: R.Value, rhs: R) -> Expr<Bool> where R.Value: Comparable & Encodable {
    operation("ge", literal(lhs), rhs.expr.tree)
}

// MARK: - Logic

/// The negated condition, in the browser.
public prefix func ! <E: ExprConvertible>(operand: E) -> Expr<Bool> where E.Value == Bool {
    operation("not", operand.expr.tree)
}

/// Whether both conditions hold, in the browser.
public func && <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<Bool> where L.Value == Bool, R.Value == Bool {
    operation("and", lhs.expr.tree, rhs.expr.tree)
}

/// Whether either condition holds, in the browser.
public func || <L: ExprConvertible, R: ExprConvertible>(lhs: L, rhs: R) -> Expr<Bool> where L.Value == Bool, R.Value == Bool {
    operation("or", lhs.expr.tree, rhs.expr.tree)
}

// MARK: - Conversions and access

extension ExprConvertible {
    /// The value as the text a person reads: `null` is empty, numbers print as JavaScript
    /// prints them, arrays and objects as JSON.
    public var description: Expr<String> { operation("str", expr.tree) }

    /// The element at `index`; `nil` in the browser when the index is out of range.
    public subscript<Element>(_ index: Int) -> Expr<Element?> where Value == [Element] {
        operation("get", expr.tree, literal(index))
    }

    /// The element at a computed index; `nil` in the browser when the index is out of range.
    public subscript<Element, Index: ExprConvertible<Int>>(_ index: Index) -> Expr<Element?> where Value == [Element] {
        operation("get", expr.tree, index.expr.tree)
    }

    /// The value stored under `key`, `nil` when there is none.
    public subscript<Element>(_ key: String) -> Expr<Element?> where Value == [String: Element] {
        operation("get", expr.tree, literal(key))
    }
}

extension ExprConvertible where Value: Collection {
    /// The number of elements of an array, or the length of a string. A string's length is
    /// counted in UTF-16 code units, as JavaScript counts it.
    public var count: Expr<Int> { operation("len", expr.tree) }
}

/// Joins the parts' values as text, in the browser: `concat("Page ", $page, " of ", $pages)`.
public func concat(_ parts: any TextPart...) -> Expr<String> {
    Expr(.op("concat", parts.map(\.textExpr.tree)))
}
