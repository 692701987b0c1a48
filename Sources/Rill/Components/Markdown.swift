// Markdown: parsed on the server (with Ink) into the page's own nodes, so no HTML string ever reaches the DOM.

import Ink

/// Markdown shown as the page's own elements: `<div class="rill-markdown">`.
///
/// The text is parsed on the server into headings, paragraphs, lists, links, images, code,
/// quotes and tables; the browser builds them with the DOM API like any other node, so nothing
/// in the text is ever read as HTML. HTML written inside the Markdown keeps only the elements
/// Markdown itself makes (`strong`, `em`, `a`, `code`, …, with `href`, `src`, `alt` and
/// `title` only); any other tag, such as `script`, `style` or `iframe`, is dropped and its
/// text shown. A link or image with a scheme other than `http`, `https`, `mailto` or `tel`
/// loses its address.
///
/// ```swift
/// Markdown("""
///     # Release notes
///     Rill now has **forms**. See [the guide](/docs/guide).
///     """)
/// ```
///
/// For Markdown that changes (a post, a chat message), keep a ``MarkdownDocument`` in the state,
/// usually as a computed var of the text, and show it with ``init(_:)-(ExprConvertible<MarkdownDocument>)``.
public struct Markdown: Component {
    let content: Node

    /// Markdown fixed when the page is compiled.
    public init(_ text: String) {
        content = Node(group: MarkdownDocument(text).nodes)
    }

    /// Markdown from the tab's state, re-rendered when it changes.
    public init(_ document: some ExprConvertible<MarkdownDocument>) {
        content = Node(.nodes(document.expr.tree))
    }

    /// A `div` around the parsed elements.
    public var body: Node {
        Node.element("div", class: "rill-markdown", children: [content])
    }
}

/// Markdown parsed into page nodes, to keep in a state and show with ``Markdown``. It is sent
/// to the browser as the nodes' JSON (docs/page-format.md), never as HTML.
///
/// ```swift
/// @LiveState
/// struct PostState {
///     var text = ""
///     @Computed var rendered: MarkdownDocument { MarkdownDocument(text) }
/// }
/// ```
public struct MarkdownDocument: Codable, Sendable, Equatable {
    let nodes: [Node]
    let json: JSON

    /// The longest text parsed, in UTF-8 bytes (256 KiB); the rest is cut off, as a document a
    /// person could send must not cost the server more than that.
    public static let maxBytes = 256 << 10
    /// The deepest nesting of elements kept; deeper ones keep only their text, so a hostile
    /// document cannot make a tree that the server or the browser walks too deep.
    public static let maxDepth = 32

    /// Parses `text`.
    public init(_ text: String) {
        var text = text
        if text.utf8.count > Self.maxBytes {
            text = String(decoding: text.utf8.prefix(Self.maxBytes), as: UTF8.self)
        }
        let nodes = HTMLNodes.parse(MarkdownParser().html(from: text))
        self.nodes = nodes
        self.json = .array(nodes.map { $0.json(at: 0) })
    }

    /// Writes the nodes' JSON.
    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }

    /// Reads nodes' JSON back, as a stored state holds it; the runtime checks every node again.
    public init(from decoder: any Decoder) throws {
        self.json = try JSON(from: decoder)
        self.nodes = []
    }

    public static func == (lhs: MarkdownDocument, rhs: MarkdownDocument) -> Bool {
        lhs.json == rhs.json
    }
}

/// Turns the HTML that Ink writes into nodes: the elements Markdown makes are kept with the
/// attributes they need, any other tag is dropped for its text, and entities are decoded.
enum HTMLNodes {
    static let kept: Set<String> = [
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "strong", "em", "del", "s", "code", "pre",
        "blockquote", "hr", "br", "img", "table", "thead", "tbody", "tr", "th", "td",
    ]
    static let empty: Set<String> = ["hr", "br", "img"]
    static let attributes: [String: Set<String>] = ["a": ["href", "title"], "img": ["src", "alt", "title"]]

    private struct Open {
        var tag: String?
        var attrs: [String: ExprTree]
        var children: [Node]
    }

    static func parse(_ html: String) -> [Node] {
        var stack = [Open(tag: nil, attrs: [:], children: [])]
        var text = ""
        func flushText() {
            if !text.isEmpty {
                stack[stack.count - 1].children.append(Node(.text(.literal(.string(decodeEntities(text))))))
                text = ""
            }
        }
        func close() {
            let open = stack.removeLast()
            stack[stack.count - 1].children.append(.element(open.tag!, class: nil, attrs: open.attrs, children: open.children))
        }
        var rest = Substring(html)
        while let lt = rest.firstIndex(of: "<") {
            text += rest[..<lt]
            guard let gt = rest[lt...].firstIndex(of: ">") else { break }
            let inner = rest[rest.index(after: lt)..<gt]
            rest = rest[rest.index(after: gt)...]
            let closing = inner.hasPrefix("/")
            let body = closing ? inner.dropFirst() : inner
            let name = String(body.prefix { $0.isLetter || $0.isNumber }).lowercased()
            guard kept.contains(name) else { continue }  // an unknown or raw tag: its text stays
            flushText()
            if closing {
                // Close up to the matching element; a stray end tag is ignored.
                if let index = stack.lastIndex(where: { $0.tag == name }) {
                    while stack.count > index { close() }
                }
            } else if empty.contains(name) {
                stack[stack.count - 1].children.append(.element(name, class: nil, attrs: readAttributes(body, of: name)))
            } else if stack.count <= MarkdownDocument.maxDepth {
                stack.append(Open(tag: name, attrs: readAttributes(body, of: name), children: []))
            }
        }
        text += rest
        flushText()
        while stack.count > 1 { close() }
        return stack[0].children
    }

    /// The allowed attributes of a tag's text (`a href="x" title="y"`).
    private static func readAttributes(_ tag: Substring, of name: String) -> [String: ExprTree] {
        guard let allowed = attributes[name] else { return [:] }
        var attrs: [String: ExprTree] = [:]
        var rest = tag.drop { !$0.isWhitespace }
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmingWhitespace().lowercased()
            var value = rest[rest.index(after: equals)...].trimmingLeadingWhitespace()
            guard let quote = value.first, quote == "\"" || quote == "'" else { break }
            value = value.dropFirst()
            guard let end = value.firstIndex(of: quote) else { break }
            let decoded = decodeEntities(String(value[..<end]))
            if allowed.contains(key), key == "title" || key == "alt" || isSafeAddress(decoded, image: name == "img") {
                attrs[key] = .literal(.string(decoded))
            }
            rest = value[value.index(after: end)...]
        }
        return attrs
    }

    /// A relative address, or one with a scheme a page may link to (the runtime checks again).
    static func isSafeAddress(_ address: String, image: Bool) -> Bool {
        let trimmed = address.drop { $0.isWhitespace || $0.isNewline }.lowercased()
        guard let colon = trimmed.firstIndex(of: ":"),
              !trimmed[..<colon].contains(where: { $0 == "/" || $0 == "?" || $0 == "#" })
        else { return true }
        let scheme = trimmed[..<colon]
        return ["http", "https", "mailto", "tel"].contains(scheme) || (image && trimmed.hasPrefix("data:image/"))
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semi = after.prefix(10).firstIndex(of: ";"), let decoded = entity(after[..<semi]) {
                out.append(decoded)
                rest = after[after.index(after: semi)...]
            } else {
                out += "&"
                rest = after
            }
        }
        return out + rest
    }

    private static func entity(_ name: Substring) -> Character? {
        switch name {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos", "#39": return "'"
        case "nbsp": return "\u{00A0}"
        case "copy": return "©"
        case "reg": return "®"
        case "trade": return "™"
        case "hellip": return "…"
        case "mdash": return "—"
        case "ndash": return "–"
        case "lsquo": return "‘"
        case "rsquo": return "’"
        case "ldquo": return "“"
        case "rdquo": return "”"
        case "laquo": return "«"
        case "raquo": return "»"
        case "times": return "×"
        case "deg": return "°"
        default:
            let number: UInt32?
            if name.hasPrefix("#x") || name.hasPrefix("#X") {
                number = UInt32(name.dropFirst(2), radix: 16)
            } else if name.hasPrefix("#") {
                number = UInt32(name.dropFirst())
            } else {
                number = nil
            }
            return number.flatMap(Unicode.Scalar.init).map(Character.init)
        }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(trimmingLeadingWhitespace().reversed().drop { $0.isWhitespace }.reversed())
    }

    fileprivate func trimmingLeadingWhitespace() -> Substring {
        drop { $0.isWhitespace }
    }
}
