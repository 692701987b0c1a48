// A page: a path, a title and components, compiled once into the page JSON and its HTML shell.

/// A page of the app: what the browser gets at `path`.
///
/// ```swift
/// let page = Page("/", title: "Background task") { backgroundTaskExample() }
/// try await App(pages: [page]).run()
/// ```
///
/// The components are compiled once, here; every tab that opens the page gets the same JSON
/// (docs/page-format.md) and fills it from its own state.
///
/// A path may have parameters, `:name` segments that match any one segment: `/post/:id` serves
/// `/post/7`, with `RouteState.$params["id"]` being `"7"`. Where two pages match, the one with
/// more literal segments wins (`/post/new` over `/post/:id`).
///
/// `onLoad` events run each time a tab arrives at the page — opened, reloaded, or reached by
/// a ``Link`` or a redirect — after ``RouteState`` is set, in the tab's event queue; not when
/// the tab's socket merely reconnects. They may be background tasks, and may redirect:
///
/// ```swift
/// let post = Page("/post/:id", title: "Post", onLoad: [PostState.event.load]) { postView() }
/// ```
public struct Page: Sendable {
    /// The URL path the page is served at; `:name` segments match any one segment.
    public let path: String
    /// The events run when a tab arrives at the page.
    public let onLoad: [EventSpec]
    let pattern: PathPattern
    /// The document title.
    public let title: String
    /// Every state type whose vars the page shows or whose events it sends, by full name.
    public let states: [any LiveState.Type]
    /// The full names of the events the page's components send: what a tab showing it may
    /// send over its socket (with the app's ``App/publicEvents``).
    public let events: Set<String>
    /// The page object: title, path, socket, initial state and node tree.
    public let json: JSON
    private let serializedJSON: String

    static let socketPath = "/_rill/socket"

    /// What a tab is shown at a path no page matches, unless the app gives its own.
    public static let notFound = Page("/404", title: "Page not found") {
        VStack {
            Heading(level: 1, "Page not found")
            Text("There is no page at this address.")
            Link("Go to the start page", href: "/")
        }
    }

    /// Compiles `content` into a page.
    /// - Parameters:
    ///   - path: The URL path, such as `"/"`, `"/todos"` or `"/post/:id"`.
    ///   - title: The document title.
    ///   - onLoad: Events run each time a tab arrives at the page.
    ///   - content: The page's components.
    public init(_ path: String, title: String, onLoad: [EventSpec] = [], @ComponentBuilder content: () -> some Component) {
        let root = content().compiled()
        var statesByName: [String: any LiveState.Type] = [:]
        var events: Set<String> = []
        root.collect(states: &statesByName, events: &events)
        for event in onLoad {
            if let state = event.stateType { statesByName[state.fullName] = state }
        }
        let states = statesByName.sorted { $0.key < $1.key }.map(\.value)
        self.path = path
        self.pattern = PathPattern(path)
        self.onLoad = onLoad
        self.title = title
        self.states = states
        self.events = events
        self.json = [
            "title": .string(title),
            "path": .string(path),
            "socket": .string(Self.socketPath),
            "initial": .object(Dictionary(uniqueKeysWithValues: states.map { ($0.fullName, .object(Self.defaults(of: $0))) })),
            "root": root.json(at: 0),
        ]
        self.serializedJSON = json.serialized()
    }

    /// What a tab of `S` shows before it connects: the frontend and computed vars of `S()`.
    private static func defaults<S: LiveState>(of state: S.Type) -> [String: JSON] {
        var computed: [String: JSON] = [:]
        return S().changes(from: nil, cache: &computed)
    }

    /// The HTML document served at ``path``: the page JSON in a data block, the runtime's
    /// script and stylesheet, and an empty root the runtime renders into.
    ///
    /// The JSON needs no escaping to sit in the `<script>` element: its serializer writes `<`,
    /// `>` and `&` as `\u` escapes, so no `</script>` can appear in it.
    /// - Parameters:
    ///   - nonce: A CSP nonce for the script and stylesheet elements, for servers whose policy
    ///     uses nonces rather than `'self'`.
    ///   - connection: How the runtime watches its socket (`heartbeat`, `timeout`,
    ///     `connectTimeout`, `maxBackoff`, in milliseconds), put in the page object; the
    ///     runtime's defaults when empty.
    ///   - storage: The app's vars kept in the browser (``App/browserStorageJSON``).
    public func html(nonce: String? = nil, connection: [String: JSON] = [:], storage: JSON = []) -> String {
        let nonceAttribute = nonce.map { " nonce=\"\(Self.escapeHTML($0))\"" } ?? ""
        var serializedJSON = serializedJSON
        if !connection.isEmpty || storage != [], case .object(var object) = json {
            if !connection.isEmpty { object["connection"] = .object(connection) }
            if storage != [] { object["storage"] = storage }
            serializedJSON = JSON.object(object).serialized()
        }
        return """
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>\(Self.escapeHTML(title))</title>
              <link rel="stylesheet" href="/_rill/rill.css"\(nonceAttribute)>
              <script type="application/json" id="rill-page"\(nonceAttribute)>\(serializedJSON)</script>
              <script src="/_rill/rill.js" defer\(nonceAttribute)></script>
            </head>
            <body><div id="rill-root"></div></body>
            </html>

            """
    }

    /// Escapes text for an HTML text node or a quoted attribute value.
    static func escapeHTML(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
