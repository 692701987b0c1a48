// Writes a `JSON` value as compact, deterministic, HTML-safe UTF-8 text.

extension JSON {
    /// The compact text form of this value.
    ///
    /// Output is deterministic (object keys in sorted order), has no insignificant
    /// whitespace, and is safe to embed inside an HTML `<script>` element: besides the
    /// mandatory escapes, `<`, `>`, `&`, U+2028 and U+2029 are written as `\u` escapes.
    /// Doubles use their shortest round-trip form, keeping `.0` on integral values so they
    /// parse back as ``double(_:)``; non-finite doubles are written as `null`.
    public func serialized() -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(_JSONSerializer.estimatedSize(of: self))
        serialize(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Appends the compact text form of this value to `buffer`, as UTF-8.
    ///
    /// Lets socket writers frame several values in one reusable buffer without an
    /// intermediate `String`. The output is identical to ``serialized()``.
    public func serialize(into buffer: inout [UInt8]) {
        _JSONSerializer.write(self, into: &buffer)
    }
}

enum _JSONSerializer {
    /// A cheap lower bound so the common small payload needs no regrowth.
    static func estimatedSize(of value: JSON) -> Int {
        switch value {
        case .null, .bool, .int, .double: 24
        case .string(let string): string.utf8.count + 2
        case .array(let elements): 2 + elements.count * 8
        case .object(let members): 2 + members.count * 24
        }
    }

    static func write(_ value: JSON, into out: inout [UInt8]) {
        switch value {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let flag):
            if flag { out.append(contentsOf: "true".utf8) } else { out.append(contentsOf: "false".utf8) }
        case .int(let number):
            writeInteger(number, into: &out)
        case .double(let number):
            writeDouble(number, into: &out)
        case .string(let string):
            writeString(string, into: &out)
        case .array(let elements):
            out.append(0x5B)
            var first = true
            for element in elements {
                if !first { out.append(0x2C) }
                first = false
                write(element, into: &out)
            }
            out.append(0x5D)
        case .object(let members):
            writeObject(members, into: &out)
        }
    }

    private static func writeObject(_ members: [String: JSON], into out: inout [UInt8]) {
        out.append(0x7B)
        if members.count == 1, let only = members.first {
            // Nothing to order; skip the sort's allocation.
            writeString(only.key, into: &out)
            out.append(0x3A)
            write(only.value, into: &out)
        } else if !members.isEmpty {
            var first = true
            for (key, value) in members.sorted(by: { $0.key < $1.key }) {
                if !first { out.append(0x2C) }
                first = false
                writeString(key, into: &out)
                out.append(0x3A)
                write(value, into: &out)
            }
        }
        out.append(0x7D)
    }

    /// Writes decimal digits directly, avoiding the `String` that `description` would build.
    static func writeInteger(_ number: Int, into out: inout [UInt8]) {
        if number < 0 { out.append(0x2D) }
        var magnitude = number.magnitude
        if magnitude < 10 {
            out.append(0x30 + UInt8(truncatingIfNeeded: magnitude))
            return
        }
        let start = out.count
        while magnitude > 0 {
            let (quotient, remainder) = magnitude.quotientAndRemainder(dividingBy: 10)
            out.append(0x30 + UInt8(truncatingIfNeeded: remainder))
            magnitude = quotient
        }
        out[start...].reverse()
    }

    /// Swift's `description` is the shortest text that round-trips and is valid JSON for
    /// every finite value (`1.0`, `1e-05`, `1e+16`), so no formatting of our own is needed.
    static func writeDouble(_ number: Double, into out: inout [UInt8]) {
        guard number.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        out.append(contentsOf: number.description.utf8)
    }

    /// Bit `n` set means ASCII byte `n` (below 64) needs escaping: controls, `"`, `&`, `<`, `>`.
    private static let escapeMaskBelow64: UInt64 = 0x0000_0000_FFFF_FFFF
        | 1 << 0x22 | 1 << 0x26 | 1 << 0x3C | 1 << 0x3E

    static func writeString(_ string: String, into out: inout [UInt8]) {
        var string = string
        string.withUTF8 { writeEscaped($0, into: &out) }
    }

    /// Copies unescaped runs in bulk and only stops at bytes that need attention.
    private static func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(0x22)
        let mask = escapeMaskBelow64
        var runStart = 0
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte < 64 {
                if mask &>> UInt64(byte) & 1 == 0 {
                    index += 1
                    continue
                }
            } else if byte != 0x5C && byte != 0xE2 {
                index += 1
                continue
            }

            var escapeLength = 1
            if byte == 0xE2 {
                // U+2028 / U+2029 are E2 80 A8 / E2 80 A9; any other E2 sequence passes through.
                guard index + 2 < count, bytes[index + 1] == 0x80,
                      bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9
                else {
                    index += 1
                    continue
                }
                escapeLength = 3
            }

            if runStart < index {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            }
            switch byte {
            case 0x22: appendEscape(0x22, into: &out)
            case 0x5C: appendEscape(0x5C, into: &out)
            case 0x0A: appendEscape(UInt8(ascii: "n"), into: &out)
            case 0x0D: appendEscape(UInt8(ascii: "r"), into: &out)
            case 0x09: appendEscape(UInt8(ascii: "t"), into: &out)
            case 0x08: appendEscape(UInt8(ascii: "b"), into: &out)
            case 0x0C: appendEscape(UInt8(ascii: "f"), into: &out)
            case 0xE2: appendUnicodeEscape(bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029, into: &out)
            default: appendUnicodeEscape(UInt16(byte), into: &out)
            }
            index += escapeLength
            runStart = index
        }
        if runStart < count {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<count]))
        }
        out.append(0x22)
    }

    @inline(__always)
    private static func appendEscape(_ code: UInt8, into out: inout [UInt8]) {
        out.append(0x5C)
        out.append(code)
    }

    private static func appendUnicodeEscape(_ unit: UInt16, into out: inout [UInt8]) {
        out.append(0x5C)
        out.append(UInt8(ascii: "u"))
        for shift in stride(from: 12, through: 0, by: -4) {
            let nibble = UInt8(truncatingIfNeeded: unit >> UInt16(shift)) & 0x0F
            out.append(nibble < 10 ? 0x30 + nibble : UInt8(ascii: "a") + nibble - 10)
        }
    }
}
