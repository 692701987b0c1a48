// The app: connected tabs, the per-tab event queues, background tasks, and the one lock path all changes take.

import DequeModule
import Logging
import Synchronization

/// A Rill app: its state types, where their values live, and the tabs connected to it.
///
/// An event's path: the transport calls ``send(_:to:)-(EventSpec,Token)``; a normal event joins its tab's queue
/// (one at a time per tab, in arrival order; tabs run in parallel) and runs holding the tab's
/// lock; a background task starts at once. Every change — handler, background block,
/// ``modifyState(_:_:)`` — goes through one lock path that computes the delta while the lock is
/// held, commits, and only then sends the delta to the tab.
public final class App: Sendable {
    /// The state types and their events.
    public let registry: StateRegistry
    /// Where tabs' states live.
    public let manager: any StateManager
    /// The clock background tasks sleep on (``LiveState/sleep(for:)``); tests pass a manual one.
    public let clock: any Clock<Duration>
    /// Events a tab may have waiting before new ones are refused.
    public let maxQueuedEvents: Int
    /// Bytes of messages (as they arrived over the socket) a tab's waiting events may take.
    public let maxQueuedBytes: Int
    /// Background tasks a tab may have running at once; more are refused with an error.
    public let maxTasksPerTab: Int
    /// How many of a tab's most recent event ids are remembered as applied, so that an event the
    /// page sends again is not run twice (``AppliedEvents``).
    public let eventWindow: Int
    /// Events a tab may send over its socket although no page's component sends them, by full name.
    public let publicEvents: Set<String>
    /// What a tab's socket may send: every page's events and ``publicEvents``; `nil` (an app
    /// without pages, whose front end is its own) allows every event.
    private let callable: Set<String>?
    /// The app's logger.
    public let logger: Logger
    /// A tab lock held longer than this is logged as a warning while it is still held.
    public var slowLockWarning: Duration { lockWatch.threshold }

    struct Connection {
        let sink: any UpdateSink
        var router: RouterData
    }

    struct QueuedEvent {
        let name: String
        let id: Int?
        let bytes: Int
        /// Saves nothing when it changes nothing (the framework's own recomputes).
        let quiet: Bool
        let enqueued = ContinuousClock.now
        let run: @Sendable (EventScope) async throws -> Void

        init(name: String, id: Int?, bytes: Int, quiet: Bool = false, run: @escaping @Sendable (EventScope) async throws -> Void) {
            self.name = name
            self.id = id
            self.bytes = bytes
            self.quiet = quiet
            self.run = run
        }
    }

    let connections = Mutex<[Token: Connection]>([:])
    /// The tabs connected here that are linked to each shared state key.
    let links = LinkIndex()
    /// Presence changes waiting for their key's lock.
    let presenceBatch = PresenceBatch()
    /// A tab's waiting events, the first one running; `bytes` counts the messages they came in.
    struct Queue {
        var events: Deque<QueuedEvent>
        var bytes: Int
    }

    let queues = Mutex<[Token: Queue]>([:])
    private let idleWaiters = Mutex<[Token: [CheckedContinuation<Void, Never>]]>([:])
    private let quietWaiters = Mutex<(list: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)], nextID: UInt64)>(([], 0))
    let closing = Mutex(false)
    let tasks = TaskRegistry()
    private let lockWatch: LockWatch
    let metrics = AppMetrics()
    /// How many log lines each tab's failures may write; the transport's refusals use it too.
    package let logBudget = LogBudget<Token>()

    /// The pages a server serves for this app.
    public let pages: [Page]
    /// What a tab is shown at a path no page matches (served with status 404).
    public let notFound: Page

    /// Creates an app.
    /// - Parameters:
    ///   - pages: The app's pages; every state they show or send events to is registered
    ///     (with ``RouteState``, where the tab's path and parameters are kept).
    ///   - notFound: The page shown at paths no page matches; a plain "Page not found" by default.
    ///   - states: More state types, e.g. ones only reached through ``modifyState(_:_:)``
    ///     (their parent states are added too).
    ///   - manager: Where states live; in this process's memory by default.
    ///   - clock: The clock background tasks sleep on.
    ///   - maxQueuedEvents: Events a tab may have waiting (default 1000); more are refused with an error.
    ///   - maxQueuedBytes: Bytes of socket messages a tab's waiting events may take (default 16 MiB).
    ///   - maxTasksPerTab: Background tasks a tab may have running at once (default 16).
    ///   - eventWindow: How many of a tab's latest event ids are kept as applied (default 1024):
    ///     an event sent again with one of them is acknowledged and not run. Keep it well above
    ///     the number of events a page may hold while offline (its outbox keeps 500).
    ///   - publicEvents: Full names of events a tab may send although no page's component does,
    ///     e.g. for a script of your own on the page. Without pages, every event is public.
    ///   - logger: Where the app logs failed events and slow locks.
    ///   - slowLockWarning: Log a warning, naming the tab and the event or task, while a tab's
    ///     lock has been held longer than this (default one second).
    public init(
        pages: [Page] = [],
        notFound: Page = .notFound,
        states: [any LiveState.Type] = [],
        manager: any StateManager = MemoryStateManager(),
        clock: any Clock<Duration> = ContinuousClock(),
        maxQueuedEvents: Int = 1000,
        maxQueuedBytes: Int = 16 << 20,
        maxTasksPerTab: Int = 16,
        eventWindow: Int = 1024,
        publicEvents: Set<String> = [],
        slowLockWarning: Duration = .seconds(1),
        logger: Logger = Logger(label: "rill")
    ) {
        // The most literal pattern first, so the first match is the one that wins.
        self.pages = pages.enumerated().sorted { a, b in
            a.element.pattern.literalCount != b.element.pattern.literalCount
                ? a.element.pattern.literalCount > b.element.pattern.literalCount : a.offset < b.offset
        }.map(\.element)
        self.notFound = notFound
        let routed: [any LiveState.Type] = pages.isEmpty ? [] : [RouteState.self]
        self.registry = StateRegistry(pages.flatMap(\.states) + notFound.states + routed + states)
        self.manager = manager
        self.clock = clock
        self.maxQueuedEvents = maxQueuedEvents
        self.maxQueuedBytes = maxQueuedBytes
        self.maxTasksPerTab = maxTasksPerTab
        self.eventWindow = max(1, eventWindow)
        self.publicEvents = publicEvents
        self.callable = pages.isEmpty ? nil : (pages + [notFound]).reduce(publicEvents) { $0.union($1.events) }
        self.logger = logger
        self.lockWatch = LockWatch(threshold: slowLockWarning, logger: logger)
        manager.relay?.bind(
            deliver: { [weak self] token, update in
                guard let self else { return }
                self.deliverHere(token, update)
                if update.relinked { Task { await self.refollow(token) } }
            },
            shared: { [weak self] key, update in self?.fanOut(key, update) },
            superseded: { [weak self] token in self?.supersede(token) },
            lost: { [weak self] in self?.resyncAll() })
        bindDurable()
    }

    // MARK: Tabs

    /// Connects a tab: from now on its updates go to `sink`, starting with its whole state
    /// (taken under the tab's lock, so no delta can overtake it).
    ///
    /// - Parameters:
    ///   - token: The tab's token.
    ///   - router: What is known of the connection (headers, address); just the token by default.
    ///   - sink: Where the tab's updates go.
    ///   - takeOver: Whether to replace a connection that already has this token (the
    ///     tab reconnecting before its old socket was seen to close). When `false` and the token
    ///     is connected, nothing happens and `false` is returned: a duplicated tab must get a
    ///     token of its own.
    /// - Returns: Whether the tab is now connected with `sink`.
    @discardableResult
    public func connect(_ token: Token, router: RouterData? = nil, sink: any UpdateSink, takeOver: Bool = true) async throws -> Bool {
        if !takeOver, isConnected(token) { return false }
        // The same check and takeover with every process that shares the states.
        if let relay = manager.relay, !isConnected(token) {
            if !takeOver {
                if try await relay.isAttached(token) { return false }
            } else {
                do {
                    try await relay.supersede(token)
                } catch {
                    logger.warning("a socket of this tab elsewhere could not be told to close", metadata: ["token": "\(token)", "error": "\(error)"])
                }
            }
        }
        let lease = try await manager.acquire(token, registry: registry)
        var state = lease.state
        var hydration: StateUpdate
        do {
            hydration = try await hydrate(&state)
            if !state.touched.isEmpty { try await lease.commit(state) }
        } catch {
            await lease.release()
            throw error
        }
        let (connected, replaced) = connections.withLock { connections -> (Bool, (any UpdateSink)?) in
            let previous = connections[token]?.sink
            if previous != nil, !takeOver { return (false, nil) }
            connections[token] = Connection(sink: sink, router: router ?? RouterData(token: token))
            return (true, previous)
        }
        if connected {
            sink.send(hydration)
            if replaced == nil {
                metrics.tabsConnected.increment()
                // A takeover is the same connection continuing: only a new one is announced.
                for event in registry.connectEvents { send(event, to: token) }
            }
            await manager.connected(token)
            do {
                try await manager.relay?.attach(token)
            } catch {
                logger.warning("tab could not be registered with the relay", metadata: ["token": "\(token)", "error": "\(error)"])
            }
        }
        await lease.release()
        replaced?.close(.superseded)
        if connected { await follow(token, links: state.links) }
        return connected
    }

    /// An event the tab's state records as applied; it is acknowledged instead of run.
    struct Replayed: Error {
        let id: Int
    }

    /// Stops the app: refuses new events, hands its durable background tasks over to other
    /// processes at once, waits up to `gracePeriod` for queued events and other background tasks
    /// to finish, cancels those still running, and closes every connection.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        closing.withLock { $0 = true }
        let deadline = ContinuousClock.now + gracePeriod
        await handOver(until: deadline)
        await quiet(until: deadline)
        tasks.cancelAll()
        await quiet(until: deadline + .seconds(1))
        let sinks = connections.withLock { connections in
            defer { connections.removeAll() }
            return connections.values.map(\.sink)
        }
        for sink in sinks { sink.close(.shutdown) }
    }

    /// Disconnects a tab if `sink` is still its sink, and cancels its tasks declared with
    /// `cancelOnDisconnect`. Its state stays until it expires, for the tab to reconnect.
    public func disconnect(_ token: Token, sink: any UpdateSink) {
        let removed = connections.withLock { connections -> Bool in
            guard let current = connections[token], current.sink === sink else { return false }
            connections[token] = nil
            return true
        }
        if removed {
            metrics.tabsConnected.decrement()
            leaveShared(token, sink: sink)
            tasks.cancel(token: token, onlyOnDisconnect: true)
            for event in registry.disconnectEvents { send(event, to: token) }
            Task {
                // A socket that reconnected meanwhile keeps the subscription and the state.
                guard !self.isConnected(token) else { return }
                await self.manager.relay?.detach(token)
                await self.manager.disconnected(token)
            }
        }
    }

    /// The tab connected to another process with `resume`: its socket here closes with 4001.
    private func supersede(_ token: Token) {
        guard let sink = connections.withLock({ $0[token]?.sink }) else { return }
        disconnect(token, sink: sink)
        sink.close(.superseded)
    }

    /// Whether ``shutdown(gracePeriod:)`` has begun: new events are refused (a readiness check
    /// can report the process as going away).
    public var isShuttingDown: Bool { closing.withLock { $0 } }

    /// Whether a tab with this token is connected.
    public func isConnected(_ token: Token) -> Bool {
        connections.withLock { $0[token] != nil }
    }

    /// Where the tab's events and tasks run: its sink's executor (a socket's event loop), or
    /// the global pool when it has none or is not connected here.
    private func executor(_ token: Token) -> (any TaskExecutor)? {
        connections.withLock { $0[token]?.sink.executor }
    }

    /// What is known of a tab's connection; just the token when it is not connected.
    public func router(_ token: Token) -> RouterData {
        connections.withLock { $0[token]?.router } ?? RouterData(token: token)
    }

    // MARK: Browser storage

    /// What the page object lists of the vars kept in the browser (``BrowserStorage``).
    public var browserStorageJSON: JSON { .array(registry.browserStorage.map(\.json)) }

    /// Sets the values a tab's page had stored for its ``BrowserStorage`` vars (by var path), in
    /// the tab's event queue. A value for no stored var, too large, or not of the var's type is
    /// refused with a ``BrowserStorageError`` and sets nothing.
    public func restore(_ values: [String: JSON], from token: Token) {
        let declared = Dictionary(registry.browserStorage.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        for (path, value) in values {
            guard let storage = declared[path] else {
                return report(token, event: "storage", BrowserStorageError(problem: "'\(path.clipped())' is not a var kept in the browser"))
            }
            let bytes = BrowserStorage.size(of: value)
            guard bytes <= storage.maxBytes else {
                return report(token, event: "storage", BrowserStorageError(problem: "'\(path)' is \(bytes) bytes; the most is \(storage.maxBytes)"))
            }
        }
        do {
            try enqueue(token, QueuedEvent(name: "storage", id: nil, bytes: 0) { scope in
                try await scope.withCheckedOutTab { tab in
                    for (path, value) in values.sorted(by: { $0.key < $1.key }) {
                        do {
                            try tab.set(path, to: value)
                        } catch {
                            throw BrowserStorageError(problem: "'\(path)' does not fit the var: \(error)")
                        }
                    }
                }
            })
        } catch {
            report(token, event: "storage", error)
        }
    }

    // MARK: Navigation

    /// The page at `path` (no query) and its parameters, or `nil` when no page matches.
    public func page(at path: String) -> (page: Page, params: [String: String])? {
        for page in pages {
            if let params = page.pattern.match(path) { return (page, params) }
        }
        return nil
    }

    /// The tab's socket reconnected at `target`: the connection's ``RouterData`` gets the path's
    /// parameters and query again. ``RouteState`` (kept with the tab's state) and `onLoad` are
    /// left alone, as the tab did not move.
    public func resume(_ token: Token, at target: String) {
        let target = Target(target)
        route(token, to: RouteState(path: target.path, params: page(at: target.path)?.params ?? [:], query: target.query))
    }

    private func route(_ token: Token, to route: RouteState) {
        connections.withLock { connections in
            connections[token]?.router.path = route.path
            connections[token]?.router.params = route.params
            connections[token]?.router.query = route.query
        }
    }

    /// The tab arrived at `target` (a path with an optional query, e.g. `/post/7?tab=2`): in the
    /// tab's event queue, sets ``RouteState`` and the connection's ``RouterData``, then runs the
    /// page's `onLoad` events. The browser's runtime calls it when a page loads and on each
    /// navigation within the app; a test calls it through `TestTab.navigate(to:)`. `id`, when
    /// given, is recorded and acknowledged like an event's (``StateUpdate/acks``).
    public func navigate(_ token: Token, to target: String, id: Int? = nil) {
        let target = Target(target)
        let match = page(at: target.path)
        let route = RouteState(path: target.path, params: match?.params ?? [:], query: target.query)
        let onLoad = match?.page.onLoad ?? notFound.onLoad
        self.route(token, to: route)
        let routed = registry.types[RouteState.fullName] != nil
        do {
            try enqueue(token, QueuedEvent(name: "navigate", id: id, bytes: target.path.utf8.count) { scope in
                if routed { try scope.modify(RouteState.self) { $0 = route } }
                scope.chain(onLoad)
            })
        } catch {
            report(token, event: "navigate", id: id, error)
        }
    }

    /// Sends an update to the tab: to its sink if it is connected here, else through the state
    /// manager's relay to the process that holds its socket. A tab connected nowhere gets its
    /// whole state when it connects.
    func deliver(_ token: Token, _ update: StateUpdate) async {
        if deliverHere(token, update) { return }
        guard let relay = manager.relay else { return }
        do {
            try await relay.publish(update, to: token)
        } catch {
            logger.warning("update could not be relayed", metadata: ["token": "\(token)", "error": "\(error)"])
        }
    }

    /// Sends an update without waiting: at once to a socket here, else through the relay.
    func post(_ token: Token, _ update: StateUpdate) {
        if !deliverHere(token, update), manager.relay != nil {
            Task { await deliver(token, update) }
        }
    }

    /// Sends an update to the tab if its socket is with this process.
    @discardableResult
    func deliverHere(_ token: Token, _ update: StateUpdate) -> Bool {
        guard let sink = connections.withLock({ $0[token]?.sink }) else { return false }
        sink.send(update)
        return true
    }

    /// Tells the tab an event failed, quoting at most a bounded, escaped part of what it sent;
    /// the log gets a few lines per tab per second and a count of the rest.
    func report(_ token: Token, event: String?, id: Int? = nil, retry: Bool = false, _ error: any Error) {
        let event = event?.clipped()
        let message = "\(error)".clipped(1000)
        let fields = (error as? FieldErrors)?.fields.mapValues { $0.clipped(1000) } ?? [:]
        let (log, dropped) = logBudget.take(token)
        if log {
            var metadata: Logger.Metadata = ["token": "\(token)", "event": "\(event ?? "-")", "error": "\(message)"]
            if dropped > 0 { metadata["unlogged"] = "\(dropped)" }
            // A form refused for its content is the app working, not failing.
            logger.log(level: error is FieldErrors ? .debug : .error, "event failed", metadata: metadata)
        }
        post(token, StateUpdate(error: EventError(event: event, message: message, id: id, fields: fields, retry: retry)))
    }

    // MARK: Events

    /// Runs an event a tab sent over its socket: like ``send(_:to:)-(EventSpec,Token)``, but only an event one of
    /// the app's pages sends, or one of ``publicEvents``; anything else — a background task the
    /// page only reaches through a handler, a setter no input binds — is reported as no event.
    /// - Parameters:
    ///   - event: The event, as the tab sent it.
    ///   - token: The tab that sent it.
    ///   - bytes: The size of the message it came in, counted against ``maxQueuedBytes``.
    ///   - id: The id the page gave the event: run once however often it comes, and acknowledged
    ///     in ``StateUpdate/acks`` or ``EventError/id``.
    public func receive(_ event: EventSpec, from token: Token, bytes: Int = 0, id: Int? = nil) {
        if let callable, !callable.contains(event.name) {
            metrics.eventsRefused.increment()
            return report(token, event: event.name, id: id, NotCallableError(event: event.name))
        }
        send(event, to: token, bytes: bytes, id: id)
    }

    /// Runs an event for a tab: a normal event joins the tab's queue, a background task starts
    /// at once. An unknown event, a payload that does not fit, or a full queue is reported to
    /// the tab as an error and changes nothing.
    public func send(_ event: EventSpec, to token: Token) {
        send(event, to: token, bytes: 0, id: nil)
    }

    /// Sends a command to a tab's page now, outside any event: to the process holding its
    /// socket, or nowhere if it is not connected. Throws ``InvalidCommandError`` for a command
    /// that breaks its rules.
    public func send(_ command: PageCommand, to token: Token) async throws {
        if let problem = command.problem { throw InvalidCommandError(problem: problem) }
        await deliver(token, StateUpdate(commands: [command]))
    }

    private func send(_ event: EventSpec, to token: Token, bytes: Int, id: Int?) {
        if closing.withLock({ $0 }) {
            // The page sends it again to the process it reconnects to.
            return report(token, event: event.name, id: id, retry: true, ShuttingDownError())
        }
        guard let handler = registry.handler(event.name) else {
            metrics.eventsRefused.increment()
            return report(token, event: event.name, id: id, UnknownEventError(event: event.name))
        }
        let payload = Payload(event: event.name, fields: event.payload)
        do {
            switch handler.kind {
            case .event(let decode):
                try enqueue(token, QueuedEvent(name: event.name, id: id, bytes: bytes, run: try decode(payload)))
            case .background(let cancelOnDisconnect, let durable, let decode):
                let body = try decode(payload)
                // A durable task is recorded in a commit of the tab, so it starts in the tab's queue too.
                guard id != nil || (durable != nil && manager.durable != nil) else {
                    if event.cancelInFlight, let id = event.cancelID { tasks.cancel(token: token, id: id) }
                    return try start(token, name: event.name, id: event.cancelID, cancelOnDisconnect: cancelOnDisconnect, body)
                }
                // A page's event starts its task once: its id is recorded in a commit, in the
                // tab's queue, and the task starts after it. A tab with no room for another task
                // is told so with the id, before anything is recorded.
                try enqueue(token, QueuedEvent(name: event.name, id: id, bytes: bytes) { [tasks, maxTasksPerTab] scope in
                    if !event.cancelInFlight, tasks.count(of: token) >= maxTasksPerTab { throw TooManyTasksError(limit: maxTasksPerTab) }
                    scope.chain(event)
                })
            }
        } catch {
            metrics.eventsRefused.increment()
            report(token, event: event.name, id: id, error)
        }
    }

    func enqueue(_ token: Token, _ event: QueuedEvent) throws {
        let startDrain = try queues.withLock { queues -> Bool in
            guard var queue = queues[token] else {
                queues[token] = Queue(events: [event], bytes: event.bytes)
                return true
            }
            guard queue.events.count < maxQueuedEvents else { throw QueueFullError(limit: maxQueuedEvents) }
            guard queue.bytes + event.bytes <= maxQueuedBytes else { throw QueueFullError(byteLimit: maxQueuedBytes) }
            queue.events.append(event)
            queue.bytes += event.bytes
            queues[token] = queue
            return false
        }
        // Detached: the drain must not inherit the lock scope or task of whoever enqueued.
        if startDrain { Task.detached(executorPreference: executor(token)) { await self.drain(token) } }
    }

    /// Whether an error thrown around a handler's or block's own code (loading, checking and
    /// saving its changes) may pass if the work runs again: a store that failed may answer
    /// later; what the runtime's own checks refuse would be refused the same way.
    static func mayPass(_ error: any Error) -> Bool {
        !(error is InvalidCommandError || error is UnsavableValueError || error is SharedKeyOrderError
            || error is NestedLockError || error is CancellationError)
    }

    /// Runs a tab's queued events one by one; the running event stays at the head so that a
    /// queue entry exists exactly while a drain runs.
    private func drain(_ token: Token) async {
        while let event = queues.withLock({ $0[token]?.events.first }) {
            metrics.queueWait.record(from: event.enqueued)
            // Whether the handler itself failed; else the store did (loading or saving the state).
            var handlerFailed = false
            do {
                try await locked(token, holder: event.name, event: event.id, quiet: event.quiet) { scope in
                    do {
                        try await event.run(scope)
                    } catch {
                        handlerFailed = true
                        throw error
                    }
                }
                metrics.eventsOK.increment()
            } catch let replayed as Replayed {
                metrics.eventsReplayed.increment()
                post(token, StateUpdate(acks: [replayed.id]))
            } catch {
                metrics.eventsFailed.increment()
                let retry = !handlerFailed && Self.mayPass(error)
                report(token, event: event.name, id: event.id, retry: retry, error)
            }
            let more = queues.withLock { queues -> Bool in
                guard var queue = queues[token] else { return false }
                queue.events.removeFirst()
                queue.bytes -= event.bytes
                queues[token] = queue.events.isEmpty ? nil : queue
                return !queue.events.isEmpty
            }
            if !more { break }
        }
        notifyIfIdle(token)
    }

    // MARK: The lock path

    /// Holds the tab's lock around `body`: commits what it changed, sends the delta, then runs
    /// the events it chained; or, if it throws, discards every change of state (and takes back
    /// updates it pushed).
    ///
    /// A task that inherited an open scope of the same tab — the holder itself, an `async let`
    /// or task-group child, or a `Task {}` started inside it — gets ``NestedLockError`` at once:
    /// the lock is free only when that scope ends, and it may be waiting for this very task.
    /// `holder` names the event or task for the slow-lock warning. `id` is the id the page gave
    /// the event: if the tab's state records it as applied, `body` does not run and ``Replayed``
    /// is thrown; else it is recorded in the same commit as the changes and acknowledged with them.
    func locked<R>(
        _ token: Token, kind: EventScope.Kind = .handler, holder: String, event id: Int? = nil, quiet: Bool = false,
        checkpoint: JSON? = nil, _ body: (EventScope) async throws -> R
    ) async throws -> R {
        if let current = EventScope.current, current.token == token, current.isOpen {
            throw NestedLockError(token: token)
        }
        let asked = ContinuousClock.now
        let lease = try await manager.acquire(token, registry: registry)
        let acquired = ContinuousClock.now
        metrics.lockWait.record(from: asked, to: acquired)
        let watched = lockWatch.begin(token, holder: holder)
        defer {
            lockWatch.end(watched)
            metrics.lockHold.record(from: acquired)
        }
        let view = registry.linked.isEmpty ? nil : LinkedView()
        let scope = EventScope(app: self, state: lease.state, kind: kind, view: view)
        return try await LinkedView.$current.withValue(view) {
            do {
                // A task cancelled while it waited runs no block, even when the lock was handed to it.
                try Task.checkCancellation()
                if let id, lease.state.delivery.applied.contains(id) { throw Replayed(id: id) }
                try await view?.load(lease.state.links, self)
                let result = try await EventScope.$current.withValue(scope) { try await body(scope) }
                if let view, let links = scope.changedLinks {
                    // What the tab's @Linked vars show changes with its links.
                    try await view.load(links, self)
                    scope.touch(registry.readers)
                }
                var (state, update, shared) = try scope.finish()
                let durable = recordDurable(scope.chained, token)
                state.tasks.started = Array(durable.values)
                if let record = BackgroundContext.current?.run.record, manager.durable != nil {
                    state.tasks.block = record.id
                    state.tasks.checkpoint = checkpoint
                    state.tasks.ending = TaskRun.cleaning
                }
                if quiet, update.isEmpty, shared == nil, !state.changed(since: lease.state) {
                    await lease.release()
                    return result
                }
                if let id {
                    state.applied(id, window: eventWindow)
                    update.acks.append(id)
                }
                state.number(&update)
                if update.isHydration { try await addShared(to: &update, links: state.links) }
                try await commit(lease, state, update, shared: shared)
                await scope.sharedLease?.release()
                await lease.release()
                if update.relinked, isConnected(token) { await follow(token, links: state.links) }
                for (index, next) in scope.chained.enumerated() {
                    guard let record = durable[index] else {
                        send(next, to: token)
                        continue
                    }
                    if next.cancelInFlight, let id = next.cancelID { tasks.cancel(token: token, id: id) }
                    startDurable(record)
                }
                return result
            } catch {
                var (back, before) = scope.abandon()
                if before.deliveryChanged || !back.isEmpty {
                    // Only the versions the pushed updates used are saved, so the next delta follows them.
                    var update = StateUpdate(delta: back)
                    before.number(&update)
                    try? await commit(lease, before, update)
                }
                await scope.sharedLease?.release()
                await lease.release()
                throw error
            }
        }
    }

    /// Saves `state` under the held lease and sends `update` after the save and before the
    /// release, so a tab sees changes in commit order and never one that was not saved. A tab
    /// connected elsewhere gets it from the commit itself.
    /// A shared key's change goes to its linked tabs here first, so the tab whose event made it
    /// has it by the time its acknowledgement arrives.
    private func commit(_ lease: any StateLease, _ state: TabState, _ update: StateUpdate, shared: SharedWrite? = nil) async throws {
        let token = state.token
        let sink = update.isEmpty ? nil : connections.withLock { $0[token]?.sink }
        do {
            try await lease.commit(state, relaying: sink == nil && !update.isEmpty ? update : nil, shared: shared)
            if let shared { committed(shared) }
        } catch let error as LockExpiredError {
            throw error
        } catch {
            // The store may have saved the change before its reply was lost: once it can be
            // read again, the tab gets its whole state, so it shows what was committed.
            recover(token)
            throw error
        }
        if !update.isEmpty { sink?.send(update) }
    }

    /// The tab's whole state, numbered, with the shared keys it is linked to: what a page gets
    /// when it connects or lost its place. Call with the tab's lock held.
    private func hydrate(_ state: inout TabState) async throws -> StateUpdate {
        let view = try await linkedView(state.links)
        var hydration = StateUpdate(delta: LinkedView.$current.withValue(view) { state.hydrate() }, isHydration: true)
        state.number(&hydration)
        try await addShared(to: &hydration, links: state.links)
        return hydration
    }

    /// Sends a connected tab its whole state again, retrying with backoff while the store cannot
    /// be read (for about half a minute).
    private func recover(_ token: Token) {
        Task.detached { [weak self] in
            for attempt in 0..<7 {
                try? await Task.sleep(for: .milliseconds(250) * (1 << attempt))
                guard let self, self.isConnected(token) else { return }
                do {
                    let lease = try await self.manager.acquire(token, registry: self.registry)
                    var state = lease.state
                    let hydration: StateUpdate
                    do {
                        hydration = try await self.hydrate(&state)
                    } catch {
                        await lease.release()
                        throw error
                    }
                    self.deliverHere(token, hydration)
                    await lease.release()
                    return
                } catch {
                    continue
                }
            }
        }
    }

    /// The name a tab's request for its whole state has in its queue.
    private static let resyncName = "resync"

    /// Sends the tab its whole state and version, in its event queue: its page saw a gap in the
    /// versions of its deltas, or the app may have missed updates relayed for it.
    public func resync(_ token: Token) {
        // One waiting request answers any number made meanwhile; a running one may have read
        // the state before what prompted this one.
        if queues.withLock({ ($0[token]?.events.count ?? 0) > 1 && $0[token]?.events.last?.name == Self.resyncName }) { return }
        do {
            try enqueue(token, QueuedEvent(name: Self.resyncName, id: nil, bytes: 0) { scope in scope.resync() })
        } catch {
            report(token, event: Self.resyncName, error)
        }
    }

    /// Resyncs every tab connected here: updates relayed for them may have been lost.
    private func resyncAll() {
        let tokens = connections.withLock { Array($0.keys) }
        if !tokens.isEmpty {
            logger.notice("relayed updates may have been missed; resending every tab its state", metadata: ["tabs": "\(tokens.count)"])
        }
        for token in tokens { resync(token) }
    }

    /// Changes a tab's state from any task — one the framework did not start too — exactly like
    /// a background task's lock block: it waits for the tab's lock, `body` sees the latest state,
    /// and the delta is sent when it returns. If `body` throws nothing is changed.
    ///
    /// ```swift
    /// try await app.modifyState(token) { tab in
    ///     tab[LowLevelState.self].result = text
    /// }
    /// ```
    public func modifyState<R>(_ token: Token, _ body: (inout TabState) async throws -> R) async throws -> R {
        let holder = BackgroundContext.current?.task.name ?? "modifyState"
        return try await locked(token, kind: .block, holder: holder) { scope in
            try await scope.withCheckedOutTab(body)
        }
    }

    /// The tab's state, read without its lock; it may be stale by the time it is used.
    public func snapshot(_ token: Token) async throws -> TabState {
        try await manager.snapshot(token, registry: registry)
    }

    // MARK: Background tasks

    /// The background tasks running now, oldest first (Reflex's `app.background_tasks`).
    public var backgroundTasks: [BackgroundTask] { tasks.all }

    /// Cancels a background task: it runs no further lock blocks; a block it is inside of
    /// either completes or, if cancellation makes it throw, changes nothing.
    public func cancel(_ task: BackgroundTask) {
        tasks.cancel(task)
    }

    /// Cancels every background task of a tab.
    public func cancelTasks(of token: Token) {
        tasks.cancel(token: token, onlyOnDisconnect: false)
    }

    /// Cancels the tab's background tasks started with ``EventSpec/cancellable(id:cancelInFlight:)``
    /// and this `id`; from a handler, ``LiveState/cancelTasks(id:)`` does the same for its tab.
    public func cancelTasks(id: String, of token: Token) {
        tasks.cancel(token: token, id: id)
    }

    func start(
        _ token: Token, name: String, id: String?, cancelOnDisconnect: Bool, run: TaskRun = TaskRun(),
        _ body: @escaping @Sendable (TabState) async throws -> Void
    ) throws {
        // Counted as running before it can end, and taken back if it does not start.
        let durable = run.record != nil
        metrics.tasksRunning.increment()
        if durable { metrics.durableRunning.increment() }
        do {
            try startRegistered(token, name: name, id: id, cancelOnDisconnect: cancelOnDisconnect, run: run, body)
        } catch {
            metrics.tasksRunning.decrement()
            if durable { metrics.durableRunning.decrement() }
            throw error
        }
        metrics.tasksStarted.increment()
    }

    private func startRegistered(
        _ token: Token, name: String, id: String?, cancelOnDisconnect: Bool, run: TaskRun,
        _ body: @escaping @Sendable (TabState) async throws -> Void
    ) throws {
        // A task resumed after a crash was admitted when it first started.
        let limit = run.resumed ? nil : maxTasksPerTab
        _ = try tasks.start(token: token, name: name, id: id, cancelOnDisconnect: cancelOnDisconnect, run: run, limit: limit, on: executor(token)) { handle in
            do {
                let snapshot = try await self.manager.snapshot(token, registry: self.registry)
                try await BackgroundContext.$current.withValue(BackgroundContext(app: self, task: handle, run: run)) {
                    try await body(snapshot)
                }
                self.metrics.tasksOK.increment()
            } catch let error as TaskInterruptedError where run.cleanedUp {
                // Its clean-up committed: it ends here even if this process hands it over now.
                self.metrics.tasksFailed.increment()
                self.report(token, event: name, error)
            } catch where run.ending == .handover {
                self.logger.debug("durable background task handed over", metadata: ["event": "\(name)"])
            } catch let error as TaskLostError {
                self.logger.warning("durable background task stopped: another process runs it", metadata: ["event": "\(name)", "error": "\(error)"])
            } catch where run.ending == .suspended {
                self.logger.warning("durable background task paused: the store failed; it resumes from its last checkpoint", metadata: ["event": "\(name)", "error": "\(error)"])
            } catch is CancellationError {
                self.metrics.tasksCancelled.increment()
                self.logger.debug("background task cancelled", metadata: ["event": "\(name)"])
            } catch {
                self.metrics.tasksFailed.increment()
                self.report(token, event: name, error)
            }
            await self.ended(run)
            if run.record != nil { self.metrics.durableRunning.decrement() }
            self.metrics.tasksRunning.decrement()
            self.tasks.finish(handle)
            self.notifyIfIdle(token)
        }
    }

    // MARK: Waiting for quiet

    /// Waits until the tab has no queued events and no running background tasks.
    public func idle(_ token: Token) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = idleWaiters.withLock { waiters -> Bool in
                if isIdle(token) { return true }
                waiters[token, default: []].append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func isIdle(_ token: Token) -> Bool {
        queues.withLock { $0[token] == nil } && tasks.count(of: token) == 0
    }

    private func notifyIfIdle(_ token: Token) {
        let ready = idleWaiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            guard waiters[token] != nil, isIdle(token) else { return [] }
            return waiters.removeValue(forKey: token) ?? []
        }
        for waiter in ready { waiter.resume() }
        // Checked under the waiters' lock, as `waitForQuiet` checks before it waits: a change
        // made before this call is seen by one of the two.
        let quietNow = quietWaiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            guard !waiters.list.isEmpty, isQuiet else { return [] }
            defer { waiters.list.removeAll() }
            return waiters.list.map(\.continuation)
        }
        for waiter in quietNow { waiter.resume() }
    }

    // MARK: Waiting for the whole app

    private var isQuiet: Bool {
        queues.withLock { $0.isEmpty } && tasks.isEmpty
    }

    /// Returns once no tab has queued events or running tasks, or when `deadline` passes.
    private func quiet(until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForQuiet() }
            group.addTask { try? await Task.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForQuiet() async {
        let id = quietWaiters.withLock { waiters in
            waiters.nextID += 1
            return waiters.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = quietWaiters.withLock { waiters -> Bool in
                    if isQuiet || Task.isCancelled { return true }
                    waiters.list.append((id, continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = quietWaiters.withLock { waiters -> CheckedContinuation<Void, Never>? in
                guard let index = waiters.list.firstIndex(where: { $0.id == id }) else { return nil }
                return waiters.list.remove(at: index).continuation
            }
            waiter?.resume()
        }
    }
}
