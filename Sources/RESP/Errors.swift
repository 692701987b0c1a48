// The errors the client throws: Redis's own error replies, connection failures, and malformed input.

/// An error reply from Redis (`-ERR ...`, `-WRONGTYPE ...`, `-NOSCRIPT ...`): the command reached
/// Redis and was refused. The connection stays usable.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The whole message, starting with its code, such as `WRONGTYPE Operation against a key holding the wrong kind of value`.
    public let message: String

    /// Wraps an error message as Redis sent it.
    public init(message: String) {
        self.message = message
    }

    /// The message's first word, which Redis uses as the error's kind: `ERR`, `WRONGTYPE`, `NOSCRIPT`, ...
    public var code: String {
        String(self.message.prefix { $0 != " " })
    }

    /// The message, saying that Redis sent it.
    public var description: String { "Redis replied with an error: \(self.message)" }
}

/// The connection to Redis failed, so a command got no reply.
///
/// After any of these the client reconnects by itself on the next command; nothing needs recreating.
public enum RedisConnectionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No reply came within the command timeout. The client closed the connection, because the
    /// replies still to come could no longer be matched to their commands; the command may have run.
    case timeout(command: String)
    /// The connection closed before the reply arrived: Redis went away, or the client or
    /// subscriber was closed. A command that was already sent may have run.
    case closed
    /// No connection could be made within the connect timeout.
    case cannotConnect(host: String, port: Int, underlying: String)
    /// Redis sent bytes that are not valid RESP2; the client closed the connection. The reason
    /// says what was wrong.
    case protocolViolation(String)

    /// What failed, in a sentence fit for a log.
    public var description: String {
        switch self {
        case .timeout(let command):
            "Redis did not reply to \(command) within the command timeout; the connection was closed and the command may have run"
        case .closed:
            "The Redis connection closed before the reply arrived; the command may have run"
        case .cannotConnect(let host, let port, let underlying):
            "Cannot connect to Redis at \(host):\(port): \(underlying)"
        case .protocolViolation(let reason):
            "Redis sent a malformed reply, so the connection was closed: \(reason)"
        }
    }
}

/// Bytes that are not valid RESP2, found by ``RESPParser``.
public struct RESPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong, in words.
    public let reason: String

    init(_ reason: String) {
        self.reason = reason
    }

    /// The reason, saying that the input was malformed.
    public var description: String { "Malformed RESP: \(self.reason)" }
}
