// Table: columns over a typed row array from the tab's state, one keyed row per element.

/// A table of an array's elements, one row each, with typed columns: `<table class="rill-table">`.
///
/// ```swift
/// struct Order: Codable, Sendable { var id: Int; var customer: String; var total: Double; var shipped: Bool }
///
/// Table(rows: ShopState.$orders, id: \.id, columns: [
///     Column("Order", \.id),
///     Column("Customer", \.customer),
///     Column("Total") { order in Text("$", order.total) },
///     Column("") { order in Button("Ship", onClick: ShopState.event.ship(order.id)).disabled(order.shipped) },
/// ])
/// ```
///
/// Rows are matched by `id` like a ``ForEach``'s elements: a row keeps its DOM (and a control's
/// focus) while others are added, removed or reordered.
public struct Table: Component {
    let headers: [String]
    let rows: Node

    /// A table over `rows`.
    /// - Parameters:
    ///   - rows: The array, usually a var.
    ///   - id: A stored property that identifies a row; rows are matched by position without it.
    ///   - columns: The columns, left to right.
    public init<Row>(rows: some ExprConvertible<[Row]>, id: PartialKeyPath<Row>? = nil, columns: [Column<Row>]) {
        self.headers = columns.map(\.title)
        let each = ForEach(items: rows, id: id) { item in
            Node.element("tr", class: nil, children: columns.map { Node.element("td", class: nil, children: [$0.cell(item)]) })
        }
        // The foreach node itself, without ForEach's wrapper: a `div` has no place in a `tbody`.
        self.rows = Node(.foreach(each: each.each, key: each.key, item: each.template))
    }

    /// A `table` with a header row and a `tbody` of the rows.
    public var body: Node {
        let header = Node.element("tr", class: nil, children: headers.map {
            Node.element("th", class: nil, attrs: ["scope": .literal("col")], children: textNodes([$0]))
        })
        return Node.element("table", class: "rill-table", children: [
            Node.element("thead", class: nil, children: [header]),
            Node.element("tbody", class: nil, children: [rows]),
        ])
    }
}

/// A column of a ``Table``: its title, and what a row shows in it.
public struct Column<Row>: Sendable {
    let title: String
    let cell: @Sendable (Item<Row>) -> Node

    /// A column showing `field` of each row as text.
    public init<Value>(_ title: String, _ field: KeyPath<Row, Value> & Sendable) {
        self.title = title
        self.cell = { row in Node(.text(row[dynamicMember: field].expr.tree)) }
    }

    /// A column whose cell is any components, built from the row.
    public init(_ title: String, @ComponentBuilder cell: @escaping @Sendable (Item<Row>) -> some Component) {
        self.title = title
        self.cell = { row in cell(row).compiled() }
    }
}
