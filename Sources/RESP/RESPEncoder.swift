// Encodes commands (arrays of bulk strings) and arbitrary RESP2 values into bytes.

import NIOCore

/// Writes RESP2: commands as Redis expects them, and any ``RESPValue`` (for example to play
/// Redis's part in a test).
public enum RESPEncoder {
    /// Appends `arguments` as one command, an array of bulk strings: `["GET", "k"]` becomes
    /// `*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`.
    public static func writeCommand(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: arguments.reduce(16) { $0 + $1.utf8.count + 16 })
        buffer.writeArrayHeader(arguments.count)
        for argument in arguments {
            buffer.writeBulk(argument)
        }
    }

    /// Appends `arguments` as one command, each argument as the exact bytes given.
    public static func writeCommand(_ arguments: [[UInt8]], into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: arguments.reduce(16) { $0 + $1.count + 16 })
        buffer.writeArrayHeader(arguments.count)
        for argument in arguments {
            buffer.writeBulk(argument)
        }
    }

    /// Appends `value` in its RESP2 form. Simple strings and errors must not contain CR or LF.
    public static func write(_ value: RESPValue, into buffer: inout ByteBuffer) {
        switch value {
        case .simple(let text):
            buffer.writeLine(prefix: "+", text)
        case .error(let message):
            buffer.writeLine(prefix: "-", message)
        case .integer(let number):
            buffer.writeLine(prefix: ":", String(number))
        case .bulk(nil):
            buffer.writeStaticString("$-1\r\n")
        case .bulk(let bytes?):
            buffer.writeBulk(bytes)
        case .array(nil):
            buffer.writeStaticString("*-1\r\n")
        case .array(let elements?):
            buffer.writeArrayHeader(elements.count)
            for element in elements {
                Self.write(element, into: &buffer)
            }
        }
    }
}

extension ByteBuffer {
    mutating func writeArrayHeader(_ count: Int) {
        self.writeLine(prefix: "*", String(count))
    }

    mutating func writeBulk(_ text: String) {
        self.writeLine(prefix: "$", String(text.utf8.count))
        self.writeString(text)
        self.writeStaticString("\r\n")
    }

    mutating func writeBulk(_ bytes: some Collection<UInt8>) {
        self.writeLine(prefix: "$", String(bytes.count))
        self.writeBytes(bytes)
        self.writeStaticString("\r\n")
    }

    mutating func writeBulk(_ number: Int) {
        self.writeBulk(String(number))
    }

    fileprivate mutating func writeLine(prefix: StaticString, _ text: String) {
        self.writeStaticString(prefix)
        self.writeString(text)
        self.writeStaticString("\r\n")
    }
}

/// A bulk string argument of a command, written as it is: text without first becoming bytes.
protocol BulkArgument {
    var bulkCount: Int { get }
    func writeBulk(into buffer: inout ByteBuffer)
}

extension String: BulkArgument {
    var bulkCount: Int { utf8.count }
    func writeBulk(into buffer: inout ByteBuffer) { buffer.writeBulk(self) }
}

extension Array: BulkArgument where Element == UInt8 {
    var bulkCount: Int { count }
    func writeBulk(into buffer: inout ByteBuffer) { buffer.writeBulk(self) }
}
