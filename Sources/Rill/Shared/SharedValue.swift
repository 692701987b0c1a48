// One key's value of a shared state as its store holds it: the state, its version, who is present.

/// The value of a shared state for one key, with the version its linked tabs were last sent
/// and the tabs present. A store saves it whole under the key's lock.
public struct SharedValue: Sendable {
    /// Which state and key.
    public let key: SharedKey
    var state: any LiveState
    /// Last computed values of the state's computed vars: what linked tabs were last sent.
    var computed: [String: JSON]
    /// Counts the changes linked tabs were sent; each delta names the one it leads to.
    public internal(set) var version: Int
    /// The connected tabs linked to the key, in the order they joined.
    public internal(set) var presence: [Presence]

    /// The key's value before any change: the state's defaults, nobody present.
    public init(key: SharedKey, registry: StateRegistry) throws {
        guard let type = registry.shared[key.state] else { throw UnknownStateError(path: key.state) }
        self.init(key: key, state: type.init(), computed: [:], version: 0, presence: [])
    }

    init(key: SharedKey, state: any LiveState, computed: [String: JSON], version: Int, presence: [Presence]) {
        self.key = key
        self.state = state
        self.computed = computed
        self.version = version
        self.presence = presence
    }

    /// The value as a store keeps it: `{"v": stored vars, "c": computed values, "n": version,
    /// "p": [[token, label, owner], …]}`.
    public var json: JSON {
        [
            "v": state.storedValues(), "c": .object(computed), "n": .int(version),
            "p": .array(presence.map { [.string($0.token.rawValue), .string($0.label), $0.owner.map(JSON.string) ?? .null] }),
        ]
    }

    /// A value from ``json``. A state that no longer decodes into its type (its schema changed)
    /// starts again from its defaults, keeping the version, and `stale` is told why.
    public init(key: SharedKey, registry: StateRegistry, json: JSON, stale: (any Error) -> Void) throws {
        try self.init(key: key, registry: registry)
        guard let type = registry.shared[key.state] else { return }
        do {
            state = try type.init(storedValues: json["v"] ?? .object([:]))
            if case .object(let cache)? = json["c"] { computed = cache }
        } catch {
            stale(error)
        }
        if case .int(let stored)? = json["n"], stored >= 0 { version = stored }
        if case .array(let entries)? = json["p"] {
            presence = entries.compactMap { entry in
                guard case .array(let fields) = entry, fields.count == 3, case .string(let raw) = fields[0],
                      let token = Token(raw), case .string(let label) = fields[1] else { return nil }
                if case .string(let owner) = fields[2] { return Presence(token: token, label: label, owner: owner) }
                return Presence(token: token, label: label, owner: nil)
            }
        }
    }

    /// Every var a page shows, and the presence list; remembers the computed values sent.
    mutating func hydrate() -> [String: JSON] {
        var cache: [String: JSON] = [:]
        var values = state.changes(from: nil, cache: &cache)
        computed = cache
        values[Self.presenceName] = labels
        return values
    }

    /// What changed since `old`, presence included; updates the computed values sent.
    mutating func changes(from old: SharedValue) -> [String: JSON] {
        var values = state.changes(from: old.state, cache: &computed)
        if presence.map(\.label) != old.presence.map(\.label) { values[Self.presenceName] = labels }
        return values
    }

    private var labels: JSON { .array(presence.map { .string($0.label) }) }

    /// The wire name of the presence list: no var's name starts with `_`.
    static let presenceName = "_presence"
}
