// Chart: a line or bar chart the browser draws as SVG from an array in the tab's state.

/// How a ``Chart`` draws its data.
public enum ChartKind: String, Sendable {
    /// A line through the points.
    case line
    /// One bar per point.
    case bar
}

/// A chart of an array, drawn by the browser as inline SVG and redrawn when the array
/// changes: `<div class="rill-chart">` around the drawing.
///
/// ```swift
/// Chart(.line, data: SensorState.$readings)                          // [Double]
/// Chart(.bar, data: SalesState.$months, x: \.name, y: \.total,       // [Month]
///       width: 480, height: 200, color: "#3b82f6")
/// ```
public struct Chart: Component {
    let spec: ChartSpec

    /// A chart of numbers, one point per element.
    /// - Parameters:
    ///   - kind: A line or bar chart.
    ///   - data: The numbers, usually a var of the state.
    ///   - width: The drawing's width in CSS pixels.
    ///   - height: The drawing's height in CSS pixels.
    ///   - color: A CSS color for lines and bars; by default the text color.
    public init<N: ExprNumber>(
        _ kind: ChartKind, data: some ExprConvertible<[N]>, width: Int = 300, height: Int = 150, color: String? = nil
    ) {
        self.spec = ChartSpec(kind: kind.rawValue, data: data.expr.tree, width: width, height: height, color: color)
    }

    /// A chart of records: `y` is the plotted number of each, `x` its label.
    /// - Parameters:
    ///   - kind: A line or bar chart.
    ///   - data: The records, usually a var of the state.
    ///   - x: The stored property that labels a point.
    ///   - y: The stored property that holds a point's value.
    ///   - width: The drawing's width in CSS pixels.
    ///   - height: The drawing's height in CSS pixels.
    ///   - color: A CSS color for lines and bars; by default the text color.
    public init<T, X, Y: ExprNumber>(
        _ kind: ChartKind, data: some ExprConvertible<[T]>, x: KeyPath<T, X>, y: KeyPath<T, Y>,
        width: Int = 300, height: Int = 150, color: String? = nil
    ) {
        self.spec = ChartSpec(
            kind: kind.rawValue, data: data.expr.tree, x: Self.field(x), y: Self.field(y), width: width, height: height,
            color: color)
    }

    /// The chart node reads one field per point, so a path into a nested value cannot be drawn.
    private static func field<T>(_ path: PartialKeyPath<T>) -> String {
        let names = fieldNames(path)
        precondition(names.count == 1, "a Chart axis must be a stored property of the element itself, not \(path.debugDescription)")
        return names[0]
    }

    /// A `div` holding the `chart` node.
    public var body: Node {
        Node.element("div", class: "rill-chart", children: [Node(.chart(spec))])
    }
}
