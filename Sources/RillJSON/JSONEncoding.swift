// Turns any `Encodable` value into a `JSON` tree directly, with no detour through text or Foundation.

extension JSON {
    /// Creates a JSON value by encoding `value`.
    ///
    /// Common leaf and collection types (`Int`, `String`, `Bool`, `Double`, `JSON`,
    /// `[String]`, `[Int]`, `[String: JSON]`, …) are converted without entering the
    /// `Encoder` machinery. Keys are used verbatim (no key strategies), `nil` optionals
    /// become ``null`` except where `encodeIfPresent` omits them.
    ///
    /// - Throws: `EncodingError.invalidValue` for a non-finite `Double`/`Float`, an
    ///   unsigned integer larger than `Int.max`, or a top-level value that encodes nothing.
    public init(encoding value: some Encodable) throws {
        self = try _JSONEncoding.encodeTopLevel(value)
    }
}

// MARK: - Value conversion

enum _JSONEncoding {
    static func encodeTopLevel<T: Encodable>(_ value: T) throws -> JSON {
        if let fast = try fastPath(value, _JSONPathRef(.root)) {
            return fast
        }
        let encoder = _JSONValueEncoder(path: .root)
        try value.encode(to: encoder)
        guard let result = encoder.resolved() else {
            throw EncodingError.invalidValue(
                value,
                .init(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values.")
            )
        }
        return result
    }

    /// Converts a nested value. A value that encodes nothing becomes `{}`, as Foundation does.
    static func wrap<T: Encodable>(_ value: T, _ ref: _JSONPathRef) throws -> JSON {
        if let fast = try fastPath(value, ref) {
            return fast
        }
        let encoder = _JSONValueEncoder(path: ref.path)
        try value.encode(to: encoder)
        return encoder.resolved() ?? .object([:])
    }

    /// Converts the types that dominate event payloads without allocating an encoder.
    ///
    /// Metatype identity is a pointer comparison, far cheaper than a failing `as?` cast on
    /// an unspecialised generic; once identity is established the bit cast is a no-op.
    /// Most payload structs fail every check, so the checks must stay cheap.
    @inline(__always)
    static func fastPath<T: Encodable>(_ value: T, _ ref: _JSONPathRef) throws -> JSON? {
        // Non-generic metatypes are constants, so these checks are plain pointer comparisons.
        if T.self == JSON.self { return unsafeBitCast(value, to: JSON.self) }
        if T.self == String.self { return .string(unsafeBitCast(value, to: String.self)) }
        if T.self == Int.self { return .int(unsafeBitCast(value, to: Int.self)) }
        if T.self == Bool.self { return .bool(unsafeBitCast(value, to: Bool.self)) }
        if T.self == Double.self { return try double(unsafeBitCast(value, to: Double.self), ref) }
        if T.self == Float.self { return try float(unsafeBitCast(value, to: Float.self), ref) }
        if T.self == Int64.self { return try integer(unsafeBitCast(value, to: Int64.self), ref) }
        if T.self == Int32.self { return .int(Int(unsafeBitCast(value, to: Int32.self))) }
        if T.self == Int16.self { return .int(Int(unsafeBitCast(value, to: Int16.self))) }
        if T.self == Int8.self { return .int(Int(unsafeBitCast(value, to: Int8.self))) }
        if T.self == UInt.self { return try integer(unsafeBitCast(value, to: UInt.self), ref) }
        if T.self == UInt64.self { return try integer(unsafeBitCast(value, to: UInt64.self), ref) }
        if T.self == UInt32.self { return try integer(unsafeBitCast(value, to: UInt32.self), ref) }
        if T.self == UInt16.self { return .int(Int(unsafeBitCast(value, to: UInt16.self))) }
        if T.self == UInt8.self { return .int(Int(unsafeBitCast(value, to: UInt8.self))) }

        let type = ObjectIdentifier(T.self)
        if type == _JSONFastTypes.jsonArray { return .array(unsafeBitCast(value, to: [JSON].self)) }
        if type == _JSONFastTypes.jsonObject { return .object(unsafeBitCast(value, to: [String: JSON].self)) }
        if type == _JSONFastTypes.stringArray { return .array(unsafeBitCast(value, to: [String].self).map(JSON.string)) }
        if type == _JSONFastTypes.intArray { return .array(unsafeBitCast(value, to: [Int].self).map(JSON.int)) }
        if type == _JSONFastTypes.boolArray { return .array(unsafeBitCast(value, to: [Bool].self).map(JSON.bool)) }
        if type == _JSONFastTypes.doubleArray { return try doubles(unsafeBitCast(value, to: [Double].self), ref) }
        if type == _JSONFastTypes.stringDictionary {
            return .object(unsafeBitCast(value, to: [String: String].self).mapValues(JSON.string))
        }
        if type == _JSONFastTypes.intDictionary {
            return .object(unsafeBitCast(value, to: [String: Int].self).mapValues(JSON.int))
        }
        return nil
    }

    @inline(__always)
    static func double(_ value: Double, _ ref: _JSONPathRef) throws -> JSON {
        guard value.isFinite else { throw nonFinite(value, ref) }
        return .double(value)
    }

    static func doubles(_ values: [Double], _ ref: _JSONPathRef) throws -> JSON {
        var elements: [JSON] = []
        elements.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            guard value.isFinite else { throw nonFinite(value, _JSONPathRef(ref.path, .index(index))) }
            elements.append(.double(value))
        }
        return .array(elements)
    }

    /// Widens through the shortest decimal form so `0.1 as Float` becomes `0.1`, not
    /// `0.10000000149011612`; the round-trip check guards against the rare double rounding.
    static func float(_ value: Float, _ ref: _JSONPathRef) throws -> JSON {
        guard value.isFinite else { throw nonFinite(value, ref) }
        if let widened = Double(value.description), Float(widened) == value {
            return .double(widened)
        }
        return .double(Double(value))
    }

    /// `JSON.int` is an `Int`; silently rounding a larger value through `Double` would
    /// corrupt identifiers, so it is an error instead. Where the value always fits (every
    /// type but `UInt`/`UInt64` on 64-bit platforms) the check compiles away.
    @inline(__always)
    static func integer<T: BinaryInteger>(_ value: T, _ ref: _JSONPathRef) throws -> JSON {
        guard let exact = Int(exactly: value) else {
            throw EncodingError.invalidValue(
                value,
                .init(codingPath: ref.keys, debugDescription: "\(T.self) value \(value) does not fit in JSON integer range.")
            )
        }
        return .int(exact)
    }

    static func nonFinite(_ value: some BinaryFloatingPoint, _ ref: _JSONPathRef) -> EncodingError {
        EncodingError.invalidValue(
            value,
            .init(codingPath: ref.keys, debugDescription: "Unable to encode \(type(of: value)).\(value) directly in JSON.")
        )
    }
}

// MARK: - Encoder

/// Collects the members of one keyed container.
///
/// A reference type because Codable hands out containers by value yet expects writes
/// through any copy (and through nested containers) to land in the same place.
///
/// Stored properties of the boxes and the encoder opt out of dynamic exclusivity checks:
/// they are only touched by the container methods below, which never hold an access
/// open across a call into user code, and the checks cost more than the stores they guard.
final class _JSONObjectBox {
    /// Pre-sized because growing a dictionary rehashes every key, and rehashing was the
    /// single largest cost of encoding typical structs; eight covers most payload types.
    @exclusivity(unchecked) var members = [String: JSON](minimumCapacity: 8)
    /// Nested containers and super-encoders, filled in after their creator returns.
    @exclusivity(unchecked) var pending: [(key: String, value: _JSONPending)] = []

    func resolved() -> JSON {
        if pending.isEmpty { return .object(members) }
        var result = members
        for (key, value) in pending {
            result[key] = value.resolved()
        }
        return .object(result)
    }
}

/// Collects the elements of one unkeyed container.
final class _JSONArrayBox {
    @exclusivity(unchecked) var elements: [JSON] = []
    /// Positions holding a placeholder until their nested container is resolved.
    @exclusivity(unchecked) var pending: [(index: Int, value: _JSONPending)] = []

    func resolved() -> JSON {
        if pending.isEmpty { return .array(elements) }
        var result = elements
        for (index, value) in pending {
            result[index] = value.resolved()
        }
        return .array(result)
    }
}

/// A slot whose final value is only known once encoding of its parent has finished.
enum _JSONPending {
    case object(_JSONObjectBox)
    case array(_JSONArrayBox)
    case encoder(_JSONValueEncoder)

    func resolved() -> JSON {
        switch self {
        case .object(let box): box.resolved()
        case .array(let box): box.resolved()
        case .encoder(let encoder): encoder.resolved() ?? .object([:])
        }
    }
}

final class _JSONValueEncoder: Encoder {
    enum Storage {
        case empty
        case value(JSON)
        case object(_JSONObjectBox)
        case array(_JSONArrayBox)
    }

    @exclusivity(unchecked) var storage: Storage = .empty
    let path: _JSONCodingPath

    init(path: _JSONCodingPath) {
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: _JSONObjectBox
        switch storage {
        case .object(let existing):
            // Subclasses calling `super.encode(to:)` legitimately ask twice; share the members.
            box = existing
        case .empty:
            box = _JSONObjectBox()
            storage = .object(box)
        case .value, .array:
            preconditionFailure("Requested a keyed container at \(codingPath) after encoding a different kind of value there.")
        }
        return KeyedEncodingContainer(_JSONKeyedEncodingContainer<Key>(box: box, path: path))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box: _JSONArrayBox
        switch storage {
        case .array(let existing):
            box = existing
        case .empty:
            box = _JSONArrayBox()
            storage = .array(box)
        case .value, .object:
            preconditionFailure("Requested an unkeyed container at \(codingPath) after encoding a different kind of value there.")
        }
        return _JSONUnkeyedEncodingContainer(box: box, path: path)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        _JSONSingleValueEncodingContainer(encoder: self)
    }

    /// The encoded value, or `nil` if nothing was encoded.
    func resolved() -> JSON? {
        switch storage {
        case .empty: nil
        case .value(let value): value
        case .object(let box): box.resolved()
        case .array(let box): box.resolved()
        }
    }
}

// MARK: - Keyed container

struct _JSONKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: _JSONObjectBox
    let path: _JSONCodingPath

    var codingPath: [any CodingKey] { path.keys }

    @inline(__always)
    private func ref(_ key: Key) -> _JSONPathRef {
        _JSONPathRef(path, .key(key))
    }

    mutating func encodeNil(forKey key: Key) throws { box.members[key.stringValue] = .null }
    mutating func encode(_ value: Bool, forKey key: Key) throws { box.members[key.stringValue] = .bool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { box.members[key.stringValue] = .string(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { box.members[key.stringValue] = .int(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { box.members[key.stringValue] = .int(Int(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { box.members[key.stringValue] = .int(Int(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { box.members[key.stringValue] = .int(Int(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { box.members[key.stringValue] = .int(Int(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { box.members[key.stringValue] = .int(Int(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try store(_JSONEncoding.integer(value, ref(key)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try store(_JSONEncoding.integer(value, ref(key)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try store(_JSONEncoding.integer(value, ref(key)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try store(_JSONEncoding.integer(value, ref(key)), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try store(_JSONEncoding.double(value, ref(key)), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try store(_JSONEncoding.float(value, ref(key)), key) }

    @inline(__always)
    private func store(_ value: JSON, _ key: Key) {
        box.members[key.stringValue] = value
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try store(_JSONEncoding.wrap(value, ref(key)), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = _JSONObjectBox()
        box.pending.append((key.stringValue, .object(nested)))
        return KeyedEncodingContainer(_JSONKeyedEncodingContainer<NestedKey>(box: nested, path: path.appending(.key(key))))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = _JSONArrayBox()
        box.pending.append((key.stringValue, .array(nested)))
        return _JSONUnkeyedEncodingContainer(box: nested, path: path.appending(.key(key)))
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = _JSONValueEncoder(path: path.appending(.key(_JSONCodingKey.superKey)))
        box.pending.append((_JSONCodingKey.superKey.stringValue, .encoder(encoder)))
        return encoder
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let encoder = _JSONValueEncoder(path: path.appending(.key(key)))
        box.pending.append((key.stringValue, .encoder(encoder)))
        return encoder
    }
}

// MARK: - Unkeyed container

struct _JSONUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let box: _JSONArrayBox
    let path: _JSONCodingPath

    var codingPath: [any CodingKey] { path.keys }
    var count: Int { box.elements.count }

    @inline(__always)
    private var nextRef: _JSONPathRef {
        _JSONPathRef(path, .index(box.elements.count))
    }

    mutating func encodeNil() throws { box.elements.append(.null) }
    mutating func encode(_ value: Bool) throws { box.elements.append(.bool(value)) }
    mutating func encode(_ value: String) throws { box.elements.append(.string(value)) }
    mutating func encode(_ value: Int) throws { box.elements.append(.int(value)) }
    mutating func encode(_ value: Int8) throws { box.elements.append(.int(Int(value))) }
    mutating func encode(_ value: Int16) throws { box.elements.append(.int(Int(value))) }
    mutating func encode(_ value: Int32) throws { box.elements.append(.int(Int(value))) }
    mutating func encode(_ value: Int64) throws { box.elements.append(try _JSONEncoding.integer(value, nextRef)) }
    mutating func encode(_ value: UInt8) throws { box.elements.append(.int(Int(value))) }
    mutating func encode(_ value: UInt16) throws { box.elements.append(.int(Int(value))) }
    mutating func encode(_ value: UInt32) throws { box.elements.append(try _JSONEncoding.integer(value, nextRef)) }
    mutating func encode(_ value: UInt) throws { box.elements.append(try _JSONEncoding.integer(value, nextRef)) }
    mutating func encode(_ value: UInt64) throws { box.elements.append(try _JSONEncoding.integer(value, nextRef)) }
    mutating func encode(_ value: Double) throws { box.elements.append(try _JSONEncoding.double(value, nextRef)) }
    mutating func encode(_ value: Float) throws { box.elements.append(try _JSONEncoding.float(value, nextRef)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        box.elements.append(try _JSONEncoding.wrap(value, nextRef))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = _JSONObjectBox()
        let index = reservePlaceholder(.object(nested))
        return KeyedEncodingContainer(_JSONKeyedEncodingContainer<NestedKey>(box: nested, path: path.appending(.index(index))))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = _JSONArrayBox()
        let index = reservePlaceholder(.array(nested))
        return _JSONUnkeyedEncodingContainer(box: nested, path: path.appending(.index(index)))
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = _JSONValueEncoder(path: path.appending(.index(box.elements.count)))
        reservePlaceholder(.encoder(encoder))
        return encoder
    }

    /// Keeps the element's position so later appends do not shift it.
    @discardableResult
    private func reservePlaceholder(_ pending: _JSONPending) -> Int {
        let index = box.elements.count
        box.elements.append(.null)
        box.pending.append((index, pending))
        return index
    }
}

// MARK: - Single-value container

struct _JSONSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: _JSONValueEncoder

    var codingPath: [any CodingKey] { encoder.codingPath }

    @inline(__always)
    private var ref: _JSONPathRef { _JSONPathRef(encoder.path) }

    @inline(__always)
    private func store(_ value: JSON) { encoder.storage = .value(value) }

    mutating func encodeNil() throws { store(.null) }
    mutating func encode(_ value: Bool) throws { store(.bool(value)) }
    mutating func encode(_ value: String) throws { store(.string(value)) }
    mutating func encode(_ value: Int) throws { store(.int(value)) }
    mutating func encode(_ value: Int8) throws { store(.int(Int(value))) }
    mutating func encode(_ value: Int16) throws { store(.int(Int(value))) }
    mutating func encode(_ value: Int32) throws { store(.int(Int(value))) }
    mutating func encode(_ value: Int64) throws { store(try _JSONEncoding.integer(value, ref)) }
    mutating func encode(_ value: UInt8) throws { store(.int(Int(value))) }
    mutating func encode(_ value: UInt16) throws { store(.int(Int(value))) }
    mutating func encode(_ value: UInt32) throws { store(try _JSONEncoding.integer(value, ref)) }
    mutating func encode(_ value: UInt) throws { store(try _JSONEncoding.integer(value, ref)) }
    mutating func encode(_ value: UInt64) throws { store(try _JSONEncoding.integer(value, ref)) }
    mutating func encode(_ value: Double) throws { store(try _JSONEncoding.double(value, ref)) }
    mutating func encode(_ value: Float) throws { store(try _JSONEncoding.float(value, ref)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if let fast = try _JSONEncoding.fastPath(value, ref) {
            store(fast)
        } else {
            // Wrapper types forward to their payload; reusing this encoder saves an allocation
            // and keeps the path unchanged, exactly as a fresh one would.
            try value.encode(to: encoder)
        }
    }
}
