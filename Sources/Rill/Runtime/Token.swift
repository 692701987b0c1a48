// The identity of one browser tab's state.

/// Identifies one tab's state: the browser picks it and keeps it across reloads of the tab.
///
/// A token is 8 to 64 characters of letters, digits, `-` and `_` (a UUID fits).
public struct Token: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The token's text.
    public let rawValue: String

    /// Validates a token sent by a browser; `nil` when it has the wrong form.
    public init?(_ rawValue: String) {
        guard (8...64).contains(rawValue.utf8.count),
              rawValue.utf8.allSatisfy({ Token.allowed($0) })
        else { return nil }
        self.rawValue = rawValue
    }

    /// A new random token (128 bits, hex).
    public static func random() -> Token {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<2).map { _ in
            let word = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - word.count) + word
        }.joined()
        return Token(hex)!
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let token = Token(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "a token is 8 to 64 letters, digits, '-' or '_'"))
        }
        self = token
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    private static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}

/// What a handler may know about the tab that sent its event (Reflex's `router`).
public struct RouterData: Sendable, Equatable {
    /// The tab's token.
    public var token: Token
    /// The browser session, shared by the tabs of one browser (a cookie), if known.
    public var sessionID: String?
    /// The client's address as the server saw it.
    public var clientAddress: String?
    /// The page's path, such as `/post/7`.
    public var path: String
    /// The values of the page pattern's `:name` segments: `["id": "7"]` for `/post/:id`.
    public var params: [String: String]
    /// The query parameters of the page's address; of a repeated one, the first.
    public var query: [String: String]
    /// Request headers of the connection (lower-cased names).
    public var headers: [String: String]

    /// Creates router data; the transport fills it when a tab connects, and navigation keeps
    /// ``path``, ``params`` and ``query`` current.
    public init(
        token: Token, sessionID: String? = nil, clientAddress: String? = nil, path: String = "/",
        params: [String: String] = [:], query: [String: String] = [:], headers: [String: String] = [:]
    ) {
        self.token = token
        self.sessionID = sessionID
        self.clientAddress = clientAddress
        self.path = path
        self.params = params
        self.query = query
        self.headers = headers
    }
}
