// The `JSON` value type: literal syntax, accessors, Codable conformance, and the coding-path plumbing the bridges share.
//
// Why a JSON module of its own: Foundation has no JSON value type (JSONSerialization hands back
// `Any`, JSONEncoder needs a Codable type per shape), and Rill moves JSON values everywhere:
// deltas, payloads, page trees, stored states. This module gives a typed value with literals, a
// strict RFC 8259 parser that never rounds a number silently, and a serializer that writes
// sorted, HTML-safe text straight into a socket's buffer. Measured in the events benchmark
// (docs/benchmarks.md): parsing a message is about 5% of the server's CPU per event, serializing
// and writing its delta about 10%.

/// An immutable JSON document or fragment.
///
/// `JSON` is the currency type for event payloads: it is `Sendable`, cheap to copy
/// (arrays and objects are copy-on-write), and converts to and from `Codable` types
/// without going through text. Numbers keep the distinction the wire format makes:
/// a literal with no fraction or exponent that fits in `Int` is ``int(_:)``, anything
/// else is ``double(_:)``.
///
/// ```swift
/// let payload: JSON = ["id": 42, "tags": ["a", "b"], "score": 0.5, "next": nil]
/// let text = payload.serialized()            // {"id":42,"next":null,"score":0.5,"tags":["a","b"]}
/// let back = try JSON(parsing: text)         // == payload
/// let user = try JSON(encoding: someUser).decode(User.self)
/// ```
public enum JSON: Sendable, Hashable {
    /// The JSON `null` literal.
    case null
    /// A JSON `true` or `false`.
    case bool(Bool)
    /// A JSON number written without fraction or exponent whose value fits in `Int`.
    case int(Int)
    /// Any other JSON number. Values parsed from text are always finite.
    case double(Double)
    /// A JSON string.
    case string(String)
    /// A JSON array.
    case array([JSON])
    /// A JSON object. Member order is not preserved; serialization sorts keys.
    case object([String: JSON])
}

// MARK: - Accessors

extension JSON {
    /// The member named `key` when this value is an object, otherwise `nil`.
    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The element at `index` when this value is an array and the index is in bounds, otherwise `nil`.
    ///
    /// Out-of-range indices return `nil` rather than trapping, because payloads come from
    /// outside the process and their shape is never guaranteed.
    public subscript(index: Int) -> JSON? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// A short, human-readable name for this value's kind, for use in error messages:
    /// `"null"`, `"boolean"`, `"integer"`, `"number"`, `"string"`, `"array"` or `"object"`.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    @inline(__always)
    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

// MARK: - Literals

extension JSON: ExpressibleByNilLiteral {
    /// Creates ``null``.
    public init(nilLiteral: ()) {
        self = .null
    }
}

extension JSON: ExpressibleByBooleanLiteral {
    /// Creates a ``bool(_:)`` value.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension JSON: ExpressibleByIntegerLiteral {
    /// Creates an ``int(_:)`` value.
    public init(integerLiteral value: Int) {
        self = .int(value)
    }
}

extension JSON: ExpressibleByFloatLiteral {
    /// Creates a ``double(_:)`` value.
    public init(floatLiteral value: Double) {
        self = .double(value)
    }
}

extension JSON: ExpressibleByStringLiteral {
    /// Creates a ``string(_:)`` value.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension JSON: ExpressibleByArrayLiteral {
    /// Creates an ``array(_:)`` value.
    public init(arrayLiteral elements: JSON...) {
        self = .array(elements)
    }
}

extension JSON: ExpressibleByDictionaryLiteral {
    /// Creates an ``object(_:)`` value.
    ///
    /// A repeated key keeps its last value, matching what parsing the equivalent text
    /// would do, instead of trapping like `Dictionary(uniqueKeysWithValues:)`.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        var members: [String: JSON] = [:]
        members.reserveCapacity(elements.count)
        for (key, value) in elements {
            members[key] = value
        }
        self = .object(members)
    }
}

// MARK: - Text

extension JSON: CustomStringConvertible {
    /// The compact serialized form, identical to ``serialized()``.
    public var description: String {
        serialized()
    }
}

// MARK: - Codable

extension JSON: Codable {
    /// Decodes an arbitrary JSON value from any decoder.
    ///
    /// Rill's own decoder hands over its stored value directly. Other decoders (such as
    /// Foundation's `JSONDecoder`) are probed kind by kind, most specific first, so an
    /// integral number stays ``int(_:)``.
    public init(from decoder: any Decoder) throws {
        if let own = decoder as? _JSONValueDecoder {
            self = own.value
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSON].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "Value is not null, a boolean, a number, a string, an array or an object."
            )
        }
    }

    /// Encodes this value into any encoder.
    ///
    /// Rill's own encoder stores the value as is; other encoders receive the matching
    /// primitive, array or dictionary.
    public func encode(to encoder: any Encoder) throws {
        if let own = encoder as? _JSONValueEncoder {
            own.storage = .value(self)
            return
        }
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

// MARK: - Coding paths (shared by encoder and decoder)

/// A coding key the containers mint themselves: array positions and the `super` key.
struct _JSONCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }

    /// Matches Foundation's spelling so error messages read the same either way.
    init(index: Int) {
        self.stringValue = "Index \(index)"
        self.intValue = index
    }

    static let superKey = _JSONCodingKey(stringValue: "super")
}

/// One step of a coding path.
enum _JSONPathComponent {
    case key(any CodingKey)
    case index(Int)

    var codingKey: any CodingKey {
        switch self {
        case .key(let key): key
        case .index(let index): _JSONCodingKey(index: index)
        }
    }
}

/// A coding path stored as a parent-linked list.
///
/// Codable asks for `codingPath` only when something goes wrong, so building an
/// `[CodingKey]` array at every level would be wasted work; a shared tail costs one small
/// allocation per nesting level and materialises the array on demand.
enum _JSONCodingPath {
    case root
    indirect case child(_JSONCodingPath, _JSONPathComponent)

    func appending(_ component: _JSONPathComponent) -> _JSONCodingPath {
        .child(self, component)
    }

    var keys: [any CodingKey] {
        var reversed: [any CodingKey] = []
        var node = self
        while case .child(let parent, let component) = node {
            reversed.append(component.codingKey)
            node = parent
        }
        return reversed.reversed()
    }
}

/// A path that has not been linked yet: a parent plus the step being visited.
///
/// Leaf values are visited far more often than they fail, so the link is only
/// allocated when an error or a nested coder actually needs it.
struct _JSONPathRef {
    let parent: _JSONCodingPath
    let component: _JSONPathComponent?

    @inline(__always)
    init(_ parent: _JSONCodingPath, _ component: _JSONPathComponent? = nil) {
        self.parent = parent
        self.component = component
    }

    var path: _JSONCodingPath {
        guard let component else { return parent }
        return parent.appending(component)
    }

    var keys: [any CodingKey] {
        path.keys
    }
}

// MARK: - Fast-path type identities (shared by encoder and decoder)

/// Identities of the generic collection types the Codable bridges convert directly.
///
/// Spelling `T.self == [String].self` inside an unspecialised generic asks the runtime for
/// `[String]`'s metadata on every call, which cost more than the conversion it guards;
/// resolving each identity once makes a failed check a single comparison.
enum _JSONFastTypes {
    static let jsonArray = ObjectIdentifier([JSON].self)
    static let jsonObject = ObjectIdentifier([String: JSON].self)
    static let stringArray = ObjectIdentifier([String].self)
    static let intArray = ObjectIdentifier([Int].self)
    static let doubleArray = ObjectIdentifier([Double].self)
    static let boolArray = ObjectIdentifier([Bool].self)
    static let stringDictionary = ObjectIdentifier([String: String].self)
    static let intDictionary = ObjectIdentifier([String: Int].self)
}
