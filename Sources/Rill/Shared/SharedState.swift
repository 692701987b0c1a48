// Shared states: one value per key that many tabs link to, changed under the key's own lock.

/// A state whose value belongs to a key — a chat room, a document, a dashboard — and is shared
/// by every tab linked to that key, on this process and others.
///
/// Declare it like any state, with `SharedState` as its conformance; its handlers, setters and
/// background tasks run for the key the sending tab is linked to, under that key's lock, and
/// their delta reaches every linked tab.
///
/// ```swift
/// @LiveState
/// struct Room: SharedState {
///     var count = 0
///     mutating func increment() { count += 1 }
/// }
///
/// @LiveState
/// struct Lobby {
///     var name = ""
///     mutating func join(room: String) async throws {
///         try await link(Room.self, to: room, as: name)
///     }
/// }
/// ```
///
/// Until a tab links to a key, it reads the shared state's defaults and may not change it. A
/// key is a capability: whoever is linked to it reads and changes its state. Check every key
/// that comes from a page in ``authorizeLink(key:router:)``.
public protocol SharedState: LiveState {
    /// Whether the tab `router` describes may link to `key`; `true` by default. A refusal
    /// fails the linking handler with ``LinkRefusedError`` and links nothing.
    static func authorizeLink(key: String, router: RouterData) async throws -> Bool
}

extension SharedState {
    public static func authorizeLink(key: String, router: RouterData) async throws -> Bool { true }

    /// The labels of the connected tabs linked to the same key, in the order they joined: what
    /// a page shows as who is here (`Room.presence`).
    public static var presence: Var<[String]> { Var(Self.self, name: SharedValue.presenceName) }
}

/// Which value of which shared state: the state's full name and the key.
public struct SharedKey: Hashable, Sendable, CustomStringConvertible {
    /// The shared state's full name.
    public let state: String
    /// The key, as the app chose it.
    public let key: String

    /// The most bytes a key may have.
    public static let maxKeyBytes = 256

    /// A key of `type`; throws ``InvalidKeyError`` for an empty key or one longer than ``maxKeyBytes``.
    public init<S: SharedState>(_ type: S.Type, _ key: String) throws {
        try self.init(state: S.fullName, key: key)
    }

    /// A key of the shared state with full name `state`.
    public init(state: String, key: String) throws {
        guard !key.isEmpty, key.utf8.count <= Self.maxKeyBytes else { throw InvalidKeyError(state: state, key: key) }
        self.state = state
        self.key = key
    }

    /// What a page is told of the key: a hash, so the key itself (a capability) is not sent,
    /// and a late delta of a key the tab left is not taken for one of the key it joined.
    public var streamID: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in state.utf8 + [0] + key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    public var description: String { "\(state)[\(key.clipped(80))]" }
}

/// A tab's link to a shared state's key, kept with the tab's state.
public struct SharedLink: Sendable, Equatable {
    /// The key linked to.
    public let key: String
    /// What the tab is called in the key's presence list.
    public let label: String
}

/// One tab in a key's presence list.
public struct Presence: Sendable, Equatable {
    /// The tab.
    public let token: Token
    /// The label the tab linked with.
    public let label: String
    /// The process that holds the tab's socket, for a store shared by processes; `nil` in memory.
    public let owner: String?
}

/// A key that is empty or too long, or a presence label that is too long.
public struct InvalidKeyError: Error, CustomStringConvertible, Sendable {
    /// The shared state's full name.
    public let state: String
    /// The key given.
    public let key: String
    /// The label given, when it was the label that was too long.
    public let label: String?

    init(state: String, key: String, label: String? = nil) {
        self.state = state
        self.key = key
        self.label = label
    }

    public var description: String {
        if let label {
            return "shared state '\(state)': the label '\(label.clipped(80))' is longer than \(SharedKey.maxKeyBytes) bytes"
        }
        return "shared state '\(state)': key '\(key.clipped(80))' must be 1 to \(SharedKey.maxKeyBytes) bytes"
    }
}

/// The shared state's ``SharedState/authorizeLink(key:router:)`` refused the key; nothing was linked.
public struct LinkRefusedError: Error, CustomStringConvertible, Sendable {
    /// The shared state's full name.
    public let state: String

    public var description: String {
        "linking to a '\(state)' key was refused: \(state)'s authorizeLink(key:router:) did not allow it for this tab"
    }
}

/// A shared state was changed by a tab that is not linked to any of its keys.
public struct NotLinkedError: Error, CustomStringConvertible, Sendable {
    /// The shared state's full name.
    public let state: String
    /// The Swift type's name.
    public let type: String

    public var description: String {
        "this tab is not linked to a '\(state)' key, so it cannot change it: call link(\(type).self, to: key) in a handler first"
    }
}

/// A lock span reached two shared keys, or linked a shared state it already used.
public struct SharedKeyOrderError: Error, CustomStringConvertible, Sendable {
    /// What was asked.
    public let problem: String

    public var description: String { problem }
}
