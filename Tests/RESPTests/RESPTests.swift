// Unit tests of the RESP2 parser and encoder, and of the SHA-1 that names scripts.

import NIOCore
import RESP
import Testing

@Suite(.timeLimit(.minutes(1))) struct RESPTests {
    /// One value of every kind and shape, including the awkward ones.
    static let samples: [RESPValue] = [
        .simple("OK"),
        .simple(""),
        .error("ERR unknown command 'FOO'"),
        .integer(0),
        .integer(-1),
        .integer(Int.max),
        .integer(Int.min),
        .bulk([]),
        .bulk(nil),
        .bulk(Array("hello".utf8)),
        .bulk([0x0D, 0x0A, 0x00, 0xFF, 0x24, 0x2A]),  // CR LF NUL and bytes that look like types
        .array([]),
        .array(nil),
        .array([.bulk(Array("a".utf8)), .integer(2), .bulk(nil), .simple("x"), .error("E")]),
        .array([.array([.array([]), .array(nil), .array([.integer(1), .array([.bulk([7])])])]), .integer(3)]),
    ]

    static func encoded(_ values: [RESPValue]) -> [UInt8] {
        var buffer = ByteBuffer()
        for value in values {
            RESPEncoder.write(value, into: &buffer)
        }
        return Array(buffer.readableBytesView)
    }

    /// Parses everything in `buffer`, keeping unread bytes there.
    static func drain(_ parser: inout RESPParser, _ buffer: inout ByteBuffer) throws -> [RESPValue] {
        var values: [RESPValue] = []
        while let value = try parser.next(from: &buffer) {
            values.append(value)
        }
        return values
    }

    static func parseAll(_ bytes: [UInt8]) throws -> [RESPValue] {
        var parser = RESPParser()
        var buffer = ByteBuffer(bytes: bytes)
        let values = try Self.drain(&parser, &buffer)
        #expect(buffer.readableBytes == 0)
        return values
    }

    @Test func parsesEveryKindOfValue() throws {
        let wire = "+OK\r\n-ERR bad\r\n:-42\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*0\r\n*-1\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n"
        let values = try Self.parseAll(Array(wire.utf8))
        #expect(
            values == [
                .simple("OK"), .error("ERR bad"), .integer(-42), .bulk(Array("hello".utf8)), .bulk([]), .bulk(nil),
                .array([]), .array(nil), .array([.bulk(Array("a".utf8)), .array([.integer(1)])]),
            ]
        )
    }

    @Test func encodesAndParsesBackEverySample() throws {
        #expect(try Self.parseAll(Self.encoded(Self.samples)) == Self.samples)
    }

    @Test func encodesCommandsAsArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPEncoder.writeCommand(["SET", "k", "välue", ""], into: &buffer)
        #expect(String(buffer: buffer) == "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nvälue\r\n$0\r\n\r\n")

        buffer.clear()
        RESPEncoder.writeCommand([Array("GET".utf8), [0x00, 0x0D, 0x0A]], into: &buffer)
        #expect(Array(buffer.readableBytesView) == Array("*2\r\n$3\r\nGET\r\n$3\r\n".utf8) + [0x00, 0x0D, 0x0A] + Array("\r\n".utf8))
    }

    @Test func parsesEverySplitOfAMultiReplyBuffer() throws {
        let bytes = Self.encoded(Self.samples)
        for split in 0...bytes.count {
            var parser = RESPParser()
            var buffer = ByteBuffer(bytes: bytes[..<split])
            var values = try Self.drain(&parser, &buffer)
            buffer.writeBytes(bytes[split...])
            values += try Self.drain(&parser, &buffer)
            #expect(values == Self.samples, "split at byte \(split)")
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func parsesByteByByte() throws {
        let bytes = Self.encoded(Self.samples)
        var parser = RESPParser()
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        for byte in bytes {
            buffer.writeInteger(byte)
            values += try Self.drain(&parser, &buffer)
        }
        #expect(values == Self.samples)
    }

    @Test func parsesAnEightMegabyteBulkStringArrivingIn64KBReads() throws {
        var payload = [UInt8](repeating: 0x2A, count: 8 << 20)
        for index in stride(from: 0, to: payload.count, by: 4093) {
            payload[index] = UInt8(truncatingIfNeeded: index)
        }
        let bytes = Self.encoded([.bulk(payload), .simple("after")])
        var parser = RESPParser()
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        for start in stride(from: 0, to: bytes.count, by: 65536) {
            buffer.writeBytes(bytes[start..<min(start + 65536, bytes.count)])
            values += try Self.drain(&parser, &buffer)
        }
        #expect(values.count == 2)
        #expect(values.first == .bulk(payload))
        #expect(values.last == .simple("after"))
    }

    @Test func parsesALargeArrayArrivingInSmallReads() throws {
        let elements = (0..<50_000).map { RESPValue.bulk(Array("field:\($0)".utf8)) }
        let bytes = Self.encoded([.array(elements)])
        var parser = RESPParser()
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        for start in stride(from: 0, to: bytes.count, by: 1000) {
            buffer.writeBytes(bytes[start..<min(start + 1000, bytes.count)])
            values += try Self.drain(&parser, &buffer)
            // Finished elements are taken out of the buffer, not re-read on every read.
            #expect(buffer.readableBytes < 1100)
        }
        #expect(values == [.array(elements)])
    }

    @Test(arguments: [
        ("%1\r\n", "expected a type byte"),
        ("hello\r\n", "expected a type byte"),
        (":12a\r\n", "not a valid integer"),
        (":\r\n", "not a valid integer"),
        (":+5\r\n", "not a valid integer"),
        (":99999999999999999999\r\n", "not a valid integer"),
        ("$-2\r\n", "negative bulk string length"),
        ("$3\r\nabcd\r\n", "not followed by CRLF"),
        ("*-3\r\n", "negative array length"),
        ("+OK\rX", "CR not followed by LF"),
        ("+OK\n", "LF without CR"),
        ("$123456789012345678901234\r\n", "line longer than"),
    ])
    func rejectsMalformedInput(input: String, reason: String) throws {
        var parser = RESPParser()
        var buffer = ByteBuffer(string: input)
        let error = try #require(throws: RESPParseError.self) { try Self.drain(&parser, &buffer) }
        #expect(error.reason.contains(reason), "\(error.reason)")
    }

    @Test func rejectsInputBeyondTheLimits() throws {
        let limited = RESPParser(maxBulkLength: 10, maxDepth: 3, maxLineLength: 8)
        var parser = limited
        var buffer = ByteBuffer(string: "$11\r\n")
        var error = try #require(throws: RESPParseError.self) { try parser.next(from: &buffer) }
        #expect(error.reason == "bulk string of 11 bytes exceeds the limit of 10")

        parser = limited
        buffer = ByteBuffer(string: "*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n")
        error = try #require(throws: RESPParseError.self) { try parser.next(from: &buffer) }
        #expect(error.reason == "arrays nested more than 3 deep")

        // A line that never ends is refused once it is too long, not buffered forever.
        parser = limited
        buffer = ByteBuffer(string: "+12345678")
        #expect(try parser.next(from: &buffer) == nil)
        buffer.writeString("9")
        error = try #require(throws: RESPParseError.self) { try parser.next(from: &buffer) }
        #expect(error.reason == "line longer than 8 bytes")
    }

    @Test func accessorsReadTheUsualShapes() {
        #expect(RESPValue.bulk(Array("12".utf8)).int == 12)
        #expect(RESPValue.integer(7).int == 7)
        #expect(RESPValue.simple("OK").string == "OK")
        #expect(RESPValue.bulk(Array("é".utf8)).string == "é")
        #expect(RESPValue.bulk(nil).string == nil)
        #expect(RESPValue.bulk(nil).isNull && RESPValue.array(nil).isNull && !RESPValue.bulk([]).isNull)
        #expect(RESPValue.array([.integer(1)]).array == [.integer(1)])
        #expect(RESPValue.error("ERR x").errorMessage == "ERR x")
        #expect(RedisError(message: "NOSCRIPT No matching script").code == "NOSCRIPT")
        #expect(RESPValue.array([.bulk(Array("a".utf8)), .bulk([0xFF]), .bulk(nil)]).description == "[\"a\", <1 bytes>, nil]")
    }

    @Test func computesSHA1AsRedisNamesScripts() {
        #expect(RedisScript("").sha1 == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(RedisScript("abc").sha1 == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(
            RedisScript("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").sha1
                == "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        )
        #expect(RedisScript(String(repeating: "a", count: 1000)).sha1 == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }
}
