// Parses RFC 8259 JSON text from raw UTF-8 bytes into a `JSON` value, rejecting anything non-conforming.

/// Why and where JSON text failed to parse.
public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    /// The zero-based byte offset in the input at which the problem was detected.
    public let offset: Int
    /// A short explanation, such as `"trailing comma"` or `"unescaped control character in string"`.
    public let reason: String

    /// A one-line summary naming the offset and the reason.
    public var description: String {
        "JSON parse error at byte \(offset): \(reason)"
    }
}

extension JSON {
    /// The deepest array/object nesting the parser accepts.
    ///
    /// The parser itself is iterative, but decoding, serializing, hashing and releasing a
    /// value all recurse per level, so hostile input (`[[[[…`) must not produce a tree
    /// deeper than those can handle; 512 matches Foundation and is far beyond real payloads.
    static let maximumParsingDepth = 512

    /// Parses UTF-8 encoded JSON text.
    ///
    /// The grammar is RFC 8259 with no extensions: no comments, trailing commas, leading
    /// zeros, `NaN`/`Infinity` or byte-order mark. Strings must be valid UTF-8 without raw
    /// control characters, and `\u` escapes must pair surrogates correctly. Whitespace may
    /// surround the value; anything else after it is an error. A number with no fraction
    /// or exponent that fits in `Int` becomes ``int(_:)``, every other number
    /// ``double(_:)``; a number too large for `Double` is rejected.
    ///
    /// - Throws: ``JSONParseError`` locating the first problem.
    public init(parsing bytes: some Collection<UInt8>) throws {
        if let parsed = try bytes.withContiguousStorageIfAvailable({ try _JSONParser.parse($0) }) {
            self = parsed
        } else {
            self = try Array(bytes).withUnsafeBufferPointer { try _JSONParser.parse($0) }
        }
    }

    /// Parses JSON text.
    ///
    /// - Throws: ``JSONParseError`` whose offset counts UTF-8 bytes of `text`.
    public init(parsing text: String) throws {
        var text = text
        self = try text.withUTF8 { try _JSONParser.parse($0) }
    }
}

// MARK: - Parser

private enum ASCII {
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let slash: UInt8 = 0x2F
    static let comma: UInt8 = 0x2C
    static let colon: UInt8 = 0x3A
    static let openBracket: UInt8 = 0x5B
    static let closeBracket: UInt8 = 0x5D
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
    static let minus: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let lowerE: UInt8 = 0x65
    static let upperE: UInt8 = 0x45
}

struct _JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    /// Reused across strings so escaped strings do not each allocate a fresh buffer.
    private var scratch: [UInt8] = []

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSON {
        var parser = _JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.position < bytes.count {
            throw parser.error("unexpected \(parser.describe(parser.position)) after top-level value")
        }
        return value
    }

    // MARK: Helpers

    private func error(_ reason: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(offset: offset ?? position, reason: reason)
    }

    /// Names a byte for an error message without echoing arbitrary binary into logs.
    private func describe(_ offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F {
            return "character '\(Character(Unicode.Scalar(byte)))'"
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= ASCII.zero && byte <= ASCII.nine
    }

    // MARK: Values

    /// A container whose closing bracket has not been reached yet.
    private struct OpenContainer {
        let isArray: Bool
        /// Where this container's children begin in the shared `elements`/`members` stacks.
        let start: Int
    }

    /// A struct rather than a tuple so the member stack uses specialised value witnesses
    /// instead of the runtime's generic tuple copy and destroy.
    private struct Member {
        let key: String
        let value: JSON
    }

    /// Parses one complete value, containers included.
    ///
    /// Iterative rather than recursive, so stack usage is constant whatever the nesting and
    /// small threads (512 KB on Apple platforms, with debug builds' large frames) are safe.
    /// Children of all open containers accumulate in two shared stacks; each container is
    /// built once, at its closing bracket, at its exact size — growing a dictionary
    /// member by member would rehash every key several times.
    private mutating func parseValue() throws(JSONParseError) -> JSON {
        var open: [OpenContainer] = []
        var elements: [JSON] = []
        var members: [Member] = []
        var pendingKeys: [String] = []

        readValue: while true {
            guard position < bytes.count else { throw error("unexpected end of input, expected a value") }
            var completed: JSON
            switch bytes[position] {
            case ASCII.openBracket:
                try checkDepth(open.count + 1)
                position += 1
                skipWhitespace()
                if position < bytes.count && bytes[position] == ASCII.closeBracket {
                    position += 1
                    completed = .array([])
                } else {
                    open.append(OpenContainer(isArray: true, start: elements.count))
                    continue readValue
                }
            case ASCII.openBrace:
                try checkDepth(open.count + 1)
                position += 1
                skipWhitespace()
                if position < bytes.count && bytes[position] == ASCII.closeBrace {
                    position += 1
                    completed = .object([:])
                } else {
                    pendingKeys.append(try parseMemberKey(afterComma: false))
                    open.append(OpenContainer(isArray: false, start: members.count))
                    continue readValue
                }
            case ASCII.quote:
                completed = .string(try parseString())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                completed = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                completed = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                completed = .null
            case ASCII.minus, ASCII.zero...ASCII.nine:
                completed = try parseNumber()
            default:
                throw error("unexpected \(describe(position)), expected a value")
            }

            // Attach the finished value to its container, closing every container that ends here.
            while let container = open.last {
                skipWhitespace()
                guard position < bytes.count else {
                    throw error(
                        container.isArray ? "unterminated array, expected ',' or ']'" : "unterminated object, expected ',' or '}'"
                    )
                }
                let separator = bytes[position]
                position += 1
                if container.isArray {
                    elements.append(completed)
                    if separator == ASCII.comma {
                        skipWhitespace()
                        if position < bytes.count && bytes[position] == ASCII.closeBracket {
                            throw error("trailing comma in array")
                        }
                        continue readValue
                    }
                    guard separator == ASCII.closeBracket else {
                        throw error("unexpected \(describe(position - 1)) in array, expected ',' or ']'", at: position - 1)
                    }
                    completed = .array(Array(elements[container.start...]))
                    elements.removeSubrange(container.start...)
                } else {
                    members.append(Member(key: pendingKeys.removeLast(), value: completed))
                    if separator == ASCII.comma {
                        skipWhitespace()
                        pendingKeys.append(try parseMemberKey(afterComma: true))
                        continue readValue
                    }
                    guard separator == ASCII.closeBrace else {
                        throw error("unexpected \(describe(position - 1)) in object, expected ',' or '}'", at: position - 1)
                    }
                    // Duplicate keys are permitted by RFC 8259; the last one wins, as in most parsers.
                    let object = [String: JSON](
                        members[container.start...].lazy.map { ($0.key, $0.value) },
                        uniquingKeysWith: { _, last in last }
                    )
                    members.removeSubrange(container.start...)
                    completed = .object(object)
                }
                open.removeLast()
            }
            return completed
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = position
        let length = literal.utf8CodeUnitCount
        guard bytes.count - position >= length else {
            throw error("invalid literal, expected '\(literal)'", at: start)
        }
        let expected = literal.utf8Start
        for offset in 0..<length where bytes[position + offset] != expected[offset] {
            throw error("invalid literal, expected '\(literal)'", at: start)
        }
        position += length
    }

    private func checkDepth(_ depth: Int) throws(JSONParseError) {
        if depth > JSON.maximumParsingDepth {
            throw error("nesting exceeds the maximum depth of \(JSON.maximumParsingDepth)")
        }
    }

    /// Parses `"key"` and the `:` after it, leaving `position` at the member's value.
    private mutating func parseMemberKey(afterComma: Bool) throws(JSONParseError) -> String {
        guard position < bytes.count else { throw error("unterminated object, expected a string key") }
        guard bytes[position] == ASCII.quote else {
            let trailing = afterComma && bytes[position] == ASCII.closeBrace
            throw error("unexpected \(describe(position)), \(trailing ? "trailing comma in object" : "expected a string key")")
        }
        let key = try parseString()
        skipWhitespace()
        guard position < bytes.count, bytes[position] == ASCII.colon else {
            throw error("unexpected \(describe(position)), expected ':' after object key")
        }
        position += 1
        skipWhitespace()
        return key
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote.
    ///
    /// Strings without escapes (the overwhelming majority) are validated in place and
    /// copied once, straight from the input into the `String`.
    private mutating func parseString() throws(JSONParseError) -> String {
        let opening = position
        position += 1
        let start = position
        try scanUnescaped(opening: opening)
        if bytes[position] == ASCII.quote {
            let result = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            position += 1
            return result
        }
        return try parseEscapedString(from: start, opening: opening)
    }

    @inline(never)
    private mutating func parseEscapedString(from start: Int, opening: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while true {
            // Here `bytes[position]` is a backslash.
            try appendEscape()
            let runStart = position
            try scanUnescaped(opening: opening)
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
            if bytes[position] == ASCII.quote {
                position += 1
                return String(decoding: scratch, as: UTF8.self)
            }
        }
    }

    /// Advances over raw string content up to the next quote or backslash, validating UTF-8
    /// and rejecting control characters. Throws if the input ends first.
    @inline(__always)
    private mutating func scanUnescaped(opening: Int) throws(JSONParseError) {
        while position < bytes.count {
            let byte = bytes[position]
            if byte == ASCII.quote || byte == ASCII.backslash { return }
            if byte < 0x20 { throw error("unescaped control character in string") }
            if byte < 0x80 {
                position += 1
            } else {
                try skipMultibyteScalar()
            }
        }
        throw error("unterminated string", at: opening)
    }

    /// Validates one multi-byte UTF-8 sequence per Unicode Table 3-7, which rules out
    /// overlong forms, encoded surrogates and values beyond U+10FFFF.
    private mutating func skipMultibyteScalar() throws(JSONParseError) {
        let lead = bytes[position]
        let length: Int
        var secondLow: UInt8 = 0x80
        var secondHigh: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondLow = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondHigh = 0x9F
        case 0xF0: length = 4; secondLow = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondHigh = 0x8F
        default: throw error("invalid UTF-8 byte 0x\(String(lead, radix: 16, uppercase: true)) in string")
        }
        guard bytes.count - position >= length else { throw error("truncated UTF-8 sequence in string") }
        let second = bytes[position + 1]
        guard second >= secondLow && second <= secondHigh else { throw error("invalid UTF-8 sequence in string") }
        var offset = 2
        while offset < length {
            guard bytes[position + offset] & 0xC0 == 0x80 else { throw error("invalid UTF-8 sequence in string") }
            offset += 1
        }
        position += length
    }

    /// Decodes the escape at `position` into `scratch`.
    private mutating func appendEscape() throws(JSONParseError) {
        let escapeStart = position
        guard position + 1 < bytes.count else { throw error("unterminated string") }
        let code = bytes[position + 1]
        position += 2
        switch code {
        case ASCII.quote: scratch.append(ASCII.quote)
        case ASCII.backslash: scratch.append(ASCII.backslash)
        case ASCII.slash: scratch.append(ASCII.slash)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try readHex4()
            var scalar = UInt32(unit)
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard bytes.count - position >= 6,
                      bytes[position] == ASCII.backslash,
                      bytes[position + 1] == UInt8(ascii: "u")
                else {
                    throw error("unpaired high surrogate \\u\(String(unit, radix: 16, uppercase: true))", at: escapeStart)
                }
                position += 2
                let low = try readHex4()
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw error("high surrogate not followed by a low surrogate", at: escapeStart)
                }
                scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw error("unpaired low surrogate \\u\(String(unit, radix: 16, uppercase: true))", at: escapeStart)
            }
            appendUTF8(scalar)
        default:
            throw error("invalid escape sequence \\\(describe(escapeStart + 1))", at: escapeStart)
        }
    }

    private mutating func readHex4() throws(JSONParseError) -> UInt16 {
        guard bytes.count - position >= 4 else { throw error("truncated \\u escape") }
        var value: UInt16 = 0
        for offset in 0..<4 {
            let byte = bytes[position + offset]
            let digit: UInt8
            switch byte {
            case ASCII.zero...ASCII.nine: digit = byte - ASCII.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit in \\u escape", at: position + offset)
            }
            value = value << 4 | UInt16(digit)
        }
        position += 4
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    // MARK: Numbers

    /// Exact powers of ten; every one up to 1e22 is representable in a `Double`.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    private mutating func parseNumber() throws(JSONParseError) -> JSON {
        let start = position
        let negative = bytes[position] == ASCII.minus
        if negative { position += 1 }

        guard position < bytes.count, Self.isDigit(bytes[position]) else {
            throw error("expected a digit after '-'")
        }

        // Accumulate the significant digits once; integers need nothing else.
        var significand: UInt64 = 0
        var significandOverflowed = false
        if bytes[position] == ASCII.zero {
            position += 1
            if position < bytes.count && Self.isDigit(bytes[position]) {
                throw error("leading zeros are not allowed", at: position - 1)
            }
        } else {
            accumulateDigits(into: &significand, overflowed: &significandOverflowed)
        }

        var fractionDigits = 0
        var isInteger = true
        if position < bytes.count && bytes[position] == ASCII.dot {
            isInteger = false
            position += 1
            let fractionStart = position
            guard position < bytes.count, Self.isDigit(bytes[position]) else {
                throw error("expected a digit after the decimal point")
            }
            accumulateDigits(into: &significand, overflowed: &significandOverflowed)
            fractionDigits = position - fractionStart
        }

        var exponent = 0
        if position < bytes.count && (bytes[position] == ASCII.lowerE || bytes[position] == ASCII.upperE) {
            isInteger = false
            position += 1
            var exponentNegative = false
            if position < bytes.count && (bytes[position] == ASCII.plus || bytes[position] == ASCII.minus) {
                exponentNegative = bytes[position] == ASCII.minus
                position += 1
            }
            guard position < bytes.count, Self.isDigit(bytes[position]) else {
                throw error("expected a digit in the exponent")
            }
            while position < bytes.count, Self.isDigit(bytes[position]) {
                // Clamped: anything this large is out of range either way.
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[position] - ASCII.zero) }
                position += 1
            }
            if exponentNegative { exponent = -exponent }
        }

        if isInteger {
            let limit = UInt64(Int.max)
            if !significandOverflowed {
                if negative {
                    if significand <= limit { return .int(-Int(significand)) }
                    if significand == limit + 1 { return .int(.min) }
                } else if significand <= limit {
                    return .int(Int(significand))
                }
            }
            // Past Int: only an unsigned 64-bit integer a Double holds exactly, never a rounded one.
            guard !negative, !significandOverflowed, UInt64(exactly: Double(significand)) == significand else {
                throw error("integer \(text(from: start)) does not fit in 64 bits without rounding", at: start)
            }
            return .double(Double(significand))
        }

        // Clinger's fast path: both operands are exact, so one IEEE operation rounds correctly.
        let scale = exponent - fractionDigits
        let number: Double
        if !significandOverflowed && significand <= 1 << 53 && scale >= -22 && scale <= 22 {
            let value = Double(significand)
            number = scale < 0 ? value / Self.powersOfTen[-scale] : value * Self.powersOfTen[scale]
        } else {
            number = try parseDoubleSlowly(from: start)
        }
        try checkLossless(number, significand: significand, overflowed: significandOverflowed, from: start)
        return .double(negative ? -number : number)
    }

    /// Refuses the two roundings that change what a number says: a nonzero number that becomes
    /// zero, and a whole number below 2^64 that becomes another whole number (`9007199254740993.0`).
    /// Other decimals become the nearest `Double`, as everywhere.
    private func checkLossless(_ number: Double, significand: UInt64, overflowed: Bool, from start: Int) throws(JSONParseError) {
        if number == 0, significand != 0 || overflowed {
            throw error("number \(text(from: start)) is too small to be held; it would become 0", at: start)
        }
        // Below 2^53 every whole number is exact; past 2^64 the literal names no 64-bit integer.
        guard number >= 9_007_199_254_740_992, number < 18_446_744_073_709_551_616 else { return }
        if let whole = wholeDigits(from: start), whole != String(UInt64(number)) {
            throw error("number \(text(from: start)) is a whole number a Double cannot hold exactly", at: start)
        }
    }

    /// The literal from `start` written as a plain integer (`90.0e1` → `"900"`), or nil when it
    /// has a fractional part or more than 25 digits.
    private func wholeDigits(from start: Int) -> String? {
        var digits: [UInt8] = []
        var fraction = 0
        var exponent = 0
        var exponentNegative = false
        var part = 0   // 0: integer part, 1: fraction, 2: exponent
        for byte in bytes[start..<position] {
            switch byte {
            case ASCII.dot: part = 1
            case ASCII.lowerE, ASCII.upperE: part = 2
            case ASCII.minus where part == 2: exponentNegative = true
            case ASCII.zero...ASCII.nine:
                if part == 2 {
                    if exponent < 100_000 { exponent = exponent * 10 + Int(byte - ASCII.zero) }
                } else {
                    if !(digits.isEmpty && byte == ASCII.zero) { digits.append(byte) }
                    if part == 1 { fraction += 1 }
                }
            default: break
            }
        }
        var scale = (exponentNegative ? -exponent : exponent) - fraction
        while digits.last == ASCII.zero {
            digits.removeLast()
            scale += 1
        }
        guard scale >= 0, digits.count + scale <= 25 else { return nil }
        return String(decoding: digits, as: UTF8.self) + String(repeating: "0", count: scale)
    }

    private func text(from start: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<min(position, start + 40)]), as: UTF8.self)
    }

    @inline(__always)
    private mutating func accumulateDigits(into significand: inout UInt64, overflowed: inout Bool) {
        while position < bytes.count, Self.isDigit(bytes[position]) {
            let digit = UInt64(bytes[position] - ASCII.zero)
            if !overflowed {
                let (times10, overflow1) = significand.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(digit)
                if overflow1 || overflow2 { overflowed = true } else { significand = sum }
            }
            position += 1
        }
    }

    /// Falls back to the standard library's correctly rounded conversion; the grammar has
    /// already been checked, so only well-formed JSON numbers reach it.
    /// The magnitude, without the sign.
    @inline(never)
    private func parseDoubleSlowly(from start: Int) throws(JSONParseError) -> Double {
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error("number \(text.prefix(40)) is out of range", at: start)
        }
        return value.magnitude
    }
}
