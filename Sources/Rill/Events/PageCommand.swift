// What a handler asks the tab's page to do besides showing state: redirect, toast, focus, download…

/// Something a handler asks the tab's page to do that is not a change of state, such as
/// showing a toast or going to another page. The page runs it from data, never from script
/// text, so a strict CSP holds.
///
/// Emit one from a handler or a background task with ``LiveState/emit(_:)-(PageCommand)``:
///
/// ```swift
/// mutating func save() {
///     saved = true
///     emit(.toast("Saved", kind: .success))
///     emit(.focus("title"))
/// }
/// ```
///
/// Under the tab's lock (a handler, a `withState` block), commands leave with the changes, after
/// the commit, in the order they were emitted; if the handler throws, they are dropped with its
/// changes. In a background task outside a block they leave at once. A command that breaks its
/// rules (a `javascript:` redirect, an empty element id, a download over
/// ``maxDownloadBytes``) fails the event with ``InvalidCommandError``.
///
/// A `TestTab` receives commands in ``StateUpdate/commands``.
public enum PageCommand: Sendable, Hashable {
    /// Goes to `url`: a path of this app (`/done`, `/post/7?tab=2`) or an `http`/`https` URL.
    /// It loads the page there; the tab keeps its state.
    case redirect(to: String)
    /// Shows `message` in a toast for a few seconds.
    case toast(String, kind: ToastKind = .info)
    /// Moves keyboard focus to the element with this id (``Component/id(_:)``).
    case focus(String)
    /// Scrolls the element with this id into view.
    case scrollTo(String)
    /// Saves `data` as a file named `filename` in the browser's downloads.
    case download(data: [UInt8], filename: String, mimeType: String = "application/octet-stream")
    /// Puts `text` on the clipboard (the browser may refuse without a recent user gesture).
    case setClipboard(String)
    /// Sets the document's title.
    case setTitle(String)

    /// How a toast looks.
    public enum ToastKind: String, Sendable, Hashable {
        /// Neutral news.
        case info
        /// Something worked.
        case success
        /// Something failed.
        case error
    }

    /// The largest file ``download(data:filename:mimeType:)`` sends (8 MiB): it travels over the
    /// tab's socket, ahead of its other updates. Serve larger files from a route.
    public static let maxDownloadBytes = 8 << 20
    /// The longest text a command carries otherwise (64 KiB).
    public static let maxTextBytes = 64 << 10

    /// Text saying what is wrong with the command, or `nil` if it may be sent.
    var problem: String? {
        switch self {
        case .redirect(let url):
            if url.utf8.count > 2048 { return "redirect URL is \(url.utf8.count) bytes; the most is 2048" }
            if !Self.isRedirectable(url) {
                return "cannot redirect to '\(url.clipped())': write a path of the app (\"/done\") or an http(s) URL"
            }
        case .toast(let message, _):
            if message.isEmpty { return "toast has no message" }
            if message.utf8.count > Self.maxTextBytes { return "toast message is \(message.utf8.count) bytes; the most is \(Self.maxTextBytes)" }
        case .focus(let id), .scrollTo(let id):
            if id.isEmpty || id.utf8.count > 256 { return "element id must be 1 to 256 bytes, got \(id.utf8.count)" }
        case .download(let data, let filename, let mimeType):
            if data.count > Self.maxDownloadBytes {
                return "download '\(filename.clipped())' is \(data.count) bytes; the most is \(Self.maxDownloadBytes): serve larger files from a route"
            }
            if filename.isEmpty || filename.utf8.count > 255 || filename.contains(where: { $0 == "/" || $0 == "\\" || $0.isNewline }) {
                return "download filename '\(filename.clipped())' must be 1 to 255 bytes with no slash, backslash or line break"
            }
            if !Self.isMimeType(mimeType) { return "download MIME type '\(mimeType.clipped())' is not of the form type/subtype" }
        case .setClipboard(let text):
            if text.utf8.count > Self.maxTextBytes { return "clipboard text is \(text.utf8.count) bytes; the most is \(Self.maxTextBytes)" }
        case .setTitle(let title):
            if title.utf8.count > 1024 { return "title is \(title.utf8.count) bytes; the most is 1024" }
        }
        return nil
    }

    /// About how many bytes the command takes on the wire, to bound what waits for a slow tab.
    public var byteCount: Int {
        switch self {
        case .redirect(let text), .focus(let text), .scrollTo(let text), .setClipboard(let text), .setTitle(let text):
            text.utf8.count + 40
        case .toast(let message, _):
            message.utf8.count + 50
        case .download(let data, let filename, let mimeType):
            data.count * 4 / 3 + filename.utf8.count + mimeType.utf8.count + 60
        }
    }

    private static func isRedirectable(_ url: String) -> Bool {
        if url.hasPrefix("/") { return !url.hasPrefix("//") && !url.hasPrefix("/\\") }
        let lower = url.lowercased()
        return (lower.hasPrefix("https://") || lower.hasPrefix("http://")) && !url.contains(where: \.isWhitespace)
    }

    private static func isMimeType(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let token: (Substring) -> Bool = { part in
            !part.isEmpty && part.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || "+-.".utf8.contains(byte)
            }
        }
        return parts.count == 2 && token(parts[0]) && token(parts[1])
    }
}

// MARK: - Wire form

extension PageCommand {
    /// The command as the page reads it (docs/protocol.md).
    public var json: JSON {
        switch self {
        case .redirect(let url): ["command": "redirect", "to": .string(url)]
        case .toast(let message, let kind): ["command": "toast", "message": .string(message), "kind": .string(kind.rawValue)]
        case .focus(let id): ["command": "focus", "id": .string(id)]
        case .scrollTo(let id): ["command": "scroll_to", "id": .string(id)]
        case .download(let data, let filename, let mimeType):
            ["command": "download", "filename": .string(filename), "mime": .string(mimeType), "base64": .string(Base64.encode(data))]
        case .setClipboard(let text): ["command": "set_clipboard", "text": .string(text)]
        case .setTitle(let title): ["command": "set_title", "title": .string(title)]
        }
    }

    /// Reads a command from its wire form, as another process relayed it; `nil` if it is not one.
    public init?(json: JSON) {
        guard case .string(let command)? = json["command"] else { return nil }
        func text(_ key: String) -> String? {
            if case .string(let value)? = json[key] { return value }
            return nil
        }
        switch command {
        case "redirect": guard let url = text("to") else { return nil }; self = .redirect(to: url)
        case "toast":
            guard let message = text("message"), let kind = text("kind").flatMap(ToastKind.init(rawValue:)) else { return nil }
            self = .toast(message, kind: kind)
        case "focus": guard let id = text("id") else { return nil }; self = .focus(id)
        case "scroll_to": guard let id = text("id") else { return nil }; self = .scrollTo(id)
        case "download":
            guard let filename = text("filename"), let mimeType = text("mime"), let data = text("base64").flatMap(Base64.decode) else {
                return nil
            }
            self = .download(data: data, filename: filename, mimeType: mimeType)
        case "set_clipboard": guard let value = text("text") else { return nil }; self = .setClipboard(value)
        case "set_title": guard let title = text("title") else { return nil }; self = .setTitle(title)
        default: return nil
        }
    }
}

/// Standard base64 (RFC 4648, with padding): how a download's bytes ride in JSON.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var word = 0
            for (offset, byte) in chunk.enumerated() { word |= Int(byte) << (16 - 8 * offset) }
            for position in 0..<4 {
                out.append(position <= chunk.count ? alphabet[(word >> (18 - 6 * position)) & 63] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 4 * 3)
        var index = 0
        while index < chars.count {
            var word = 0
            var padding = 0
            for position in 0..<4 {
                let char = chars[index + position]
                if char == UInt8(ascii: "=") {
                    guard index + 4 == chars.count, position >= 2 else { return nil }
                    padding += 1
                } else {
                    guard padding == 0, let value = alphabet.firstIndex(of: char) else { return nil }
                    word |= value << (18 - 6 * position)
                }
            }
            for position in 0..<(3 - padding) { out.append(UInt8((word >> (16 - 8 * position)) & 0xFF)) }
            index += 4
        }
        return out
    }
}
