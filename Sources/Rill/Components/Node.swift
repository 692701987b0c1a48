// The compiled node tree that components turn into, and its JSON as docs/page-format.md defines it.

/// A compiled piece of a page: what every ``Component`` turns into, once per page.
///
/// A node is opaque; it is produced by components, changed by modifiers, and written into
/// the page by ``Page``. It is itself a component, so a function may return one.
public struct Node: Sendable {
    indirect enum Content: Sendable {
        case element(Element)
        case text(ExprTree)
        case cond(test: ExprTree, then: Node, else: Node)
        case foreach(each: ExprTree, key: String?, item: Node)
        case chart(ChartSpec)
        /// Nodes computed on the server and kept in the state (a ``MarkdownDocument``): the
        /// expression's value is an array of node JSON, re-rendered when it changes.
        case nodes(ExprTree)
        /// Several nodes side by side, as a builder block produces them; children of an element
        /// are spliced in, anywhere else they are wrapped in a layout-neutral `div`.
        case group([Node])
    }

    let content: Content

    init(_ content: Content) {
        self.content = content
    }

    /// Flattens nested groups and unwraps a group of one, so the JSON has no needless wrappers.
    init(group nodes: [Node]) {
        let flat = nodes.flatMap { node -> [Node] in
            if case .group(let inner) = node.content { return inner }
            return [node]
        }
        self.content = flat.count == 1 ? flat[0].content : .group(flat)
    }

    /// Nothing: what an `if` without `else` compiles to when its condition is false.
    static let empty = Node(.group([]))

    var isEmpty: Bool {
        if case .group(let nodes) = content { return nodes.isEmpty }
        return false
    }

    /// Whether the node is a form control: an `input`, `select` or `textarea` element.
    var isControl: Bool {
        if case .element(let element) = content { return ["input", "select", "textarea"].contains(element.tag) }
        return false
    }

    static func element(
        _ tag: String, class className: String?, attrs: [String: ExprTree] = [:], props: [String: ExprTree] = [:],
        on handlers: [String: DOMHandler] = [:], children: [Node] = []
    ) -> Node {
        let element = Element(
            tag: tag, classes: className.map { [$0] } ?? [], attrs: attrs, props: props, on: handlers, children: children)
        return Node(.element(element))
    }
}

/// An HTML element; its dynamic parts are expressions.
struct Element: Sendable {
    var tag: String
    var classes: [String] = []
    var style: [String: ExprTree] = [:]
    var attrs: [String: ExprTree] = [:]
    var props: [String: ExprTree] = [:]
    var on: [String: DOMHandler] = [:]
    var children: [Node] = []
}

/// What a DOM event of an element does: client actions run in the page, then the event, if
/// any, is sent to the server.
struct DOMHandler: Sendable {
    var event: String?
    var stateType: (any LiveState.Type)?
    var payload: [String: ExprTree]
    /// The payload field that receives the element's value, with the type it is converted to.
    var field: (name: String, valueType: String)?
    var debounceMilliseconds: Int?
    /// For a control being dragged: send at most once per this many milliseconds.
    var throttleMilliseconds: Int?
    /// Steps of a ``ClientAction``, run in the page before the event is sent.
    var client: [JSON] = []

    func json(at level: Int) -> JSON {
        var object: [String: JSON] = ["payload": .object(payload.mapValues { $0.json(at: level) })]
        if let event { object["event"] = .string(event) }
        if !client.isEmpty { object["client"] = .array(client) }
        if let field {
            object["field"] = .string(field.name)
            object["valueType"] = .string(field.valueType)
        }
        if let debounceMilliseconds { object["debounce"] = .int(debounceMilliseconds) }
        if let throttleMilliseconds { object["throttle"] = .int(throttleMilliseconds) }
        return .object(object)
    }
}

/// What a chart node draws.
struct ChartSpec: Sendable {
    var kind: String
    var data: ExprTree
    var x: String?
    var y: String?
    var width: Int
    var height: Int
    var color: String?
}

// MARK: - JSON

extension Node {
    /// The node as one JSON node, inside `level` nested `foreach` templates.
    func json(at level: Int) -> JSON {
        switch content {
        case .element(let element):
            return element.json(at: level)
        case .text(let value):
            return ["kind": "text", "value": value.json(at: level)]
        case .cond(let test, let then, let otherwise):
            var object: [String: JSON] = ["kind": "cond", "test": test.json(at: level), "then": then.json(at: level)]
            if !otherwise.isEmpty { object["else"] = otherwise.json(at: level) }
            return .object(object)
        case .foreach(let each, let key, let item):
            var object: [String: JSON] = ["kind": "foreach", "each": each.json(at: level), "item": item.json(at: level + 1)]
            if let key { object["key"] = .string(key) }
            return .object(object)
        case .chart(let chart):
            var object: [String: JSON] = [
                "kind": "chart", "chartKind": .string(chart.kind), "data": chart.data.json(at: level),
                "width": .int(chart.width), "height": .int(chart.height),
            ]
            if let x = chart.x { object["x"] = .string(x) }
            if let y = chart.y { object["y"] = .string(y) }
            if let color = chart.color { object["color"] = .string(color) }
            return .object(object)
        case .nodes(let value):
            return ["kind": "nodes", "value": value.json(at: level)]
        case .group(let nodes):
            // `display: contents` keeps the wrapper out of layout, so the nodes lay out as
            // children of the wrapper's parent, as they would have if spliced in.
            return Element(tag: "div", style: ["display": .literal("contents")], children: nodes).json(at: level)
        }
    }

    /// The node as children of an element: a group contributes each of its nodes.
    func appendJSON(at level: Int, to children: inout [JSON]) {
        if case .group(let nodes) = content {
            for node in nodes { node.appendJSON(at: level, to: &children) }
        } else {
            children.append(json(at: level))
        }
    }

    /// Every state type that an expression or event of this node refers to, by full name.
    /// Gathers the states the node shows or sends events to, and the names of those events.
    func collect(states: inout [String: any LiveState.Type], events: inout Set<String>) {
        switch content {
        case .element(let element):
            for tree in element.style.values { tree.collectStates(into: &states) }
            for tree in element.attrs.values { tree.collectStates(into: &states) }
            for tree in element.props.values { tree.collectStates(into: &states) }
            for handler in element.on.values {
                if let state = handler.stateType { states[state.fullName] = state }
                if let event = handler.event { events.insert(event) }
                for tree in handler.payload.values { tree.collectStates(into: &states) }
            }
            for child in element.children { child.collect(states: &states, events: &events) }
        case .text(let value):
            value.collectStates(into: &states)
        case .cond(let test, let then, let otherwise):
            test.collectStates(into: &states)
            then.collect(states: &states, events: &events)
            otherwise.collect(states: &states, events: &events)
        case .foreach(let each, _, let item):
            each.collectStates(into: &states)
            item.collect(states: &states, events: &events)
        case .chart(let chart):
            chart.data.collectStates(into: &states)
        case .nodes(let value):
            value.collectStates(into: &states)
        case .group(let nodes):
            for node in nodes { node.collect(states: &states, events: &events) }
        }
    }
}

extension Element {
    func json(at level: Int) -> JSON {
        var object: [String: JSON] = ["kind": "element", "tag": .string(tag)]
        if !classes.isEmpty { object["class"] = .string(classes.joined(separator: " ")) }
        if !style.isEmpty { object["style"] = .object(style.mapValues { $0.json(at: level) }) }
        if !attrs.isEmpty { object["attrs"] = .object(attrs.mapValues { $0.json(at: level) }) }
        if !props.isEmpty { object["props"] = .object(props.mapValues { $0.json(at: level) }) }
        if !on.isEmpty { object["on"] = .object(on.mapValues { $0.json(at: level) }) }
        if !children.isEmpty {
            var json: [JSON] = []
            for child in children { child.appendJSON(at: level, to: &json) }
            object["children"] = .array(json)
        }
        return .object(object)
    }
}

// MARK: - Changing compiled nodes

extension Node {
    /// Applies `change` to the element this node shows: each node of a group, both branches of
    /// a condition; a node that is not an element is first wrapped in a `div` to carry it.
    func modifyingElements(_ change: (inout Element) -> Void) -> Node {
        switch content {
        case .element(var element):
            change(&element)
            return Node(.element(element))
        case .group(let nodes):
            return Node(.group(nodes.map { $0.modifyingElements(change) }))
        case .cond(let test, let then, let otherwise):
            return Node(.cond(test: test, then: then.modifyingElements(change), else: otherwise.modifyingElements(change)))
        case .text, .foreach, .chart, .nodes:
            var wrapper = Element(tag: "div", children: [self])
            change(&wrapper)
            return Node(.element(wrapper))
        }
    }

    /// Applies `change` to every element in the tree whose tag is one of `tags`.
    func modifyingDescendants(tagged tags: Set<String>, _ change: (inout Element) -> Void) -> Node {
        switch content {
        case .element(var element):
            if tags.contains(element.tag) { change(&element) }
            element.children = element.children.map { $0.modifyingDescendants(tagged: tags, change) }
            return Node(.element(element))
        case .group(let nodes):
            return Node(.group(nodes.map { $0.modifyingDescendants(tagged: tags, change) }))
        case .cond(let test, let then, let otherwise):
            return Node(.cond(
                test: test, then: then.modifyingDescendants(tagged: tags, change),
                else: otherwise.modifyingDescendants(tagged: tags, change)))
        case .foreach(let each, let key, let item):
            return Node(.foreach(each: each, key: key, item: item.modifyingDescendants(tagged: tags, change)))
        case .text, .chart, .nodes:
            return self
        }
    }
}
