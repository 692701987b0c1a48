// How shared state keys reach tabs: the index of linked tabs here, fan-out, presence, and the app's calls.

import Synchronization

/// The tabs connected to this process that are linked to each shared state key, with the sink
/// each one's updates go to; a key's change is written to these sinks, not looked up per tab.
final class LinkIndex: Sendable {
    private struct Index {
        var sinks: [SharedKey: [Token: any UpdateSink]] = [:]
        var keys: [Token: [SharedKey: String]] = [:]
    }

    private let index = Mutex(Index())
    /// One tab's link changes are followed one at a time, in the order they were committed.
    let order = KeyedLock<Token>()
    /// The keys whose changes made elsewhere this process follows through the relay, whether
    /// its presence sweep runs, and the lock that puts one key's (un)subscriptions in order.
    let followed = Mutex<(keys: Set<SharedKey>, sweeping: Bool)>(([], false))
    let subscriptions = KeyedLock<SharedKey>()
    /// Tabs with a recompute of their `@Linked` computed vars waiting in their queue.
    let recomputing = Mutex<Set<Token>>([])

    /// Whether a tab here is linked to `key`.
    func isLinked(_ key: SharedKey) -> Bool {
        index.withLock { $0.sinks[key] != nil }
    }

    /// Where a key's changes go.
    func sinks(_ key: SharedKey) -> [any UpdateSink] {
        index.withLock { $0.sinks[key].map { Array($0.values) } ?? [] }
    }

    /// Whether the tab is linked to `key` here now.
    func contains(_ token: Token, _ key: SharedKey) -> Bool {
        index.withLock { $0.keys[token]?[key] != nil }
    }

    /// Makes the tab's entries `wanted` (key to label), its updates going to `sink`. Returns the
    /// keys it left, and the keys it joined, relabelled, or now reaches through another sink:
    /// those need the key's whole value.
    func set(_ token: Token, sink: any UpdateSink, _ wanted: [SharedKey: String]) -> (left: [SharedKey], joined: [SharedKey]) {
        index.withLock { index in
            let had = index.keys[token] ?? [:]
            var left: [SharedKey] = []
            var joined: [SharedKey] = []
            for key in had.keys where wanted[key] == nil {
                index.sinks[key]?[token] = nil
                if index.sinks[key]?.isEmpty == true { index.sinks[key] = nil }
                left.append(key)
            }
            for (key, label) in wanted {
                if had[key] != label || index.sinks[key]?[token] !== sink { joined.append(key) }
                index.sinks[key, default: [:]][token] = sink
            }
            index.keys[token] = wanted.isEmpty ? nil : wanted
            return (left, joined)
        }
    }

    /// Forgets the tab if its updates still go to `sink`; returns the keys it was linked to.
    func remove(_ token: Token, sink: any UpdateSink) -> [SharedKey] {
        index.withLock { index in
            guard let keys = index.keys[token], keys.keys.allSatisfy({ index.sinks[$0]?[token] === sink }) else { return [] }
            for key in keys.keys {
                index.sinks[key]?[token] = nil
                if index.sinks[key]?.isEmpty == true { index.sinks[key] = nil }
            }
            index.keys[token] = nil
            return Array(keys.keys)
        }
    }

    /// The tabs linked to `key` here, with their labels and sinks.
    func tabs(_ key: SharedKey) -> [(Token, String, any UpdateSink)] {
        index.withLock { index in
            (index.sinks[key] ?? [:]).compactMap { token, sink in index.keys[token]?[key].map { (token, $0, sink) } }
        }
    }
}

extension App {
    // MARK: Changing shared states

    /// Changes a shared state key's value from any task of any process — a webhook, a timer —
    /// under the key's lock: `body` sees the latest value, and when it returns the change is
    /// saved and reaches every linked tab. If `body` throws nothing is changed.
    ///
    /// ```swift
    /// try await app.modifyShared(Room.self, "lobby") { room in
    ///     room.messages.append(message)
    /// }
    /// ```
    ///
    /// A handler or block that already holds a shared key cannot wait for another (the two
    /// could wait for each other): it gets ``SharedKeyOrderError``.
    public func modifyShared<S: SharedState, R>(_ type: S.Type, _ key: String, _ body: (inout S) async throws -> R) async throws -> R {
        let key = try SharedKey(S.self, key)
        if let scope = EventScope.current, scope.isOpen, let held = scope.sharedLease?.value.key {
            throw SharedKeyOrderError(problem: "modifyShared(\(key)) inside a handler or block that holds \(held): change it in an event of its own")
        }
        return try await withShared(key) { value in
            var state = value.state as! S
            let result = try await body(&state)
            value.state = state
            return result
        }
    }

    /// A shared state key's value now, read without its lock.
    public func sharedState<S: SharedState>(_ type: S.Type, _ key: String) async throws -> S {
        try await manager.snapshot(SharedKey(S.self, key), registry: registry).state as! S
    }

    /// The connected tabs linked to a shared state key, in the order they joined.
    public func presence<S: SharedState>(_ type: S.Type, _ key: String) async throws -> [Presence] {
        try await manager.snapshot(SharedKey(S.self, key), registry: registry).presence
    }

    /// Holds the key's lock around `body`, then saves and sends what it changed.
    private func withShared<R>(_ key: SharedKey, _ body: (inout SharedValue) async throws -> R) async throws -> R {
        let lease = try await manager.acquire(key, registry: registry)
        do {
            var hold = EventScope.Hold(lease: lease, value: lease.value)
            let result = try await body(&hold.value)
            if let write = try Unsavable.check({ EventScope.write(hold) }) { try await commit(write) }
            await lease.release()
            return result
        } catch {
            await lease.release()
            throw error
        }
    }

    // MARK: Delivering

    /// Writes a key's change to every tab linked to it here: one update, its bytes made once.
    func fanOut(_ key: SharedKey, _ update: StateUpdate) {
        guard !update.isEmpty else { return }
        let sinks = links.sinks(key)
        for sink in sinks { sink.send(update) }
        metrics.sharedDeliveries.increment(by: sinks.count)
        // @Linked vars see the state, not who is present: a join or leave recomputes nothing.
        if registry.linked.contains(key.state), update.delta[key.state]?.keys.contains(where: { $0 != SharedValue.presenceName }) == true {
            for (token, _, _) in links.tabs(key) { refreshLinked(token) }
        }
    }

    /// Saves a key's change under its held lease and hands it to the tabs linked here.
    func commit(_ write: SharedWrite) async throws {
        try await write.lease.commit(write.value, relaying: write.update)
        committed(write)
    }

    /// A key's change was saved (alone, or with a tab's): counts it and hands it to the tabs here.
    func committed(_ write: SharedWrite) {
        if write.update.version != nil { metrics.sharedChanges.increment() }
        fanOut(write.value.key, write.update)
    }

    /// Adds the tab's shared states to its hydration: each linked key's value and version, the
    /// defaults of those it is not linked to.
    func addShared(to update: inout StateUpdate, links: [String: SharedLink]) async throws {
        for (name, type) in registry.shared {
            if let link = links[name] {
                let key = try SharedKey(state: name, key: link.key)
                var value = try await manager.snapshot(key, registry: registry)
                update.delta[name] = value.hydrate()
                update.streams[SharedStream(key)] = value.version
            } else {
                update.delta[name] = Self.defaults(type)
            }
        }
    }

    private static func defaults(_ type: any SharedState.Type) -> [String: JSON] {
        var cache: [String: JSON] = [:]
        var values = type.init().changes(from: nil, cache: &cache)
        values[SharedValue.presenceName] = .array([])
        return values
    }

    // MARK: Following a tab's links

    /// Makes this process's index follow a connected tab's links: a key it left gets it out of
    /// the key's presence and sends the page the state's defaults; a key it joined (or now
    /// reaches through a new socket) puts it in the key's presence and sends the page the key's
    /// whole value, read under the key's lock so no change of the key slips between the two.
    func follow(_ token: Token, links wanted: [String: SharedLink]) async {
        guard !registry.shared.isEmpty else { return }
        do {
            try await links.order.lock(token)
        } catch {
            return
        }
        defer { links.order.unlock(token) }
        guard let sink = connections.withLock({ $0[token]?.sink }) else { return }
        var keys: [SharedKey: String] = [:]
        for (name, link) in wanted where registry.shared[name] != nil {
            if let key = try? SharedKey(state: name, key: link.key) { keys[key] = link.label }
        }
        let (left, joined) = links.set(token, sink: sink, keys)
        for key in left {
            if let type = registry.shared[key.state], !keys.keys.contains(where: { $0.state == key.state }) {
                sink.send(StateUpdate(delta: [key.state: Self.defaults(type)], isHydration: true, stream: SharedStream(key)))
            }
            await leave(key, token)
            await subscribe(key)
        }
        for key in joined.sorted(by: { $0.state < $1.state }) {
            // Subscribed before the value is read: no change of the key falls between the two.
            await subscribe(key)
            await join(key, token, label: keys[key] ?? "", sink: sink)
        }
    }

    /// Follows a key's changes made by other processes exactly while a tab here is linked to it.
    private func subscribe(_ key: SharedKey) async {
        guard let relay = manager.relay else { return }
        do {
            try await links.subscriptions.lock(key)
        } catch {
            return
        }
        defer { links.subscriptions.unlock(key) }
        let wanted = links.isLinked(key)
        guard wanted != links.followed.withLock({ $0.keys.contains(key) }) else { return }
        if wanted {
            do {
                try await relay.follow(key)
            } catch {
                logger.warning("changes of a shared state key made elsewhere will not reach tabs here", metadata: ["key": "\(key)", "error": "\(error)"])
                return
            }
            let start = links.followed.withLock { followed -> Bool in
                followed.keys.insert(key)
                defer { followed.sweeping = true }
                return !followed.sweeping
            }
            if start { Task.detached { [weak self] in await self?.sweepPresence() } }
        } else {
            await relay.unfollow(key)
            _ = links.followed.withLock { $0.keys.remove(key) }
        }
    }

    /// While this process follows keys, takes the tabs of processes that died out of their
    /// presence lists, every second: their sockets went with them. It also puts back its own
    /// linked tabs that a list lacks: another process may have taken them out while this one
    /// could not renew its alive mark (Redis restarting, a long pause).
    private func sweepPresence() async {
        while true {
            try? await Task.sleep(for: .seconds(1))
            let keys = links.followed.withLock { followed -> Set<SharedKey>? in
                guard !followed.keys.isEmpty else {
                    followed.sweeping = false
                    return nil
                }
                return followed.keys
            }
            guard let keys, let relay = manager.relay else { return }
            for key in keys {
                do {
                    let presence = try await manager.snapshot(key, registry: registry).presence
                    let listed = Set(presence.map(\.token))
                    for (token, label, sink) in links.tabs(key) where !listed.contains(token) {
                        await join(key, token, label: label, sink: sink)
                    }
                    let owners = Set(presence.compactMap(\.owner)).subtracting([manager.processID].compactMap { $0 })
                    guard !owners.isEmpty else { continue }
                    let gone = try await relay.gone(owners)
                    guard !gone.isEmpty else { continue }
                    try await withShared(key) { value in
                        value.presence.removeAll { $0.owner.map(gone.contains) ?? false }
                    }
                } catch {
                    logger.debug("presence sweep of a shared state key failed", metadata: ["key": "\(key)", "error": "\(error)"])
                }
            }
        }
    }

    /// Refollows a tab whose link change was committed by another process.
    func refollow(_ token: Token) async {
        guard isConnected(token), let state = try? await manager.snapshot(token, registry: registry) else { return }
        await follow(token, links: state.links)
    }

    /// The tab's socket left: it leaves the presence of every key it was linked to. In the tab's
    /// order, so a follow of the same socket still under way is undone after it, not before.
    func leaveShared(_ token: Token, sink: any UpdateSink) {
        guard !registry.shared.isEmpty else { return }
        Task.detached {
            do {
                try await self.links.order.lock(token)
            } catch {
                return
            }
            defer { self.links.order.unlock(token) }
            for key in self.links.remove(token, sink: sink) {
                await self.leave(key, token)
                await self.subscribe(key)
            }
        }
    }

    private func join(_ key: SharedKey, _ token: Token, label: String, sink: any UpdateSink) async {
        await presenceBatch.add(.join(token, label: label, sink: sink), to: key) { changes in await self.write(changes, to: key) }
    }

    private func leave(_ key: SharedKey, _ token: Token) async {
        await presenceBatch.add(.leave(token), to: key) { changes in await self.write(changes, to: key) }
    }

    /// Writes joins and leaves to the key's presence list in one commit, then sends each tab that
    /// joined the key's whole value, under the key's lock: no change of the key falls between.
    private func write(_ changes: [PresenceBatch.Change], to key: SharedKey) async {
        do {
            let lease = try await manager.acquire(key, registry: registry)
            var hold = EventScope.Hold(lease: lease, value: lease.value)
            var joined: [any UpdateSink] = []
            for change in changes {
                switch change {
                case .join(let token, let label, let sink):
                    hold.value.presence.removeAll { $0.token == token }
                    hold.value.presence.append(Presence(token: token, label: label, owner: manager.processID))
                    joined.append(sink)
                case .leave(let token):
                    // A tab that came back meanwhile stays.
                    if !links.contains(token, key) { hold.value.presence.removeAll { $0.token == token } }
                }
            }
            var saved = lease.value
            do {
                if let write = EventScope.write(hold) {
                    try await commit(write)
                    saved = write.value
                }
            } catch {
                await lease.release()
                throw error
            }
            if !joined.isEmpty {
                let whole = StateUpdate(delta: [key.state: saved.hydrate()], isHydration: true, version: saved.version, stream: SharedStream(key))
                for sink in joined { sink.send(whole) }
            }
            await lease.release()
        } catch {
            logger.warning("a shared state key's presence list could not be written", metadata: ["key": "\(key)", "tabs": "\(changes.count)", "error": "\(error)"])
        }
    }
}

extension LiveState {
    // MARK: Linking

    /// Links this tab to `key` of the shared state `S` (Reflex's `_link_to`), in this handler's
    /// or block's commit: from then on the tab shows that key's value, its events for `S` change
    /// it, and it is in the key's presence under `label` while connected. Linking to another key
    /// leaves the one before.
    ///
    /// A key is a capability: ``SharedState/authorizeLink(key:router:)`` is asked first, and a
    /// refusal throws ``LinkRefusedError``. A handler that uses `S` cannot change its link in the
    /// same run: link first.
    public func link<S: SharedState>(_ type: S.Type, to key: String, as label: String = "") async throws {
        let scope = try Self.lockedScope(S.self)
        guard scope.app.registry.shared[S.fullName] != nil else { throw UnknownStateError(path: S.fullName) }
        let key = try SharedKey(S.self, key)
        guard label.utf8.count <= SharedKey.maxKeyBytes else { throw InvalidKeyError(state: S.fullName, key: key.key, label: label) }
        guard try await S.authorizeLink(key: key.key, router: scope.app.router(scope.token)) else {
            throw LinkRefusedError(state: S.fullName)
        }
        try scope.link(S.fullName, SharedLink(key: key.key, label: label))
    }

    /// Unlinks this tab from its key of `S` (Reflex's `_unlink`): the tab shows `S`'s defaults again.
    public func unlink<S: SharedState>(_ type: S.Type) async throws {
        try Self.lockedScope(S.self).link(S.fullName, nil)
    }

    /// The key of `S` this tab is linked to, or `nil`.
    public func linkedKey<S: SharedState>(_ type: S.Type) async throws -> String? {
        try Self.lockedScope(S.self).link(of: S.fullName)?.key
    }

    private static func lockedScope<S: SharedState>(_ type: S.Type) throws -> EventScope {
        guard let scope = EventScope.current, scope.heldByCurrentTask else {
            throw ImmutableStateError.notLocked(state: "\(S.self)")
        }
        return scope
    }
}
