// Verifies the JSON value type end to end: Codable bridge, strict parser, HTML-safe serializer and literals.

import Foundation
import Testing

@testable import RillJSON

// MARK: - Fixtures

private struct Address: Codable, Equatable {
    var street: String
    var zip: String?
}

private enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case rect(width: Int, height: Int)
    case point
}

private enum Status: String, Codable {
    case active, suspended
}

private struct Person: Codable, Equatable {
    var name: String
    var age: Int
    var score: Double
    var ratio: Float
    var small: Int8
    var big: UInt64
    var nickname: String?
    var tags: [String]
    var address: Address
    var previous: [Address]
    var shapes: [Shape]
    var status: Status
    var counts: [String: Int]
    var byID: [Int: String]
    var matrix: [[Int]]
    var sparse: [Int?]
    var extra: JSON
    var flags: [Bool]
}

private let samplePerson = Person(
    name: "Ada \"the\" <Countess> & co\n😀",
    age: 36,
    score: 2.0,
    ratio: 0.1,
    small: -128,
    big: 9_000_000_000,
    nickname: nil,
    tags: ["math", "engines", ""],
    address: Address(street: "12 St James's Sq", zip: nil),
    previous: [Address(street: "Ockham Park", zip: "KT24")],
    shapes: [.circle(radius: 1.5), .rect(width: 2, height: 3), .point],
    status: .active,
    counts: ["a": 1, "b": -2],
    byID: [7: "seven", -1: "minus one"],
    matrix: [[1, 2], [], [3]],
    sparse: [1, nil, 3],
    extra: ["nested": [1, 2.5, nil, "x"], "ok": true],
    flags: [true, false]
)

private struct Item: Codable, Equatable {
    var name: String
    var qty: Int
}

private struct Order: Codable, Equatable {
    var id: Int
    var items: [Item]
}

private struct Optionals: Codable, Equatable {
    var a: Int?
    var b: String?
    var c: [Int]?
}

/// Exercises `superEncoder`/`superDecoder` the way class hierarchies do.
private class Animal: Codable {
    let legs: Int
    init(legs: Int) { self.legs = legs }
}

private final class Dog: Animal {
    let name: String

    init(name: String, legs: Int) {
        self.name = name
        super.init(legs: legs)
    }

    private enum CodingKeys: String, CodingKey { case name }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        try super.init(from: container.superDecoder())
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try super.encode(to: container.superEncoder())
    }
}

/// Hand-written containers: nested keyed/unkeyed in both directions, plus an unkeyed super-encoder.
private struct Polyline: Codable, Equatable {
    var label: String
    var points: [(x: Int, y: Int)]

    static func == (lhs: Polyline, rhs: Polyline) -> Bool {
        lhs.label == rhs.label && lhs.points.elementsEqual(rhs.points) { $0 == $1 }
    }

    init(label: String, points: [(x: Int, y: Int)]) {
        self.label = label
        self.points = points
    }

    private enum Keys: String, CodingKey { case meta, points }
    private enum MetaKeys: String, CodingKey { case label }
    private enum PointKeys: String, CodingKey { case x, y }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        var meta = container.nestedContainer(keyedBy: MetaKeys.self, forKey: .meta)
        var list = container.nestedUnkeyedContainer(forKey: .points)
        // Written after both nested containers exist, to prove they are resolved late.
        try meta.encode(label, forKey: .label)
        for point in points {
            var pair = list.nestedUnkeyedContainer()
            try pair.encode(point.x)
            try pair.encode(point.y)
        }
        var tail = list.nestedContainer(keyedBy: PointKeys.self)
        try tail.encode(points.count, forKey: .x)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        label = try container.nestedContainer(keyedBy: MetaKeys.self, forKey: .meta).decode(String.self, forKey: .label)
        var list = try container.nestedUnkeyedContainer(forKey: .points)
        var points: [(x: Int, y: Int)] = []
        // The last element is the keyed trailer, not a point.
        while list.currentIndex < (list.count ?? 0) - 1 {
            var pair = try list.nestedUnkeyedContainer()
            points.append((try pair.decode(Int.self), try pair.decode(Int.self)))
        }
        let tail = try list.nestedContainer(keyedBy: PointKeys.self)
        guard try tail.decode(Int.self, forKey: .x) == points.count else {
            throw DecodingError.dataCorruptedError(forKey: .x, in: tail, debugDescription: "count mismatch")
        }
        self.points = points
    }
}

private struct Pair: Decodable {
    var first: Int
    var second: Int

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        first = try container.decode(Int.self)
        second = try container.decode(Int.self)
    }
}

private struct EncodesNothing: Encodable {
    func encode(to encoder: any Encoder) throws {}
}

private struct Holder<Value: Encodable>: Encodable {
    var value: Value
}

// MARK: - Helpers

private func renderPath(_ path: [any CodingKey]) -> [String] {
    path.map { $0.intValue.map(String.init) ?? $0.stringValue }
}

private func decodingError<T: Decodable>(_ type: T.Type, from json: JSON) -> DecodingError? {
    do {
        _ = try json.decode(T.self)
        return nil
    } catch let error as DecodingError {
        return error
    } catch {
        return nil
    }
}

private func parseError(_ text: String) -> JSONParseError? {
    do {
        _ = try JSON(parsing: text)
        return nil
    } catch let error as JSONParseError {
        return error
    } catch {
        return nil
    }
}

// MARK: - Tests

@Suite struct JSONTests {
    // MARK: Round trips

    @Test func nestedValueRoundTripsThroughTextAndBack() throws {
        let json = try JSON(encoding: samplePerson)
        let text = json.serialized()
        let parsed = try JSON(parsing: text)
        #expect(parsed == json)
        #expect(try parsed.decode(Person.self) == samplePerson)

        // Spot-check the tree shape, not just that decoding undoes encoding.
        #expect(json["nickname"] == nil, "encodeIfPresent must omit nil members")
        #expect(json["address"]?["zip"] == nil)
        #expect(json["score"] == .double(2.0))
        #expect(json["ratio"] == .double(0.1), "Float widens through its shortest form")
        #expect(json["big"] == .int(9_000_000_000))
        #expect(json["status"] == "active")
        #expect(json["sparse"] == [1, nil, 3])
        #expect(json["shapes"]?[0] == ["circle": ["radius": 1.5]])
        #expect(json["shapes"]?[2] == ["point": [:]])
        #expect(json["byID"] == ["7": "seven", "-1": "minus one"])
        #expect(text.contains("\"score\":2.0"))
    }

    @Test func decodeInfersTypeFromContext() throws {
        let source: JSON = ["id": 9, "items": [["name": "a", "qty": 1]]]
        let order: Order = try source.decode()
        #expect(order == Order(id: 9, items: [Item(name: "a", qty: 1)]))
    }

    @Test func superEncoderAndDecoderRoundTrip() throws {
        let json = try JSON(encoding: Dog(name: "Rex", legs: 4))
        #expect(json == ["name": "Rex", "super": ["legs": 4]])
        let dog = try json.decode(Dog.self)
        #expect(dog.name == "Rex")
        #expect(dog.legs == 4)
    }

    @Test func nestedContainersResolveAfterLateWrites() throws {
        let line = Polyline(label: "route", points: [(1, 2), (3, 4)])
        let json = try JSON(encoding: line)
        #expect(json == ["meta": ["label": "route"], "points": [[1, 2], [3, 4], ["x": 2]]])
        #expect(try json.decode(Polyline.self) == line)
    }

    @Test func optionalsDecodeFromNullOrMissing() throws {
        let partial: JSON = ["a": nil, "c": [1]]
        #expect(try partial.decode(Optionals.self) == Optionals(a: nil, b: nil, c: [1]))
        #expect(try JSON.object([:]).decode(Optionals.self) == Optionals())
        #expect(try JSON(encoding: Optionals()) == [:])
        #expect(try JSON(encoding: Optionals(a: 1)) == ["a": 1])
        #expect(try JSON.null.decode(Int?.self) == nil)
        #expect(try JSON.int(3).decode(Int?.self) == 3)
        // Present but wrong kind is still an error, not a silent nil.
        let error = decodingError(Optionals.self, from: ["b": 5])
        guard case .typeMismatch(_, let context)? = error else {
            Issue.record("expected typeMismatch, got \(String(describing: error))")
            return
        }
        #expect(renderPath(context.codingPath) == ["b"])
    }

    @Test func jsonNestsInsideCodableAndPassesThroughUnchanged() throws {
        let payload: JSON = ["k": [1, 2.5, "s", nil, true, ["deep": []]]]
        let wrapped = try JSON(encoding: Holder(value: payload))
        #expect(wrapped == ["value": payload])
        #expect(try wrapped["value"]?.decode(JSON.self) == payload)
        #expect(try JSON(encoding: payload) == payload)
    }

    @Test func worksWithFoundationCoders() throws {
        let value: JSON = ["name": "x", "n": 3, "f": 2.5, "list": [true, nil, "<&>"], "empty": [:]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSON.self, from: data) == value)
        #expect(try JSON(parsing: data) == value)
        let order = Order(id: 1, items: [Item(name: "a", qty: 2)])
        let viaFoundation = try JSONDecoder().decode(JSON.self, from: JSONEncoder().encode(order))
        #expect(viaFoundation == (try JSON(encoding: order)))
    }

    // MARK: Encoding

    @Test func topLevelScalarsAndFastPaths() throws {
        #expect(try JSON(encoding: 5) == .int(5))
        #expect(try JSON(encoding: "s") == .string("s"))
        #expect(try JSON(encoding: true) == .bool(true))
        #expect(try JSON(encoding: 1.5) == .double(1.5))
        #expect(try JSON(encoding: Int?.none) == .null)
        #expect(try JSON(encoding: ["a", "b"]) == ["a", "b"])
        #expect(try JSON(encoding: [1, 2]) == [1, 2])
        #expect(try JSON(encoding: ["k": "v"]) == ["k": "v"])
        #expect(try JSON(encoding: UInt8(255)) == 255)
        #expect(try JSON(encoding: Int64.min) == .int(.min))
    }

    @Test func encodingRejectsNonFiniteAndOversizedNumbers() throws {
        let cases: [(() throws -> JSON, [String])] = [
            ({ try JSON(encoding: Double.nan) }, []),
            ({ try JSON(encoding: Holder(value: Double.infinity)) }, ["value"]),
            ({ try JSON(encoding: Holder(value: [1.0, -.infinity])) }, ["value", "1"]),
            ({ try JSON(encoding: Holder(value: [Float.nan])) }, ["value", "0"]),
            ({ try JSON(encoding: Holder(value: UInt64.max)) }, ["value"]),
        ]
        for (encode, expectedPath) in cases {
            do {
                let value = try encode()
                Issue.record("expected EncodingError, got \(value)")
            } catch EncodingError.invalidValue(_, let context) {
                #expect(renderPath(context.codingPath) == expectedPath)
            }
        }
    }

    @Test func valuesThatEncodeNothing() throws {
        #expect(throws: EncodingError.self) { try JSON(encoding: EncodesNothing()) }
        #expect(try JSON(encoding: Holder(value: EncodesNothing())) == ["value": [:]])
    }

    // MARK: Numbers

    @Test(arguments: [
        ("0", JSON.int(0)),
        ("-0", .int(0)),
        ("42", .int(42)),
        ("-7", .int(-7)),
        ("9223372036854775807", .int(.max)),
        ("-9223372036854775808", .int(.min)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)),
        ("1.0", .double(1)),
        ("1e2", .double(100)),
        ("1E+2", .double(100)),
        ("25e-1", .double(2.5)),
        ("0.1", .double(0.1)),
        ("-12.5e3", .double(-12_500)),
        ("0.30000000000000004", .double(0.30000000000000004)),
        ("1.7976931348623157e308", .double(.greatestFiniteMagnitude)),
        ("5e-324", .double(.leastNonzeroMagnitude)),
        ("9007199254740992.0", .double(9_007_199_254_740_992)),
        ("9007199254740992.0000", .double(9_007_199_254_740_992)),
        ("9007199254740993.5", .double(9_007_199_254_740_994)),
        ("18446744073709549568", .double(18_446_744_073_709_549_568)),
        ("1e20", .double(1e20)),
        ("0e-400", .double(0)),
    ])
    func numberClassification(text: String, expected: JSON) throws {
        let parsed = try JSON(parsing: text)
        #expect(parsed == expected)
        #expect(parsed.kindName == expected.kindName)
    }

    @Test func negativeZeroKeepsItsSignAsDouble() throws {
        guard case .double(let value) = try JSON(parsing: "-0.0") else {
            Issue.record("-0.0 must parse as a double")
            return
        }
        #expect(value == 0 && value.sign == .minus)
        #expect(JSON.double(-0.0).serialized() == "-0.0")
    }

    @Test func numericDecodingIsLosslessOnly() throws {
        #expect(try JSON.int(3).decode(Double.self) == 3.0)
        #expect(try JSON.int(3).decode(Float.self) == 3.0)
        #expect(try JSON.double(3.0).decode(Int.self) == 3)
        #expect(try JSON.double(-4.0).decode(Int8.self) == -4)
        #expect(try JSON.double(0.1).decode(Float.self) == Float(0.1))
        #expect(try JSON.int(255).decode(UInt8.self) == 255)
        #expect(try JSON.int(.max).decode(UInt64.self) == UInt64(Int.max))

        let outOfRange: [(JSON, any Decodable.Type, String)] = [
            (.double(3.5), Int.self, "3.5"),
            (.int(300), Int8.self, "300"),
            (.int(-1), UInt.self, "-1"),
            (.int(70_000), UInt16.self, "70000"),
            (.double(1e20), Int.self, "1e+20"),
            (.double(1e300), Float.self, "1e+300"),
        ]
        for (value, type, named) in outOfRange {
            let error = decodingError(type, from: value)
            guard case .dataCorrupted(let context)? = error else {
                Issue.record("\(value) as \(type): expected dataCorrupted, got \(String(describing: error))")
                continue
            }
            #expect(context.debugDescription.contains(named), "\(context.debugDescription)")
            #expect(context.debugDescription.contains("\(type)"))
        }
    }

    @Test func noCoercionBetweenStringsNumbersAndBools() {
        let cases: [(JSON, any Decodable.Type, String)] = [
            (.int(1), String.self, "expected String, found integer"),
            (.double(1.5), String.self, "expected String, found number"),
            (.string("1"), Int.self, "expected Int, found string"),
            (.string("1.5"), Double.self, "expected Double, found string"),
            (.int(1), Bool.self, "expected Bool, found integer"),
            (.string("true"), Bool.self, "expected Bool, found string"),
            (.bool(true), Int.self, "expected Int, found boolean"),
            (.array([]), Int.self, "expected Int, found array"),
            (.object([:]), [Int].self, "expected array, found object"),
            (.array([]), Item.self, "expected object, found array"),
        ]
        for (value, type, message) in cases {
            let error = decodingError(type, from: value)
            guard case .typeMismatch(_, let context)? = error else {
                Issue.record("\(value) as \(type): expected typeMismatch, got \(String(describing: error))")
                continue
            }
            #expect(context.debugDescription.contains(message), "\(context.debugDescription)")
            #expect(context.codingPath.isEmpty)
        }
    }

    // MARK: Decoding errors

    @Test func typeMismatchReportsFullPath() {
        let json: JSON = ["id": 1, "items": [["name": "a", "qty": 1], ["name": "b", "qty": 2], ["name": 7, "qty": 3]]]
        let error = decodingError(Order.self, from: json)
        guard case .typeMismatch(let type, let context)? = error else {
            Issue.record("expected typeMismatch, got \(String(describing: error))")
            return
        }
        #expect(ObjectIdentifier(type) == ObjectIdentifier(String.self))
        #expect(renderPath(context.codingPath) == ["items", "2", "name"])
        #expect(context.debugDescription.contains("expected String, found integer"))
    }

    @Test func missingKeyReportsKeyAndContainerPath() {
        let json: JSON = ["id": 1, "items": [["name": "a", "qty": 1], ["name": "b"]]]
        let error = decodingError(Order.self, from: json)
        guard case .keyNotFound(let key, let context)? = error else {
            Issue.record("expected keyNotFound, got \(String(describing: error))")
            return
        }
        #expect(key.stringValue == "qty")
        #expect(renderPath(context.codingPath) == ["items", "1"])
    }

    @Test func nullForRequiredValueIsValueNotFound() {
        let error = decodingError(Order.self, from: ["id": nil, "items": []])
        guard case .valueNotFound(_, let context)? = error else {
            Issue.record("expected valueNotFound, got \(String(describing: error))")
            return
        }
        #expect(renderPath(context.codingPath) == ["id"])
        #expect(context.debugDescription.contains("expected Int, found null"))
    }

    @Test func unkeyedContainerAtEndReportsIndex() throws {
        #expect(try JSON.array([1, 2]).decode(Pair.self).second == 2)
        let error = decodingError(Pair.self, from: [1])
        guard case .valueNotFound(_, let context)? = error else {
            Issue.record("expected valueNotFound, got \(String(describing: error))")
            return
        }
        #expect(renderPath(context.codingPath) == ["1"])
    }

    @Test func fastPathArrayErrorsCarryElementIndex() {
        let error = decodingError([String: [Int]].self, from: ["xs": [1, 2, "3"]])
        guard case .typeMismatch(_, let context)? = error else {
            Issue.record("expected typeMismatch, got \(String(describing: error))")
            return
        }
        #expect(renderPath(context.codingPath) == ["xs", "2"])
    }

    // MARK: Parser

    @Test(arguments: [
        "", " ", "[", "]", "{", "}", ",", ":",
        "[1,]", "[,1]", "[1,,2]", "[1 2]", "[1;2]",
        "{\"a\":1,}", "{,}", "{\"a\" 1}", "{\"a\":}", "{a:1}", "{1:2}", "{\"a\":1 \"b\":2}", "{'a':1}",
        "01", "-01", "00", "1.", ".5", "-", "+1", "1e", "1e+", "1.e3", "0x10", "1_000",
        "NaN", "Infinity", "-Infinity", "1e400", "-1e400",
        // Numbers a Double would silently change: refused, never rounded.
        "-9223372036854775809", "18446744073709551615", "123456789012345678901234567890",
        "9007199254740993.0", "90071992547409930e-1", "9007199254740993.0000", "900719925474099300e-2", "1e-400", "-1e-400", "0.1e-330",
        "nul", "tru", "fals", "True", "NULL", "nulll",
        "null x", "1 2", "{} {}", "[]]", "\"a\"\"b\"",
        "\"abc", "\"\\", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\U0041\"",
        "\"\\uD800\"", "\"\\uDC00\"", "\"\\uD800\\u0041\"", "\"\\uD800x\"", "\"\\uDBFF\\uDBFF\"",
        "\"a\tb\"", "\"a\nb\"", "\"\u{01}\"", "\"\u{1F}\"",
        "// c\n1", "/* c */1", "[1]//", "#1", "'single'",
        "\u{FEFF}1", "\u{A0}1", "\u{0B}1",
    ])
    func parserRejects(text: String) {
        #expect(throws: JSONParseError.self) { try JSON(parsing: text) }
    }

    @Test(arguments: [
        [0x22, 0xFF, 0x22],
        [0x22, 0x80, 0x22],
        [0x22, 0xC0, 0xAF, 0x22],
        [0x22, 0xC1, 0xBF, 0x22],
        [0x22, 0xE0, 0x80, 0xAF, 0x22],
        [0x22, 0xED, 0xA0, 0x80, 0x22],
        [0x22, 0xED, 0xBF, 0xBF, 0x22],
        [0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22],
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],
        [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22],
        [0x22, 0xE2, 0x82, 0x22],
        [0x22, 0xE2, 0x82],
        [0x22, 0xC3],
        [0x22, 0x5C, 0x6E, 0xFF, 0x22],
        [0x31, 0x00],
        [0x00],
    ] as [[UInt8]])
    func parserRejectsInvalidUTF8AndStrayBytes(bytes: [UInt8]) {
        #expect(throws: JSONParseError.self) { try JSON(parsing: bytes) }
    }

    @Test func parseErrorsLocateTheProblem() throws {
        let cases: [(String, Int, String)] = [
            ("[1,]", 3, "trailing comma"),
            ("{\"a\":1,}", 7, "trailing comma"),
            ("1 2", 2, "after top-level value"),
            ("\"a\u{01}\"", 2, "control character"),
            ("[01]", 1, "leading zeros"),
            ("  \"\\uDC00\"", 3, "low surrogate"),
            ("[1, 2", 5, "unterminated array"),
            ("  \"abc", 2, "unterminated string"),
            ("", 0, "end of input"),
            ("1e999", 0, "out of range"),
        ]
        for (text, offset, reason) in cases {
            let error = try #require(parseError(text), "\(text) should not parse")
            #expect(error.offset == offset, "\(text): \(error)")
            #expect(error.reason.contains(reason), "\(text): \(error)")
            #expect(error.description.contains("\(offset)") && error.description.contains(error.reason))
        }
    }

    @Test func nestingDepthIsCapped() throws {
        func nested(_ depth: Int) -> String {
            String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        }
        let deepest = try JSON(parsing: nested(512))
        // Everything downstream of the parser recurses, so the deepest accepted tree must survive it.
        #expect(deepest.serialized() == nested(512))
        #expect(try JSON(encoding: deepest).decode(JSON.self) == deepest)
        let error = try #require(parseError(nested(513)))
        #expect(error.reason.contains("depth"))
        #expect(error.offset == 512)
        #expect(parseError(nested(10_000)) != nil)
        #expect(parseError(String(repeating: "{\"a\":", count: 10_000)) != nil)
        #expect(parseError(String(repeating: "[{\"a\":", count: 5_000)) != nil)
    }

    @Test func whitespaceAroundValuesIsAllowed() throws {
        let parsed = try JSON(parsing: " \t\r\n{ \"a\" : [ 1 , true , null ] , \"b\" :\"c\" }\n ")
        #expect(parsed == ["a": [1, true, nil], "b": "c"])
        #expect(try JSON(parsing: "  7  ") == 7)
        #expect(try JSON(parsing: "[]") == [])
        #expect(try JSON(parsing: "{}") == [:])
        #expect(try JSON(parsing: "{\"a\":1,\"a\":2}") == ["a": 2])
    }

    @Test func parsesFromAnyByteCollection() throws {
        let text = "{\"a\": [1, 2.5, \"é\"]}"
        let expected: JSON = ["a": [1, 2.5, "é"]]
        #expect(try JSON(parsing: Array(text.utf8)) == expected)
        #expect(try JSON(parsing: Array(text.utf8)[...]) == expected)
        #expect(try JSON(parsing: text.utf8) == expected)
        #expect(try JSON(parsing: text.utf8.lazy.map { $0 }) == expected, "non-contiguous collections are copied")
    }

    // MARK: Strings

    @Test func stringEscapesAndSurrogatePairs() throws {
        let text = #""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\uD83D\uDE00\ud83d\ude00 \u0000end""#
        #expect(try JSON(parsing: text) == .string("\"\\/\u{8}\u{C}\n\r\tAé€😀😀 \u{0}end"))
        #expect(try JSON(parsing: "\"raw é€😀 and \\n escaped\"") == "raw é€😀 and \n escaped")
        #expect(try JSON(parsing: "\"\\uDBFF\\uDFFF\"") == .string("\u{10FFFF}"))
        #expect(try JSON(parsing: "\"\"") == "")
    }

    @Test func serializerEscapesMandatoryAndHTMLSensitiveCharacters() throws {
        #expect(JSON.string("q\"b\\s/").serialized() == #""q\"b\\s/""#)
        #expect(JSON.string("\n\r\t\u{8}\u{C}\u{0}\u{1F}").serialized() == #""\n\r\t\b\f\u0000\u001f""#)
        #expect(JSON.string("</script><b>&amp;").serialized() == #""\u003c/script\u003e\u003cb\u003e\u0026amp;""#)
        #expect(JSON.string("a\u{2028}b\u{2029}c").serialized() == #""a\u2028b\u2029c""#)
        // Other characters, including ones sharing U+2028's lead byte, pass through raw.
        #expect(JSON.string("é€\u{2027}\u{202A}😀\u{7F}").serialized() == "\"é€\u{2027}\u{202A}😀\u{7F}\"")
        #expect(JSON.object(["<k>": "v"]).serialized() == #"{"\u003ck\u003e":"v"}"#)

        let tricky = "\u{2028}<&>\"\\\u{0}\u{1}é😀\u{2029}\u{E2}"
        #expect(try JSON(parsing: JSON.string(tricky).serialized()) == .string(tricky))
    }

    // MARK: Serializer

    @Test func serializationIsCompactAndSorted() {
        let value: JSON = ["b": 1, "a": [true, nil, false], "c": ["z": 1.5, "y": "s", "x": [:], "w": []]]
        #expect(value.serialized() == #"{"a":[true,null,false],"b":1,"c":{"w":[],"x":{},"y":"s","z":1.5}}"#)
        #expect(value.description == value.serialized())
    }

    @Test func numberSerialization() throws {
        #expect(JSON.int(0).serialized() == "0")
        #expect(JSON.int(-9).serialized() == "-9")
        #expect(JSON.int(1_234_567_890).serialized() == "1234567890")
        #expect(JSON.int(.max).serialized() == "9223372036854775807")
        #expect(JSON.int(.min).serialized() == "-9223372036854775808")
        #expect(JSON.double(2.0).serialized() == "2.0")
        #expect(JSON.double(0.1).serialized() == "0.1")
        #expect(JSON.double(.infinity).serialized() == "null")
        #expect(JSON.double(-.infinity).serialized() == "null")
        #expect(JSON.double(.nan).serialized() == "null")
        for value in [1e-7, 1e16, 1e300, -2.5e-300, .leastNonzeroMagnitude, 123.456, 0.30000000000000004] {
            #expect(try JSON(parsing: JSON.double(value).serialized()) == .double(value), "\(value)")
        }
    }

    @Test func serializeAppendsToExistingBuffer() throws {
        var buffer: [UInt8] = Array("data: ".utf8)
        JSON.array([1, "two"]).serialize(into: &buffer)
        buffer.append(0x0A)
        JSON.null.serialize(into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "data: [1,\"two\"]\nnull")
    }

    // MARK: Literals and accessors

    @Test func literalsBuildTheExpectedCases() {
        let value: JSON = ["n": nil, "b": true, "i": 1, "d": 2.5, "s": "x", "a": [1, "y"], "o": ["k": false]]
        #expect(value == .object([
            "n": .null, "b": .bool(true), "i": .int(1), "d": .double(2.5), "s": .string("x"),
            "a": .array([.int(1), .string("y")]), "o": .object(["k": .bool(false)]),
        ]))
        let duplicate: JSON = ["k": 1, "k": 2]
        #expect(duplicate == ["k": 2])
    }

    @Test func subscriptsAndKindNames() {
        let value: JSON = ["list": [10, 20], "name": "n"]
        #expect(value["list"]?[1] == 20)
        #expect(value["list"]?[2] == nil)
        #expect(value["list"]?[-1] == nil)
        #expect(value["missing"] == nil)
        #expect(value["name"]?["x"] == nil)
        #expect(value[0] == nil)
        let kinds: [(JSON, String)] = [
            (nil, "null"), (true, "boolean"), (1, "integer"), (1.5, "number"),
            ("s", "string"), ([], "array"), ([:], "object"),
        ]
        for (json, name) in kinds {
            #expect(json.kindName == name)
        }
    }
}
