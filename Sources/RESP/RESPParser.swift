// Decodes RESP2 values incrementally from bytes that arrive in pieces of any size.

import NIOCore

/// An incremental RESP2 decoder: feed it bytes as they arrive, take values out as they complete.
///
/// A reply may be split across reads at any byte. Scalars (status lines, errors, integers, bulk
/// strings) are consumed only once complete, so a bulk string of many megabytes costs one copy
/// however many reads it arrives in. Arrays are different: their finished elements are consumed
/// and kept in the parser, so a reply with a million elements is not re-read on every read.
///
/// ```swift
/// var parser = RESPParser()
/// var buffer = ByteBuffer(string: "*2\r\n$3\r\nfoo\r\n:4")
/// try parser.next(from: &buffer)   // nil: the integer's line has not ended yet
/// buffer.writeString("2\r\n")
/// try parser.next(from: &buffer)   // ["foo", 42]
/// ```
public struct RESPParser: Sendable {
    /// The longest bulk string accepted, 512 MiB by default (Redis's own limit for a string value).
    public let maxBulkLength: Int
    /// The deepest nesting of arrays accepted; deeper input is rejected rather than risk
    /// exhausting the stack when the value is later compared or freed.
    public let maxDepth: Int
    /// The longest status or error line accepted, so that input that never ends a line is
    /// rejected instead of buffered without bound.
    public let maxLineLength: Int

    /// Arrays whose header has been read but not all of their elements, innermost last.
    private var openArrays: [OpenArray] = []

    private struct OpenArray: Sendable {
        var remaining: Int
        var elements: [RESPValue]
    }

    private enum Token {
        case value(RESPValue)
        case arrayHeader(count: Int)
    }

    /// Length lines (`:`, `$`, `*`) hold at most a sign and 19 digits.
    private static let maxNumberLineLength = 20

    /// Creates a parser with the given limits.
    public init(maxBulkLength: Int = 512 * 1024 * 1024, maxDepth: Int = 512, maxLineLength: Int = 1024 * 1024) {
        self.maxBulkLength = maxBulkLength
        self.maxDepth = maxDepth
        self.maxLineLength = maxLineLength
    }

    /// Decodes the next complete value at the start of `buffer` and moves the buffer's reader
    /// index past it.
    ///
    /// Returns `nil` when the buffer ends before the value does: keep the unread bytes, append
    /// the next ones, and call again. Elements of an unfinished array may already have been
    /// consumed into the parser by then.
    ///
    /// - Throws: ``RESPParseError`` if the bytes are not RESP2. The parser's state is then
    ///   undefined: discard it along with the rest of the stream.
    public mutating func next(from buffer: inout ByteBuffer) throws(RESPParseError) -> RESPValue? {
        while true {
            guard let token = try self.readToken(from: &buffer) else { return nil }
            var value: RESPValue
            switch token {
            case .value(let scalar):
                value = scalar
            case .arrayHeader(let count):
                guard self.openArrays.count < self.maxDepth else {
                    throw RESPParseError("arrays nested more than \(self.maxDepth) deep")
                }
                // The count comes from the peer: reserve no more than a small bound up front.
                var elements: [RESPValue] = []
                elements.reserveCapacity(min(count, 1024))
                self.openArrays.append(OpenArray(remaining: count, elements: elements))
                continue
            }
            while !self.openArrays.isEmpty {
                let innermost = self.openArrays.count - 1
                self.openArrays[innermost].elements.append(value)
                self.openArrays[innermost].remaining -= 1
                guard self.openArrays[innermost].remaining == 0 else { break }
                value = .array(self.openArrays.removeLast().elements)
            }
            if self.openArrays.isEmpty { return value }
        }
    }

    /// Reads one scalar or array header, consuming nothing unless it is complete.
    private func readToken(from buffer: inout ByteBuffer) throws(RESPParseError) -> Token? {
        guard let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        let isNumberLine = type == UInt8(ascii: ":") || type == UInt8(ascii: "$") || type == UInt8(ascii: "*")
        guard isNumberLine || type == UInt8(ascii: "+") || type == UInt8(ascii: "-") else {
            throw RESPParseError("expected a type byte (+ - : $ *), found \(Self.describe(type))")
        }
        let limit = isNumberLine ? Self.maxNumberLineLength : self.maxLineLength
        guard let lineEnd = try Self.lineEnd(in: buffer, maxLength: limit) else { return nil }
        let start = buffer.readerIndex
        let lineLength = lineEnd - 1
        let afterLine = lineEnd + 2

        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let text = buffer.getString(at: start + 1, length: lineLength)!
            buffer.moveReaderIndex(forwardBy: afterLine)
            return .value(type == UInt8(ascii: "+") ? .simple(text) : .error(text))

        case UInt8(ascii: ":"):
            let number = try Self.integer(in: buffer, at: start + 1, length: lineLength)
            buffer.moveReaderIndex(forwardBy: afterLine)
            return .value(.integer(number))

        case UInt8(ascii: "$"):
            let length = try Self.integer(in: buffer, at: start + 1, length: lineLength)
            if length == -1 {
                buffer.moveReaderIndex(forwardBy: afterLine)
                return .value(.bulk(nil))
            }
            guard length >= 0 else { throw RESPParseError("negative bulk string length \(length)") }
            guard length <= self.maxBulkLength else {
                throw RESPParseError("bulk string of \(length) bytes exceeds the limit of \(self.maxBulkLength)")
            }
            let total = afterLine + length + 2
            guard buffer.readableBytes >= total else { return nil }
            guard buffer.getInteger(at: start + afterLine + length, as: UInt16.self) == 0x0D0A else {
                throw RESPParseError("bulk string of \(length) bytes is not followed by CRLF")
            }
            let bytes = buffer.getBytes(at: start + afterLine, length: length)!
            buffer.moveReaderIndex(forwardBy: total)
            return .value(.bulk(bytes))

        default:
            let count = try Self.integer(in: buffer, at: start + 1, length: lineLength)
            guard count >= -1 else { throw RESPParseError("negative array length \(count)") }
            buffer.moveReaderIndex(forwardBy: afterLine)
            switch count {
            case -1: return .value(.array(nil))
            case 0: return .value(.array([]))
            default: return .arrayHeader(count: count)
            }
        }
    }

    /// The offset from the reader index of the CR that ends the first line, or `nil` if the
    /// line has not ended yet. The type byte at offset 0 is not part of the line.
    private static func lineEnd(in buffer: ByteBuffer, maxLength: Int) throws(RESPParseError) -> Int? {
        enum Scan {
            case found(Int)
            case incomplete
            case failed(RESPParseError)
        }
        let scan = buffer.withUnsafeReadableBytes { bytes -> Scan in
            let searchEnd = min(bytes.count, maxLength + 2)
            var offset = 1
            while offset < searchEnd {
                switch bytes[offset] {
                case 0x0D:
                    guard offset + 1 < bytes.count else { return .incomplete }
                    guard bytes[offset + 1] == 0x0A else {
                        return .failed(RESPParseError("CR not followed by LF in a line"))
                    }
                    return .found(offset)
                case 0x0A:
                    return .failed(RESPParseError("LF without CR in a line"))
                default:
                    offset += 1
                }
            }
            guard bytes.count < maxLength + 2 else {
                return .failed(RESPParseError("line longer than \(maxLength) bytes"))
            }
            return .incomplete
        }
        switch scan {
        case .found(let offset): return offset
        case .incomplete: return nil
        case .failed(let error): throw error
        }
    }

    /// Parses a decimal integer exactly as RESP writes it: an optional `-` and at least one digit.
    private static func integer(in buffer: ByteBuffer, at index: Int, length: Int) throws(RESPParseError) -> Int {
        let parsed = buffer.withUnsafeReadableBytes { all -> Int? in
            let bytes = UnsafeRawBufferPointer(rebasing: all[(index - buffer.readerIndex)...].prefix(length))
            let negative = bytes.first == UInt8(ascii: "-")
            let digits = negative ? bytes.dropFirst() : bytes[...]
            guard !digits.isEmpty else { return nil }
            var value = 0
            for byte in digits {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                let digit = Int(byte &- UInt8(ascii: "0"))
                // Accumulating towards the sign reaches Int.min without overflowing.
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                value = next
            }
            return value
        }
        guard let parsed else {
            let text = buffer.getString(at: index, length: length) ?? ""
            throw RESPParseError("\"\(text)\" is not a valid integer")
        }
        return parsed
    }

    private static func describe(_ byte: UInt8) -> String {
        let hex = "0x" + String(byte, radix: 16, uppercase: true)
        guard byte >= 0x20, byte < 0x7F else { return hex }
        return "\(hex) ('\(Character(Unicode.Scalar(byte)))')"
    }
}

/// Adapts ``RESPParser`` to a channel pipeline: turns the connection's bytes into values.
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    private var parser = RESPParser()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try self.parser.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(value))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A reply cut off by the end of the stream is not an error of the protocol: the
        // connection's close fails the command that waited for it.
        try self.decode(context: context, buffer: &buffer)
    }
}
