// How a tab's own state reads the shared state keys it is linked to: @Linked vars and their recompute.

import Synchronization

/// The values of the keys a tab is linked to, as the code running for that tab now sees them:
/// read when its lock is taken, and replaced by the held value when the code takes a key's lock.
/// `@Linked` getters read it through a task-local, so computed vars over them stay plain getters.
final class LinkedView: Sendable {
    @TaskLocal static var current: LinkedView?

    private let values = Mutex<[String: any LiveState]>([:])

    func value<L: SharedState>(_ type: L.Type) -> L {
        values.withLock { $0[L.fullName] } as? L ?? L()
    }

    func set(_ name: String, _ state: (any LiveState)?) {
        values.withLock { $0[name] = state }
    }
}

extension LiveState {
    /// The getter of a ``Linked()`` var: the value of the key this tab is linked to for `L`, or
    /// `L`'s defaults when it is not linked or when read outside the framework's calls.
    public func _linked<L: SharedState>(_ type: L.Type) -> L {
        LinkedView.current?.value(L.self) ?? L()
    }
}

extension App {
    /// What the `@Linked` vars of a tab with these links show: each key's value now, read
    /// without its lock. `nil` when no state of the app has a `@Linked` var.
    func linkedView(_ links: [String: SharedLink]) async throws -> LinkedView? {
        guard !registry.linked.isEmpty else { return nil }
        let view = LinkedView()
        try await view.load(links, self)
        return view
    }

    /// The name a tab's recompute of its `@Linked` computed vars has in its queue.
    static let linkedName = "linked"

    /// A key the tab is linked to changed: its states with `@Linked` vars are diffed again, in
    /// its event queue, so their computed vars reach the page in the tab's own order. One
    /// waiting recompute answers any number of changes made meanwhile (it reads the keys when it
    /// runs); one that changes nothing saves nothing.
    func refreshLinked(_ token: Token) {
        guard links.recomputing.withLock({ $0.insert(token).inserted }) else { return }
        do {
            try enqueue(token, QueuedEvent(name: Self.linkedName, id: nil, bytes: 0, quiet: true) { [registry, links] scope in
                // A change from here on needs another recompute; this one reads the keys after it.
                _ = links.recomputing.withLock { $0.remove(token) }
                try await scope.reloadLinked()
                scope.touch(registry.readers)
            })
        } catch {
            _ = links.recomputing.withLock { $0.remove(token) }
            logger.debug("a tab's @Linked computed vars wait for its next event", metadata: ["token": "\(token)", "error": "\(error)"])
        }
    }
}

extension LinkedView {
    /// Reads the value of every key `links` names whose state some `@Linked` var shows.
    func load(_ links: [String: SharedLink], _ app: App) async throws {
        for name in app.registry.linked {
            guard let link = links[name] else {
                set(name, nil)
                continue
            }
            set(name, try await app.manager.snapshot(SharedKey(state: name, key: link.key), registry: app.registry).state)
        }
    }
}

extension App {
    /// One of a tab's states now, read without its lock, with its `@Linked` vars showing the keys
    /// the tab is linked to while `body` runs (outside, they show their defaults).
    ///
    /// ```swift
    /// let progress = try await app.read(token, Player.self) { $0.progress }
    /// ```
    public func read<S: LiveState, R>(_ token: Token, _ type: S.Type, _ body: (S) throws -> R) async throws -> R {
        let tab = try await snapshot(token)
        let view = try await linkedView(tab.links)
        return try LinkedView.$current.withValue(view) { try body(tab[S.self]) }
    }
}
