// A tab's states as JSON, one entry per substate, for state managers that store them outside the process.

extension TabState {
    /// The substates written since load, each as `{"v": stored vars, "c": computed values}`,
    /// and ``delivery`` under ``deliveryField`` when it changed. A manager that serializes
    /// stores exactly these: a save writes only what changed.
    public func encodedChanges() -> [String: JSON] {
        var fields: [String: JSON] = [:]
        for name in touched {
            guard let state = states[name] ?? registry.types[name]?.init() else { continue }
            fields[name] = ["v": state.storedValues(), "c": .object(computed[name] ?? [:])]
        }
        if deliveryChanged { fields[Self.deliveryField] = delivery.json }
        if linksChanged { fields[Self.linksField] = linksJSON }
        if let id = tasks.block, let checkpoint = tasks.checkpoint { fields[Self.checkpointField(id)] = checkpoint }
        return fields
    }

    /// This value as its store holds it once committed: nothing touched since. A manager that
    /// keeps a tab's state between two holds of its lock hands this out the second time.
    public func saved() -> TabState {
        var copy = self
        copy.touched = []
        copy.deliveryChanged = false
        copy.linksChanged = false
        if let id = tasks.block, let checkpoint = tasks.checkpoint { copy.checkpoints[id] = checkpoint }
        copy.tasks = TaskWrites()
        copy.access = nil
        return copy
    }

    /// A tab from stored substates. A substate that no longer decodes into its type (its
    /// schema changed) starts again from its defaults, and `stale` is told which and why; a
    /// substate no registered type has is skipped.
    public init(token: Token, registry: StateRegistry, stored: [String: JSON], stale: (String, any Error) -> Void) {
        var states: [String: any LiveState] = [:]
        var computed: [String: [String: JSON]] = [:]
        let delivery = stored[Self.deliveryField].map(Delivery.init(json:)) ?? Delivery()
        var links: [String: SharedLink] = [:]
        if case .object(let entries)? = stored[Self.linksField] {
            for (name, entry) in entries where registry.shared[name] != nil {
                guard case .string(let key)? = entry["k"], case .string(let label)? = entry["l"] else { continue }
                links[name] = SharedLink(key: key, label: label)
            }
        }
        var checkpoints: [String: JSON] = [:]
        for (name, entry) in stored {
            if name.hasPrefix(Self.checkpointPrefix) {
                checkpoints[String(name.dropFirst(Self.checkpointPrefix.count))] = entry
                continue
            }
            guard let type = registry.types[name] else { continue }
            do {
                states[name] = try type.init(storedValues: entry["v"] ?? .object([:]))
                if case .object(let cache)? = entry["c"] { computed[name] = cache }
            } catch {
                stale(name, error)
            }
        }
        self.init(
            token: token, registry: registry, states: states, computed: computed, delivery: delivery, links: links,
            checkpoints: checkpoints)
    }

    private var linksJSON: JSON {
        .object(links.mapValues { ["k": .string($0.key), "l": .string($0.label)] })
    }

    /// The entry ``encodedChanges()`` keeps ``delivery`` under: no state's full name starts with `~`.
    public static let deliveryField = "~delivery"
    /// The entry ``encodedChanges()`` keeps ``links`` under.
    public static let linksField = "~links"

    private static let checkpointPrefix = "~task:"

    /// The entry ``encodedChanges()`` keeps a durable task's checkpoint under.
    public static func checkpointField(_ id: String) -> String { checkpointPrefix + id }

}
