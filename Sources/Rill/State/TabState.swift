// One tab's tree of states and the deltas between two versions of it.

import Synchronization

/// The changes a tab is sent: `{state full name: {var name: new value}}`.
public typealias Delta = [String: [String: JSON]]

/// The states of one tab, as held under its lock: reach a substate by type (`tab[MyState.self]`)
/// or by full name (``substate(_:)``).
///
/// A `TabState` is a value: changing one changes the tab only where the framework handed it out
/// `inout` — inside ``App/modifyState(_:_:)`` or a ``LiveState/withTab(_:)`` block.
public struct TabState: Sendable {
    /// The tab this state belongs to.
    public let token: Token
    /// The app's state types.
    public let registry: StateRegistry
    var states: [String: any LiveState]
    /// Last computed values of computed vars, by state full name; what the tab was last sent.
    var computed: [String: [String: JSON]]
    /// Full names of the substates written since this value was loaded; only those are diffed
    /// and saved.
    public internal(set) var touched: Set<String> = []
    /// The version the tab was last sent and the events applied to it: saved with every commit
    /// that changes them.
    public internal(set) var delivery: Delivery
    /// Whether ``delivery`` changed since this value was loaded, so a save must write it.
    public internal(set) var deliveryChanged = false
    /// The shared state keys the tab is linked to, by shared state full name.
    public internal(set) var links: [String: SharedLink] = [:]
    /// Whether ``links`` changed since this value was loaded, so a save must write it.
    public internal(set) var linksChanged = false
    /// The last checkpoint of each durable task of the tab, by task id, as loaded.
    public internal(set) var checkpoints: [String: JSON] = [:]
    /// Durable tasks this commit starts, and the task it is a block of: saved with it.
    public internal(set) var tasks = TaskWrites()
    /// Set while this value is the one a lock holder may change; the dynamic setters check it,
    /// so a copy that escaped its block cannot be written as if it were the tab.
    var access: Access?

    final class Access: Sendable {
        private let open = Atomic(true)
        var isOpen: Bool { open.load(ordering: .acquiring) }
        func close() { open.store(false, ordering: .releasing) }
    }

    /// A tab whose states are all at their defaults.
    public init(token: Token, registry: StateRegistry) {
        self.init(token: token, registry: registry, states: [:], computed: [:])
    }

    init(
        token: Token, registry: StateRegistry, states: [String: any LiveState], computed: [String: [String: JSON]],
        delivery: Delivery = Delivery(), links: [String: SharedLink] = [:], checkpoints: [String: JSON] = [:]
    ) {
        self.token = token
        self.registry = registry
        self.states = states
        self.computed = computed
        self.delivery = delivery
        self.links = links
        self.checkpoints = checkpoints
    }

    /// Links the tab to `key` of the shared state `state` (or unlinks it, with `nil`).
    mutating func link(_ state: String, _ link: SharedLink?) {
        guard links[state] != link else { return }
        links[state] = link
        linksChanged = true
    }

    /// Numbers `update` when it carries a change of state: it applies on the tab's version and
    /// leads to the next one.
    mutating func number(_ update: inout StateUpdate) {
        guard !update.delta.isEmpty || update.isHydration else { return }
        if update.isHydration {
            update.base = nil
        } else {
            update.base = delivery.version
            delivery.version += 1
            deliveryChanged = true
        }
        update.version = delivery.version
    }

    /// Records that the page's event `id` was applied, remembering at most `window` ids.
    mutating func applied(_ id: Int, window: Int) {
        delivery.applied.insert(id, capacity: window)
        deliveryChanged = true
    }

    /// The tab's state of type `S`, its defaults if it was never changed.
    public subscript<S: LiveState>(_ type: S.Type) -> S {
        get { states[S.fullName] as? S ?? S() }
        set {
            states[S.fullName] = newValue
            touched.insert(S.fullName)
        }
    }

    /// The substate with this full name (`parent_state.child_state`).
    public func substate(_ fullName: String) throws -> any LiveState {
        if let state = states[fullName] { return state }
        guard let type = registry.types[fullName] else { throw UnknownStateError(path: fullName) }
        return type.init()
    }

    /// The substate at this path of names, as Reflex's `get_substate(full_name.split("."))`.
    public func substate(path: [String]) throws -> any LiveState {
        try substate(path.joined(separator: "."))
    }

    /// Replaces a substate found with ``substate(_:)``. Throws ``ImmutableStateError`` unless
    /// this is the tab handed out by an open lock block.
    public mutating func setSubstate(_ state: any LiveState) throws {
        try ensureWritable()
        let name = type(of: state).fullName
        states[name] = state
        touched.insert(name)
    }

    /// The value of a var by its full path, `state_full_name.var_name`.
    public func value(_ path: String) throws -> JSON {
        let (state, name) = try split(path)
        return try state.read(name, path: path)
    }

    /// Sets a var by its full path, checking the value against the var's type; computed vars
    /// cannot be set.
    public mutating func set(_ path: String, to value: JSON) throws {
        let (state, name) = try split(path)
        try setSubstate(try state.writing(name, value, path: path))
    }

    private func ensureWritable() throws {
        guard access?.isOpen == true else {
            throw ImmutableStateError.snapshot
        }
    }

    /// Whether this value has anything to save that `original`, the value loaded, has not.
    func changed(since original: TabState) -> Bool {
        if deliveryChanged || linksChanged || !tasks.isEmpty || computed != original.computed { return true }
        return touched.contains { name in
            guard let state = states[name] else { return false }
            return (original.states[name] ?? registry.types[name]?.init()).map(state.storedDiffers) ?? true
        }
    }

    /// Every frontend and computed var of every state: what a tab gets when it connects. The
    /// computed values sent are remembered, so later deltas carry only ones that change.
    mutating func hydrate() -> Delta {
        var delta = Delta()
        for (name, type) in registry.types where registry.shared[name] == nil {
            let state = states[name] ?? type.init()
            var cache: [String: JSON] = [:]
            delta[name] = state.changes(from: nil, cache: &cache)
            if !cache.isEmpty, computed[name] != cache {
                computed[name] = cache
                states[name] = state
                touched.insert(name)
            }
        }
        return delta
    }

    /// The changes from `old` to this value, updating the computed-var caches as it goes.
    mutating func delta(from old: TabState) -> Delta {
        var delta = Delta()
        for name in touched {
            // A state never written is at its defaults, on either side.
            guard let state = states[name] ?? registry.types[name]?.init() else { continue }
            let cached = computed[name]
            var cache = cached ?? [:]
            let changes = state.changes(from: old.states[name] ?? registry.types[name]?.init(), cache: &cache)
            // Most states have no computed vars: leave the (shared) caches alone for them.
            if cached != nil || !cache.isEmpty { computed[name] = cache }
            if !changes.isEmpty { delta[name] = changes }
        }
        return delta
    }

    private func split(_ path: String) throws -> (any LiveState, String) {
        guard let dot = path.lastIndex(of: ".") else { throw UnknownStateError(path: path) }
        return (try substate(String(path[..<dot])), String(path[path.index(after: dot)...]))
    }
}

extension LiveState {
    /// Changed frontend vars, and computed vars whose inputs changed and whose value differs
    /// from `cache`; `old == nil` means everything is new.
    func changes(from old: (any LiveState)?, cache: inout [String: JSON]) -> [String: JSON] {
        let info = Self.stateInfo
        let old = old as? Self
        var out: [String: JSON] = [:]
        var changed: Set<String> = []
        let tracksChanges = !info.computed.isEmpty
        for variable in info.vars where variable.isStored {
            if let old, !variable.differs(old, self) { continue }
            if tracksChanges { changed.insert(variable.name) }
            if variable.kind == .frontend {
                out[variable.name] = variable.read(self)
            } else if Unsavable.current != nil {
                // A commit checks that a changed backend var can be saved too.
                _ = variable.read(self)
            }
        }
        for variable in info.computed {
            if old != nil, cache[variable.name] != nil, !info.readsLinked.contains(variable.name) {
                if let deps = variable.deps, deps.isDisjoint(with: changed) { continue }
                if variable.deps == nil, changed.isEmpty { continue }
            }
            let value = variable.read(self)
            if cache[variable.name] != value || old == nil {
                cache[variable.name] = value
                out[variable.name] = value
            }
        }
        return out
    }

    /// Whether a stored var (frontend or backend) differs from `old`'s.
    func storedDiffers(from old: any LiveState) -> Bool {
        guard let old = old as? Self else { return true }
        return Self.stateInfo.vars.contains { $0.isStored && $0.differs(old, self) }
    }

    /// Every stored var (frontend and backend), for a state manager that serializes.
    public func storedValues() -> JSON {
        var object: [String: JSON] = [:]
        for variable in Self.stateInfo.vars where variable.isStored {
            object[variable.name] = variable.read(self)
        }
        return .object(object)
    }

    /// A state from ``storedValues()``; vars missing from `json` keep their defaults. Throws
    /// when a stored value no longer fits its var's type.
    public init(storedValues json: JSON) throws {
        self.init()
        guard case .object(let object) = json else {
            throw EventDeserializationError(event: Self.fullName, field: "", expected: "object", found: json.kindName)
        }
        for variable in Self.stateInfo.vars {
            guard let write = variable.write, let value = object[variable.name] else { continue }
            try write(&self, value)
        }
    }

    fileprivate func read(_ name: String, path: String) throws -> JSON {
        guard let variable = Self.stateInfo.varsByName[name] else { throw UnknownStateError(path: path) }
        return variable.read(self)
    }

    fileprivate func writing(_ name: String, _ value: JSON, path: String) throws -> Self {
        guard let variable = Self.stateInfo.varsByName[name] else { throw UnknownStateError(path: path) }
        guard let write = variable.write else {
            throw ImmutableStateError.computedVar(path: path)
        }
        var copy = self
        do {
            try write(&copy, value)
        } catch let error as DecodingError {
            throw EventDeserializationError(decoding: error, event: Self.fullName, field: name, expected: variable.typeName, value: value)
        }
        return copy
    }
}
