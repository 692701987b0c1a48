// Every state type of an app and every event handler, found by full name.

/// Every state type of an app, by full name, and every event handler, by full event name.
public struct StateRegistry: Sendable {
    /// The state types by full name, parents included.
    public let types: [String: any LiveState.Type]
    /// The shared state types among ``types``, by full name: their values live per key, not per tab.
    public let shared: [String: any SharedState.Type]
    let handlers: [String: AnyHandler]
    /// Every state's ``LiveState/onConnect`` events, states in name order.
    let connectEvents: [EventSpec]
    /// Every state's ``LiveState/onDisconnect`` events, states in name order.
    let disconnectEvents: [EventSpec]
    /// Every state's vars kept in the browser.
    public let browserStorage: [BrowserStorage]
    /// The shared states some state's `@Linked` vars show, by full name.
    let linked: Set<String>
    /// The states with `@Linked` vars, by full name: their computed vars are recomputed when a
    /// key they show changes.
    let readers: [String]

    /// Registers `states` and the parents of each.
    public init(_ states: [any LiveState.Type]) {
        var types: [String: any LiveState.Type] = [:]
        var handlers: [String: AnyHandler] = [:]
        var shared: [String: any SharedState.Type] = [:]
        var linked: Set<String> = []
        var readers: [String] = []
        func add<S: LiveState>(_ state: S.Type) {
            guard types[S.fullName] == nil else { return }
            types[S.fullName] = state
            if let type = state as? any SharedState.Type {
                precondition(S.stateInfo.parent == nil, "shared state '\(S.fullName)': a shared state has no parent state")
                shared[S.fullName] = type
            }
            for (name, handler) in S.stateInfo.handlers {
                let full = S.fullName + "." + name
                handlers[full] = AnyHandler(S.self, name: full, handler)
            }
            if let parent = S.stateInfo.parent { add(parent) }
            if !S.stateInfo.linked.isEmpty {
                precondition(!S.stateInfo.isShared, "shared state '\(S.fullName)': a shared state has no @Linked vars")
                readers.append(S.fullName)
                linked.formUnion(S.stateInfo.linked)
                for variable in S.stateInfo.vars { if let type = variable.linkedType { add(type) } }
            }
        }
        for state in states { add(state) }
        self.types = types
        self.shared = shared
        self.handlers = handlers
        self.linked = linked
        self.readers = readers.sorted()
        for name in types.keys {
            guard let dot = name.lastIndex(of: ".") else { continue }
            precondition(shared[String(name[..<dot])] == nil, "state '\(name)': a shared state has no substates")
        }
        let ordered = types.sorted { $0.key < $1.key }.map(\.value)
        self.connectEvents = ordered.flatMap { $0.onConnect }
        self.disconnectEvents = ordered.flatMap { $0.onDisconnect }
        self.browserStorage = ordered.flatMap { $0.browserStorage }
        for storage in browserStorage {
            let dot = storage.path.lastIndex(of: ".")!
            let state = types[String(storage.path[..<dot])]
            precondition(
                state?.isStoredVar(String(storage.path[storage.path.index(after: dot)...])) == true,
                "BrowserStorage for '\(storage.path)': only a stored var of a registered state can be kept in the browser")
        }
    }

    /// The full names of the direct substates of `fullName` (`nil` for the top level), sorted.
    public func children(of fullName: String?) -> [String] {
        types.keys.filter { name in
            guard let dot = name.lastIndex(of: ".") else { return fullName == nil }
            return name[..<dot] == fullName ?? ""
        }.sorted()
    }

    func handler(_ name: String) -> AnyHandler? { handlers[name] }
}
