// Where a tab is in the app: its page's path, the path's parameters and the query, as vars and for handlers.

/// The tab's place in the app, kept by Rill as the tab navigates: the path, the values of the
/// page's `:name` segments, and the query parameters.
///
/// Pages show it like any state (`Text(RouteState.$params["id"])`); handlers read it with
/// `getState(RouteState.self)` or through ``LiveState/router`` (``RouterData/params``,
/// ``RouterData/query``). Rill sets it on every navigation, before the page's `onLoad` events
/// run; the browser cannot set it.
@LiveState
public struct RouteState {
    /// The path, such as `/post/7`.
    public var path = "/"
    /// The values of the page pattern's `:name` segments: `["id": "7"]` for `/post/:id`.
    public var params: [String: String] = [:]
    /// The query parameters; of a repeated one, the first.
    public var query: [String: String] = [:]

    /// The route at the start.
    public init() {}

    init(path: String, params: [String: String], query: [String: String]) {
        self.path = path
        self.params = params
        self.query = query
    }
}

/// A path the browser asked for, split into the path and its query parameters.
struct Target: Sendable, Equatable {
    var path: String
    var query: [String: String]

    /// The longest target accepted; a longer one is cut at this many bytes.
    static let maxBytes = 4096

    init(_ text: String) {
        let text = String(text.utf8.prefix(Self.maxBytes)) ?? ""
        let withoutFragment = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let parts = withoutFragment.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? ""
        self.path = path.hasPrefix("/") ? path : "/" + path
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = Self.decode(keyValue[0])
                if !key.isEmpty, query[key] == nil { query[key] = keyValue.count > 1 ? Self.decode(keyValue[1]) : "" }
            }
        }
        self.query = query
    }

    /// Percent-decodes a query part (where `+` is a space) or a path segment; malformed escapes
    /// are kept as written.
    static func decode(_ text: Substring, plusIsSpace: Bool = true) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if plusIsSpace, byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), utf8.count >= 2, let high = hex(utf8[utf8.startIndex]), let low = hex(utf8[utf8.startIndex + 1]) {
                bytes.append(high << 4 | low)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A page's path pattern: literal segments and `:name` segments that match any one segment.
struct PathPattern: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    let segments: [Segment]

    init(_ pattern: String) {
        precondition(pattern.hasPrefix("/"), "a page's path starts with '/': '\(pattern)'")
        segments = pattern.split(separator: "/").map { part in
            if part.hasPrefix(":") {
                precondition(part.count > 1, "a path parameter needs a name after ':' in '\(pattern)'")
                return .parameter(String(part.dropFirst()))
            }
            return .literal(String(part))
        }
        let names = segments.compactMap { if case .parameter(let name) = $0 { name } else { nil } }
        precondition(Set(names).count == names.count, "a path parameter's name repeats in '\(pattern)'")
    }

    /// The parameters' values if `path` matches, percent-decoded; `nil` if it does not.
    func match(_ path: String) -> [String: String]? {
        let parts = path.split(separator: "/")
        guard parts.count == segments.count else { return nil }
        var params: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text):
                guard part == text else { return nil }
            case .parameter(let name):
                params[name] = Target.decode(part, plusIsSpace: false)
            }
        }
        return params
    }

    /// How many segments are literal: where two patterns match, the one with more wins
    /// (`/post/new` over `/post/:id`).
    var literalCount: Int {
        segments.count { if case .literal = $0 { true } else { false } }
    }
}
