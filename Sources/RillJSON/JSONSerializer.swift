// Writes a `JSON` value as compact, deterministic, HTML-safe UTF-8 text.

extension JSON {
    /// The compact text form of this value.
    ///
    /// Output is deterministic (object keys in `String` order, which for ASCII keys is
    /// byte order), has no insignificant
    /// whitespace, and is safe to embed inside an HTML `<script>` element: besides the
    /// mandatory escapes, `<`, `>`, `&`, U+2028 and U+2029 are written as `\u` escapes.
    /// Doubles use their shortest round-trip form, keeping `.0` on integral values so they
    /// parse back as ``double(_:)``; non-finite doubles are written as `null`.
    public func serialized() -> String {
        var writer = _JSONByteWriter()
        writer.write(self)
        return writer.makeString()
    }

    /// Appends the compact text form of this value to `buffer`, as UTF-8.
    ///
    /// Lets socket writers frame several values in one reusable buffer without an
    /// intermediate `String`. The output is identical to ``serialized()``.
    public func serialize(into buffer: inout [UInt8]) {
        var writer = _JSONByteWriter()
        writer.write(self)
        writer.append(to: &buffer)
    }

    /// Calls `body` with the compact text form of this value, as UTF-8 bytes valid only
    /// during the call: a socket writer copies them once, straight into its own buffer.
    public func withSerializedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var writer = _JSONByteWriter()
        writer.write(self)
        return try writer.withBytes(body)
    }
}

/// A growable byte buffer over raw memory.
///
/// Appending to `[UInt8]` byte by byte pays a uniqueness and capacity check on every call;
/// here a single capacity check covers each token, and finished output is handed over
/// with one copy.
struct _JSONByteWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    /// A struct, not a tuple, so moving members around uses specialised code rather than
    /// the runtime's generic tuple witnesses.
    private struct Member {
        let key: String
        let value: JSON
    }

    private var sortScratch: [Member] = []

    init() {
        capacity = 256
        base = .allocate(capacity: capacity)
    }

    deinit {
        base.deallocate()
    }

    func append(to buffer: inout [UInt8]) {
        buffer.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    func makeString() -> String {
        String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }

    // MARK: Raw appends

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if capacity - count < extra { grow(extra) }
    }

    @inline(never)
    private mutating func grow(_ extra: Int) {
        let newCapacity = max(capacity * 2, count + extra)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    private mutating func appendUnchecked(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        reserve(1)
        appendUnchecked(byte)
    }

    @inline(__always)
    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).initialize(from: source, count: bytes.count)
        count += bytes.count
    }

    private mutating func append(_ literal: StaticString) {
        append(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    // MARK: Values

    mutating func write(_ value: JSON) {
        switch value {
        case .null:
            append("null")
        case .bool(let flag):
            append(flag ? "true" : "false")
        case .int(let number):
            writeInteger(number)
        case .double(let number):
            writeDouble(number)
        case .string(let string):
            writeString(string)
        case .array(let elements):
            append(0x5B)
            var first = true
            for element in elements {
                if !first { append(0x2C) }
                first = false
                write(element)
            }
            append(0x5D)
        case .object(let members):
            writeObject(members)
        }
    }

    private mutating func writeObject(_ members: [String: JSON]) {
        append(0x7B)
        if members.count == 1, let only = members.first {
            // Nothing to order.
            writeMember(only.key, only.value)
        } else if !members.isEmpty {
            // Members are sorted in a scratch area shared by all objects (nested ones stack
            // above this range and remove themselves), so ordering allocates nothing per object.
            if sortScratch.capacity == 0 {
                // Skips the 1, 2, 4, 8… growth steps on a writer's first object.
                sortScratch.reserveCapacity(32)
            }
            let start = sortScratch.count
            for (key, value) in members {
                sortScratch.append(Member(key: key, value: value))
            }
            let end = sortScratch.count
            sortScratch.withUnsafeMutableBufferPointer { scratch in
                var range = UnsafeMutableBufferPointer(rebasing: scratch[start..<end])
                range.sort { $0.key < $1.key }
            }
            for position in start..<end {
                if position != start { append(0x2C) }
                let member = sortScratch[position]
                writeMember(member.key, member.value)
            }
            sortScratch.removeLast(end - start)
        }
        append(0x7D)
    }

    @inline(__always)
    private mutating func writeMember(_ key: String, _ value: JSON) {
        writeString(key)
        append(0x3A)
        write(value)
    }

    private mutating func writeInteger(_ number: Int) {
        reserve(21)
        if number < 0 { appendUnchecked(0x2D) }
        var magnitude = number.magnitude
        let start = count
        repeat {
            let (quotient, remainder) = magnitude.quotientAndRemainder(dividingBy: 10)
            appendUnchecked(0x30 + UInt8(truncatingIfNeeded: remainder))
            magnitude = quotient
        } while magnitude > 0
        // Digits were produced least significant first.
        var low = start
        var high = count - 1
        while low < high {
            (base[low], base[high]) = (base[high], base[low])
            low += 1
            high -= 1
        }
    }

    /// Swift's `description` is the shortest text that round-trips and is valid JSON for
    /// every finite value (`1.0`, `1e-05`, `1e+16`). Integral values below 2^53, which
    /// `description` prints as digits plus `.0`, are written directly to skip its `String`.
    private mutating func writeDouble(_ number: Double) {
        guard number.isFinite else {
            append("null")
            return
        }
        if number.magnitude < 9_007_199_254_740_992, number.rounded(.towardZero) == number,
           !(number == 0 && number.sign == .minus) {
            writeInteger(Int(number))
            append(".0")
            return
        }
        var text = number.description
        text.withUTF8 { append($0) }
    }

    /// Bit `n` set means ASCII byte `n` (below 64) needs escaping: controls, `"`, `&`, `<`, `>`.
    private static let escapeMaskBelow64: UInt64 = 0x0000_0000_FFFF_FFFF
        | 1 << 0x22 | 1 << 0x26 | 1 << 0x3C | 1 << 0x3E

    private mutating func writeString(_ string: String) {
        var string = string
        string.withUTF8 { writeEscaped($0) }
    }

    /// Copies unescaped runs in bulk and only stops at bytes that need attention.
    private mutating func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count + 2)
        appendUnchecked(0x22)
        let mask = Self.escapeMaskBelow64
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

            var escapedLength = 1
            if byte == 0xE2 {
                // U+2028 / U+2029 are E2 80 A8 / E2 80 A9; any other E2 sequence passes through.
                guard index + 2 < count, bytes[index + 1] == 0x80,
                      bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9
                else {
                    index += 1
                    continue
                }
                escapedLength = 3
            }

            append(UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            reserve(6)
            switch byte {
            case 0x22: appendShortEscape(0x22)
            case 0x5C: appendShortEscape(0x5C)
            case 0x0A: appendShortEscape(UInt8(ascii: "n"))
            case 0x0D: appendShortEscape(UInt8(ascii: "r"))
            case 0x09: appendShortEscape(UInt8(ascii: "t"))
            case 0x08: appendShortEscape(UInt8(ascii: "b"))
            case 0x0C: appendShortEscape(UInt8(ascii: "f"))
            case 0xE2: appendUnicodeEscape(bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029)
            default: appendUnicodeEscape(UInt16(byte))
            }
            index += escapedLength
            runStart = index
        }
        append(UnsafeBufferPointer(rebasing: bytes[runStart..<count]))
        append(0x22)
    }

    /// Requires 2 bytes reserved.
    @inline(__always)
    private mutating func appendShortEscape(_ code: UInt8) {
        appendUnchecked(0x5C)
        appendUnchecked(code)
    }

    /// Requires 6 bytes reserved.
    private mutating func appendUnicodeEscape(_ unit: UInt16) {
        appendUnchecked(0x5C)
        appendUnchecked(UInt8(ascii: "u"))
        var shift: UInt16 = 12
        while true {
            let nibble = UInt8(truncatingIfNeeded: unit &>> shift) & 0x0F
            appendUnchecked(nibble < 10 ? 0x30 + nibble : UInt8(ascii: "a") + nibble - 10)
            if shift == 0 { break }
            shift -= 4
        }
    }
}
