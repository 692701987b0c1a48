// The value type of the Redis serialization protocol (RESP2): what Redis replies and what commands are made of.

/// One RESP2 value, as Redis sends it.
///
/// Bulk strings are bytes, not text: Redis stores whatever it is given, so only the caller knows
/// whether a value is UTF-8. ``string`` decodes both kinds of string for the common case.
public enum RESPValue: Sendable, Hashable {
    /// A status reply such as `OK` or `PONG` (`+OK\r\n`).
    case simple(String)
    /// An error reply such as `ERR unknown command` (`-ERR ...\r\n`).
    case error(String)
    /// An integer reply (`:42\r\n`).
    case integer(Int)
    /// A bulk string (`$3\r\nfoo\r\n`); `nil` is the null bulk string (`$-1\r\n`), such as `GET` of a missing key.
    case bulk([UInt8]?)
    /// An array (`*2\r\n...`); `nil` is the null array (`*-1\r\n`), such as a `SET ... NX` that did not set.
    case array([RESPValue]?)

    /// The text of a simple string or a bulk string, decoded as UTF-8 with invalid bytes replaced;
    /// `nil` for every other value, including the null bulk string.
    public var string: String? {
        switch self {
        case .simple(let text): text
        case .bulk(let bytes?): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// The bytes of a bulk string, or the UTF-8 bytes of a simple string; `nil` otherwise.
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .simple(let text): Array(text.utf8)
        default: nil
        }
    }

    /// The value of an integer reply, or of a string that holds a decimal integer
    /// (as `GET` of a counter returns); `nil` otherwise.
    public var int: Int? {
        switch self {
        case .integer(let value): value
        case .simple(let text): Int(text)
        case .bulk(let bytes?): Int(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// The elements of a non-null array; `nil` for every other value.
    public var array: [RESPValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether this is the null bulk string or the null array: Redis's "no value".
    public var isNull: Bool {
        switch self {
        case .bulk(nil), .array(nil): true
        default: false
        }
    }

    /// The message of an error reply; `nil` for every other value.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}

extension RESPValue: CustomStringConvertible {
    /// A compact, human-readable rendering, such as `["OK", 3, nil]`; bulk strings that are not
    /// valid UTF-8 show their size instead of their bytes.
    public var description: String {
        switch self {
        case .simple(let text): return text
        case .error(let message): return "(error) \(message)"
        case .integer(let value): return String(value)
        case .bulk(nil), .array(nil): return "nil"
        case .bulk(let bytes?):
            guard let text = String(validating: bytes, as: UTF8.self) else { return "<\(bytes.count) bytes>" }
            return "\"\(text)\""
        case .array(let elements?):
            return "[" + elements.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
