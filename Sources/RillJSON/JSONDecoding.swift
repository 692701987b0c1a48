// Turns a `JSON` tree into any `Decodable` value, strictly and with precise error paths.

extension JSON {
    /// Decodes a value of type `T` from this JSON value.
    ///
    /// Decoding is strict: strings, numbers and booleans never convert into one another.
    /// The only numeric conversions are those that lose nothing: `Double`/`Float` accept
    /// ``int(_:)``, and integer types accept a ``double(_:)`` that is integral and in range.
    /// Object keys are matched verbatim (no key strategies).
    ///
    /// - Throws: `DecodingError` whose `codingPath` locates the offending value, e.g.
    ///   `["items", 2, "name"]`: `keyNotFound` for a missing member, `typeMismatch` for a
    ///   value of the wrong kind ("expected Int, found string"), `valueNotFound` for `null`
    ///   where a value is required, and `dataCorrupted` for a number out of range.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try _JSONDecoding.unbox(self, as: T.self, _JSONPathRef(.root))
    }
}

// MARK: - Value conversion

enum _JSONDecoding {
    static func unbox<T: Decodable>(_ value: JSON, as type: T.Type, _ ref: _JSONPathRef) throws -> T {
        try unbox(value, as: T.self, ref) { try T(from: _JSONValueDecoder(value: value, path: ref.path)) }
    }

    /// Converts the types that dominate event payloads without allocating a decoder, and
    /// hands everything else to `decodeOther`.
    ///
    /// Metatype identity is a pointer comparison; once it holds, the bit cast is a no-op.
    /// Most payload structs fail every check, so the checks must stay cheap. The fallback is
    /// a closure rather than an optional result because `T?` in unspecialised code costs a
    /// runtime metadata lookup on every call.
    @inline(__always)
    static func unbox<T: Decodable>(
        _ value: JSON,
        as type: T.Type,
        _ ref: _JSONPathRef,
        decodeOther: () throws -> T
    ) throws -> T {
        // Non-generic metatypes are constants, so these checks are plain pointer comparisons.
        if T.self == JSON.self { return unsafeBitCast(value, to: T.self) }
        if T.self == String.self { return unsafeBitCast(try string(value, ref), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try int(value, ref), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try bool(value, ref), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try double(value, ref), to: T.self) }
        if T.self == Float.self { return unsafeBitCast(try float(value, ref), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try integer(value, as: Int64.self, ref), to: T.self) }
        if T.self == Int32.self { return unsafeBitCast(try integer(value, as: Int32.self, ref), to: T.self) }
        if T.self == UInt64.self { return unsafeBitCast(try integer(value, as: UInt64.self, ref), to: T.self) }
        if T.self == UInt.self { return unsafeBitCast(try integer(value, as: UInt.self, ref), to: T.self) }

        let type = ObjectIdentifier(T.self)
        if type == _JSONFastTypes.jsonArray {
            guard case .array(let elements) = value else { throw mismatch([JSON].self, "array", value, ref) }
            return unsafeBitCast(elements, to: T.self)
        }
        if type == _JSONFastTypes.jsonObject {
            guard case .object(let members) = value else { throw mismatch([String: JSON].self, "object", value, ref) }
            return unsafeBitCast(members, to: T.self)
        }
        if type == _JSONFastTypes.stringArray { return unsafeBitCast(try array(value, ref, string), to: T.self) }
        if type == _JSONFastTypes.intArray { return unsafeBitCast(try array(value, ref, int), to: T.self) }
        if type == _JSONFastTypes.doubleArray { return unsafeBitCast(try array(value, ref, double), to: T.self) }
        if type == _JSONFastTypes.boolArray { return unsafeBitCast(try array(value, ref, bool), to: T.self) }
        return try decodeOther()
    }

    static func bool(_ value: JSON, _ ref: _JSONPathRef) throws -> Bool {
        guard case .bool(let result) = value else { throw mismatch(Bool.self, "Bool", value, ref) }
        return result
    }

    static func string(_ value: JSON, _ ref: _JSONPathRef) throws -> String {
        guard case .string(let result) = value else { throw mismatch(String.self, "String", value, ref) }
        return result
    }

    static func int(_ value: JSON, _ ref: _JSONPathRef) throws -> Int {
        if case .int(let result) = value { return result }
        return try integer(value, as: Int.self, ref)
    }

    static func double(_ value: JSON, _ ref: _JSONPathRef) throws -> Double {
        switch value {
        case .double(let result): return result
        case .int(let result): return Double(result)
        default: throw mismatch(Double.self, "Double", value, ref)
        }
    }

    static func float(_ value: JSON, _ ref: _JSONPathRef) throws -> Float {
        switch value {
        case .double(let wide):
            let narrow = Float(wide)
            guard narrow.isFinite || !wide.isFinite else {
                throw corrupted("Number \(wide) does not fit in Float.", ref)
            }
            return narrow
        case .int(let wide):
            return Float(wide)
        default:
            throw mismatch(Float.self, "Float", value, ref)
        }
    }

    static func integer<T: FixedWidthInteger>(_ value: JSON, as type: T.Type, _ ref: _JSONPathRef) throws -> T {
        switch value {
        case .int(let wide):
            guard let result = T(exactly: wide) else {
                throw corrupted("Number \(wide) does not fit in \(T.self).", ref)
            }
            return result
        case .double(let wide):
            guard let result = T(exactly: wide) else {
                throw corrupted("Number \(wide) is not an integer that fits in \(T.self).", ref)
            }
            return result
        default:
            throw mismatch(T.self, "\(T.self)", value, ref)
        }
    }

    static func array<Element>(
        _ value: JSON,
        _ ref: _JSONPathRef,
        _ element: (JSON, _JSONPathRef) throws -> Element
    ) throws -> [Element] {
        guard case .array(let elements) = value else { throw mismatch([Element].self, "array", value, ref) }
        let path = ref.path
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        for (index, item) in elements.enumerated() {
            result.append(try element(item, _JSONPathRef(path, .index(index))))
        }
        return result
    }

    /// Reports `null` as a missing value rather than a wrong kind, as Foundation does, so
    /// callers can tell "absent" from "malformed".
    static func mismatch(_ type: Any.Type, _ expected: String, _ found: JSON, _ ref: _JSONPathRef) -> DecodingError {
        if found.isNull {
            return .valueNotFound(
                type,
                .init(codingPath: ref.keys, debugDescription: "Value not found: expected \(expected), found null.")
            )
        }
        return .typeMismatch(
            type,
            .init(codingPath: ref.keys, debugDescription: "Type mismatch: expected \(expected), found \(found.kindName).")
        )
    }

    static func corrupted(_ description: String, _ ref: _JSONPathRef) -> DecodingError {
        .dataCorrupted(.init(codingPath: ref.keys, debugDescription: description))
    }
}

// MARK: - Decoder

final class _JSONValueDecoder: Decoder, SingleValueDecodingContainer {
    let value: JSON
    let path: _JSONCodingPath

    init(value: JSON, path: _JSONCodingPath) {
        self.value = value
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    @inline(__always)
    private var ref: _JSONPathRef { _JSONPathRef(path) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw _JSONDecoding.mismatch([String: JSON].self, "object", value, ref)
        }
        return KeyedDecodingContainer(_JSONKeyedDecodingContainer<Key>(members: members, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw _JSONDecoding.mismatch([JSON].self, "array", value, ref)
        }
        return _JSONUnkeyedDecodingContainer(elements: elements, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        self
    }

    // SingleValueDecodingContainer

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try _JSONDecoding.bool(value, ref) }
    func decode(_ type: String.Type) throws -> String { try _JSONDecoding.string(value, ref) }
    func decode(_ type: Double.Type) throws -> Double { try _JSONDecoding.double(value, ref) }
    func decode(_ type: Float.Type) throws -> Float { try _JSONDecoding.float(value, ref) }
    func decode(_ type: Int.Type) throws -> Int { try _JSONDecoding.int(value, ref) }
    func decode(_ type: Int8.Type) throws -> Int8 { try _JSONDecoding.integer(value, as: type, ref) }
    func decode(_ type: Int16.Type) throws -> Int16 { try _JSONDecoding.integer(value, as: type, ref) }
    func decode(_ type: Int32.Type) throws -> Int32 { try _JSONDecoding.integer(value, as: type, ref) }
    func decode(_ type: Int64.Type) throws -> Int64 { try _JSONDecoding.integer(value, as: type, ref) }
    func decode(_ type: UInt.Type) throws -> UInt { try _JSONDecoding.integer(value, as: type, ref) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try _JSONDecoding.integer(value, as: type, ref) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try _JSONDecoding.integer(value, as: type, ref) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try _JSONDecoding.integer(value, as: type, ref) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try _JSONDecoding.integer(value, as: type, ref) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        // Wrapper types forward to their payload at the same path; this decoder already is that.
        try _JSONDecoding.unbox(value, as: T.self, ref) { try T(from: self) }
    }
}

// MARK: - Keyed container

struct _JSONKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSON]
    let path: _JSONCodingPath

    var codingPath: [any CodingKey] { path.keys }

    var allKeys: [Key] {
        members.keys.compactMap { Key(stringValue: $0) }
    }

    func contains(_ key: Key) -> Bool {
        members[key.stringValue] != nil
    }

    @inline(__always)
    private func ref(_ key: Key) -> _JSONPathRef {
        _JSONPathRef(path, .key(key))
    }

    @inline(__always)
    private func required(_ key: Key) throws -> JSON {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key,
                .init(codingPath: path.keys, debugDescription: "No value associated with key \"\(key.stringValue)\".")
            )
        }
        return value
    }

    /// One lookup answers both "absent" and "null", which the default implementation
    /// (`contains` then `decodeNil` then `decode`) needs three lookups for.
    @inline(__always)
    private func optional<R>(_ key: Key, _ convert: (JSON, _JSONPathRef) throws -> R) throws -> R? {
        guard let value = members[key.stringValue], !value.isNull else { return nil }
        return try convert(value, ref(key))
    }

    func decodeNil(forKey key: Key) throws -> Bool { try required(key).isNull }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try _JSONDecoding.bool(required(key), ref(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try _JSONDecoding.string(required(key), ref(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try _JSONDecoding.double(required(key), ref(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try _JSONDecoding.float(required(key), ref(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try _JSONDecoding.int(required(key), ref(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(type, key) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try _JSONDecoding.unbox(required(key), as: T.self, ref(key))
    }

    @inline(__always)
    private func integer<T: FixedWidthInteger>(_ type: T.Type, _ key: Key) throws -> T {
        try _JSONDecoding.integer(required(key), as: T.self, ref(key))
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(key, _JSONDecoding.bool) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(key, _JSONDecoding.string) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(key, _JSONDecoding.double) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try optional(key, _JSONDecoding.float) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(key, _JSONDecoding.int) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try optionalInteger(type, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try optionalInteger(type, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try optionalInteger(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optionalInteger(type, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try optionalInteger(type, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try optionalInteger(type, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try optionalInteger(type, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try optionalInteger(type, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optionalInteger(type, key) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try optional(key) { value, ref in try _JSONDecoding.unbox(value, as: T.self, ref) }
    }

    @inline(__always)
    private func optionalInteger<T: FixedWidthInteger>(_ type: T.Type, _ key: Key) throws -> T? {
        try optional(key) { value, ref in try _JSONDecoding.integer(value, as: T.self, ref) }
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try _JSONValueDecoder(value: required(key), path: path.appending(.key(key))).container(keyedBy: NestedKey.self)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try _JSONValueDecoder(value: required(key), path: path.appending(.key(key))).unkeyedContainer()
    }

    /// A missing `super` member decodes as `null`, mirroring Foundation, so a superclass
    /// with only optional properties still decodes.
    func superDecoder() throws -> any Decoder {
        _JSONValueDecoder(
            value: members[_JSONCodingKey.superKey.stringValue] ?? .null,
            path: path.appending(.key(_JSONCodingKey.superKey))
        )
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        _JSONValueDecoder(value: members[key.stringValue] ?? .null, path: path.appending(.key(key)))
    }
}

// MARK: - Unkeyed container

struct _JSONUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let elements: [JSON]
    let path: _JSONCodingPath
    private(set) var currentIndex = 0

    init(elements: [JSON], path: _JSONCodingPath) {
        self.elements = elements
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    /// Advances only on success, so a caller that catches an error can retry the same
    /// element as a different type.
    @inline(__always)
    private mutating func next<R>(_ type: Any.Type, _ convert: (JSON, _JSONPathRef) throws -> R) throws -> R {
        guard currentIndex < elements.count else { throw atEnd(type) }
        let result = try convert(elements[currentIndex], _JSONPathRef(path, .index(currentIndex)))
        currentIndex += 1
        return result
    }

    private func atEnd(_ type: Any.Type) -> DecodingError {
        .valueNotFound(
            type,
            .init(codingPath: path.appending(.index(currentIndex)).keys, debugDescription: "Unkeyed container is at end.")
        )
    }

    mutating func decodeNil() throws -> Bool {
        guard currentIndex < elements.count else { throw atEnd(JSON.self) }
        // Only a null is consumed; anything else stays for the decode call that follows.
        guard elements[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type, _JSONDecoding.bool) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type, _JSONDecoding.string) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type, _JSONDecoding.double) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type, _JSONDecoding.float) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type, _JSONDecoding.int) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next(type) { value, ref in try _JSONDecoding.unbox(value, as: T.self, ref) }
    }

    @inline(__always)
    private mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        try next(type) { value, ref in try _JSONDecoding.integer(value, as: T.self, ref) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next(KeyedDecodingContainer<NestedKey>.self) { value, ref in
            try _JSONValueDecoder(value: value, path: ref.path).container(keyedBy: NestedKey.self)
        }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next((any UnkeyedDecodingContainer).self) { value, ref in
            try _JSONValueDecoder(value: value, path: ref.path).unkeyedContainer()
        }
    }

    mutating func superDecoder() throws -> any Decoder {
        try next((any Decoder).self) { value, ref in
            _JSONValueDecoder(value: value, path: ref.path)
        }
    }
}
