// Components that show things: Image, Badge, Spinner, Callout, Tooltip, Code.

/// An image: `<img class="rill-image">`. Its address is a path of the app (a file of the
/// `--assets` folder is at `/assets/name`), an image `data:` URL, or an `http(s)` URL of a site
/// the page's policy allows images from (`--image-source`); any other scheme is not written.
///
/// ```swift
/// Image("/assets/logo.png", alt: "Rill")
/// Image(ProfileState.$avatarURL, alt: "Your picture").width("4rem")
/// ```
public struct Image: Component {
    let src: ExprTree
    let alt: ExprTree

    /// An image at a fixed address. `alt` says what it shows, for people who cannot see it;
    /// `""` marks a decoration.
    public init(_ src: String, alt: String) {
        self.src = .literal(.string(src))
        self.alt = .literal(.string(alt))
    }

    /// An image whose address and description follow the tab's state.
    public init(_ src: some ExprConvertible<String>, alt: some ExprConvertible<String>) {
        self.src = src.expr.tree
        self.alt = alt.expr.tree
    }

    /// An image whose address follows the tab's state, with a fixed description.
    public init(_ src: some ExprConvertible<String>, alt: String) {
        self.src = src.expr.tree
        self.alt = .literal(.string(alt))
    }

    /// An `img` with `src` and `alt`.
    public var body: Node {
        Node.element("img", class: "rill-image", attrs: ["src": src, "alt": alt])
    }
}

/// How a ``Badge`` or ``Callout`` is coloured, by what it says.
public enum Tone: String, Sendable {
    /// Nothing in particular.
    case neutral
    /// For information, in the accent colour.
    case info
    /// Something went well.
    case success
    /// Something needs care.
    case warning
    /// Something went wrong.
    case danger
}

/// A small label: `<span class="rill-badge rill-tone-…">`.
///
/// ```swift
/// Badge(TodoState.$openCount, " open", tone: .info)
/// ```
public struct Badge: Component {
    let parts: [any TextPart]
    let tone: Tone

    /// A badge showing `parts`.
    public init(_ parts: any TextPart..., tone: Tone = .neutral) {
        self.parts = parts
        self.tone = tone
    }

    /// A `span` with the tone's class.
    public var body: Node {
        Node.element("span", class: "rill-badge", children: textNodes(parts))
            .modifyingElements { $0.classes.append("rill-tone-\(tone.rawValue)") }
    }
}

/// A spinning ring that says something is under way: `<span class="rill-spinner" role="status">`.
/// With reduced motion asked for, the ring stands still, its top arc still marked.
///
/// ```swift
/// Cond(FeedState.$loading) { Spinner(label: "Loading posts") }
/// ```
public struct Spinner: Component {
    let label: String

    /// A spinner; `label` is what a screen reader announces.
    public init(label: String = "Loading") {
        self.label = label
    }

    /// A `span` with `role="status"` and the label as `aria-label`.
    public var body: Node {
        Node.element("span", class: "rill-spinner", attrs: ["role": .literal("status"), "aria-label": .literal(.string(label))])
    }
}

/// A box that sets a message apart, with an optional title: `<div class="rill-callout rill-tone-…" role="note">`.
///
/// ```swift
/// Callout("Heads up", tone: .warning) {
///     Text("The import runs in the background; you can leave this page.")
/// }
/// ```
public struct Callout: Component {
    let title: String?
    let tone: Tone
    let content: Node

    /// A callout around `content`.
    public init(_ title: String? = nil, tone: Tone = .info, @ComponentBuilder content: () -> some Component) {
        self.title = title
        self.tone = tone
        self.content = content().compiled()
    }

    /// A `div` with the title in a `strong`, then the content.
    public var body: Node {
        let heading = title.map { [Node.element("strong", class: "rill-callout-title", children: textNodes([$0]))] } ?? []
        return Node.element("div", class: "rill-callout", attrs: ["role": .literal(tone == .danger ? "alert" : "note")],
                            children: heading + [content])
            .modifyingElements { $0.classes.append("rill-tone-\(tone.rawValue)") }
    }
}

/// A hint shown beside a component while the pointer is over it or it has focus:
/// `<span class="rill-tooltip">` around the component and a `role="tooltip"` text.
///
/// ```swift
/// Tooltip("Copies the link to this page") {
///     Button("Copy link", onClick: ShareState.event.copyLink)
/// }
/// ```
public struct Tooltip: Component {
    let parts: [any TextPart]
    let content: Node

    /// A tooltip showing `parts` for `content`.
    public init(_ parts: any TextPart..., @ComponentBuilder content: () -> some Component) {
        self.parts = parts
        self.content = content().compiled()
    }

    /// The wrapper, the content, and the tip (hidden by CSS until hover or focus).
    public var body: Node {
        Node.element("span", class: "rill-tooltip", children: [
            content, .element("span", class: "rill-tip", attrs: ["role": .literal("tooltip")], children: textNodes(parts)),
        ])
    }
}

/// Preformatted text in a fixed-width font, such as code or a log: `<pre class="rill-code"><code>`.
/// Whitespace and line breaks are kept.
///
/// ```swift
/// Code("let x = 1\nprint(x)", language: "swift")
/// Code(JobState.$log)
/// ```
public struct Code: Component {
    let text: ExprTree
    let language: String?

    /// A block showing `text`; `language` is recorded as a `data-language` attribute for styling.
    public init(_ text: String, language: String? = nil) {
        self.text = .literal(.string(text))
        self.language = language
    }

    /// A block showing text from the tab's state.
    public init(_ text: some ExprConvertible<String>, language: String? = nil) {
        self.text = text.expr.tree
        self.language = language
    }

    /// A `pre` around a `code` holding the text.
    public var body: Node {
        let attrs: [String: ExprTree] = language.map { ["data-language": .literal(.string($0))] } ?? [:]
        return Node.element("pre", class: "rill-code", attrs: attrs, children: [.element("code", class: nil, children: [Node(.text(text))])])
    }
}
