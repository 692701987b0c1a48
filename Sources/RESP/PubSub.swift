// A dedicated subscriber connection that keeps its subscriptions across Redis restarts.

import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A message published to a channel this subscriber listens to.
public struct RedisMessage: Sendable, Hashable {
    /// The channel it was published to.
    public let channel: String
    /// The message, byte for byte.
    public let payload: [UInt8]
    /// The pattern it matched, for a subscription made with ``RedisSubscriber/psubscribe(_:)``.
    public let pattern: String?

    /// Creates a message.
    public init(channel: String, payload: [UInt8], pattern: String? = nil) {
        self.channel = channel
        self.payload = payload
        self.pattern = pattern
    }

    /// The payload decoded as UTF-8, with invalid bytes replaced.
    public var text: String {
        String(decoding: self.payload, as: UTF8.self)
    }
}

/// Receives pub/sub messages over a connection of its own (a subscribed connection can do
/// nothing else), and keeps the subscriptions alive by itself.
///
/// The subscriber remembers every channel and pattern subscribed to. When the connection is
/// lost (Redis restarted, or a health-check `PING` got no answer), it reconnects, spacing out
/// its attempts as ``RedisClient`` does, subscribes to all of them again, and then runs the
/// ``onReconnect(_:)`` handlers: messages published while it was away are lost, and the
/// handlers are the place to re-read whatever state those messages would have announced.
public final class RedisSubscriber: Sendable {
    /// Every message received, in the order Redis sent them, across reconnections; for one
    /// consumer. It ends when the subscriber is closed.
    ///
    /// Messages are buffered without bound until read: leaving them in Redis instead would
    /// make Redis drop the connection (its output-buffer limit for subscribers) and lose them.
    public let messages: AsyncStream<RedisMessage>

    private let continuation: AsyncStream<RedisMessage>.Continuation
    private let configuration: RedisConnection.Configuration
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var slot = ConnectionSlot()
        var channels: Set<String> = []
        var patterns: Set<String> = []
        var reconnectHandlers: [@Sendable () async -> Void] = []
        var healthCheck: RepeatedTask?
        var closed = false
    }

    private enum Change {
        case subscribe
        case unsubscribe
        case psubscribe
        case punsubscribe

        var command: String {
            switch self {
            case .subscribe: "SUBSCRIBE"
            case .unsubscribe: "UNSUBSCRIBE"
            case .psubscribe: "PSUBSCRIBE"
            case .punsubscribe: "PUNSUBSCRIBE"
            }
        }
    }

    /// Creates a subscriber; it connects on the first subscription.
    ///
    /// - Parameters:
    ///   - host: Redis's host name or address.
    ///   - port: Redis's TCP port.
    ///   - connectTimeout: How long one connection attempt may take.
    ///   - commandTimeout: How long Redis may take to confirm a subscription or answer a health check.
    ///   - healthCheckInterval: How often to `PING` Redis, so that a connection that died
    ///     silently (a host gone without closing its sockets) is noticed and replaced; `nil` for never.
    ///   - eventLoopGroup: Where the connection's I/O runs.
    ///   - logger: Where connection failures and reconnections are logged.
    public init(
        host: String,
        port: Int = 6379,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5),
        healthCheckInterval: Duration? = .seconds(15),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "rill.redis.subscriber")
    ) {
        self.configuration = RedisConnection.Configuration(
            host: host, port: port, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        self.eventLoop = eventLoopGroup.next()
        self.logger = configuration.tag(logger)
        (self.messages, self.continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        if let healthCheckInterval {
            // On the event loop rather than in a task, so that a busy task pool cannot delay it.
            let interval = TimeAmount(healthCheckInterval)
            let healthCheck = self.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] task in
                guard let self else {
                    task.cancel()
                    return
                }
                self.checkHealth()
            }
            self.state.withLock { $0.healthCheck = healthCheck }
        }
    }

    deinit {
        let (connection, healthCheck) = self.state.withLock { ($0.slot.current, $0.healthCheck) }
        healthCheck?.cancel()
        connection?.requestClose()
        self.continuation.finish()
    }

    /// Subscribes to `channels` and returns once Redis has confirmed every one, so messages
    /// published from then on are received.
    ///
    /// The channels are remembered even if this throws (Redis is down): they are subscribed
    /// as soon as the subscriber reconnects, and the ``onReconnect(_:)`` handlers run then.
    /// Call ``unsubscribe(_:)`` to forget them.
    ///
    /// - Throws: ``RedisConnectionError`` if the confirmation did not come.
    public func subscribe(_ channels: [String]) async throws {
        try await self.apply(.subscribe, channels)
    }

    /// Subscribes to glob-style `patterns` (`tab:*`); otherwise as ``subscribe(_:)``.
    public func psubscribe(_ patterns: [String]) async throws {
        try await self.apply(.psubscribe, patterns)
    }

    /// Stops listening to `channels` and returns once Redis has confirmed it. Messages already
    /// on their way may still arrive.
    public func unsubscribe(_ channels: [String]) async throws {
        try await self.apply(.unsubscribe, channels)
    }

    /// Stops listening to `patterns`; as ``unsubscribe(_:)``.
    public func punsubscribe(_ patterns: [String]) async throws {
        try await self.apply(.punsubscribe, patterns)
    }

    /// Adds a handler to run each time the subscriber has reconnected and subscribed to
    /// everything again, after a lost connection or a subscription that could not be made.
    /// Handlers run one after another, in the order they were added.
    public func onReconnect(_ handler: @escaping @Sendable () async -> Void) {
        self.state.withLock { $0.reconnectHandlers.append(handler) }
    }

    /// Closes the connection and ends ``messages``. Subscriptions still waiting for their
    /// confirmation fail with ``RedisConnectionError/closed``.
    public func close() async {
        let (connection, healthCheck) = self.state.withLock { state in
            state.closed = true
            return (state.slot.current, state.healthCheck)
        }
        healthCheck?.cancel()
        await connection?.close()
        self.continuation.finish()
    }

    private func apply(_ change: Change, _ names: [String]) async throws {
        // Redis confirms each name given, duplicates included; count each once.
        var seen: Set<String> = []
        let names = names.filter { seen.insert($0).inserted }
        guard !names.isEmpty else { return }

        _ = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[RESPValue], any Error>) in
            let outcome = self.state.withLock { state -> ApplyOutcome in
                guard !state.closed else { return .failed(.closed) }
                let wasSubscribed = !state.channels.isEmpty || !state.patterns.isEmpty
                switch change {
                case .subscribe: state.channels.formUnion(names)
                case .psubscribe: state.patterns.formUnion(names)
                case .unsubscribe: state.channels.subtract(names)
                case .punsubscribe: state.patterns.subtract(names)
                }
                var bytes = ByteBuffer()
                RESPEncoder.writeCommand([change.command] + names, into: &bytes)
                let waiter = ReplyWaiter.many(count: names.count) { continuation.resume(with: $0) }
                if let live = state.slot.live, live.enqueue(OutgoingCommand(bytes: bytes, waiter: waiter, name: .text(change.command))) {
                    return .sent
                }
                switch change {
                case .unsubscribe, .punsubscribe:
                    // Without a connection there is nothing to leave.
                    return .done
                case .subscribe, .psubscribe:
                    // The new connection subscribes to everything remembered, these included.
                    // Earlier subscriptions without a live connection mean one was lost just now
                    // (before its end was handled): this is a reconnection.
                    let (connection, delay) = self.openConnection(&state) { result in
                        continuation.resume(with: result)
                        if wasSubscribed, case .success = result {
                            self.runReconnectHandlers()
                        }
                    }
                    return .connect(connection, delay)
                }
            }
            switch outcome {
            case .sent: break
            case .done: continuation.resume(returning: [])
            case .failed(let error): continuation.resume(throwing: error)
            case .connect(let connection, let delay): connection.start(after: delay)
            }
        }
    }

    private enum ApplyOutcome {
        case sent
        case done
        case failed(RedisConnectionError)
        case connect(RedisConnection, TimeAmount)
    }

    /// Makes a new connection whose first commands subscribe to every channel and pattern
    /// remembered, and get their confirmations to `confirmed`; the caller starts it after
    /// releasing the lock.
    private func openConnection(
        _ state: inout State,
        confirmed: @escaping @Sendable (Result<[RESPValue], any Error>) -> Void
    ) -> (RedisConnection, TimeAmount) {
        let connection = RedisConnection(
            configuration: self.configuration,
            eventLoop: self.eventLoop,
            onPush: { [continuation] value in Self.deliver(value, to: continuation) },
            onEnd: { [weak self] connection, ending in self?.connectionEnded(connection, ending) }
        )
        var bytes = ByteBuffer()
        if !state.channels.isEmpty {
            RESPEncoder.writeCommand(["SUBSCRIBE"] + state.channels, into: &bytes)
        }
        if !state.patterns.isEmpty {
            RESPEncoder.writeCommand(["PSUBSCRIBE"] + state.patterns, into: &bytes)
        }
        let name = CommandName.text(state.channels.isEmpty ? "PSUBSCRIBE" : "SUBSCRIBE")
        let waiter = ReplyWaiter.many(count: state.channels.count + state.patterns.count, completion: confirmed)
        // A fresh connection takes any command.
        _ = connection.enqueue(OutgoingCommand(bytes: bytes, waiter: waiter, name: name))
        return (connection, state.slot.install(connection))
    }

    /// Passes on a published message; returns `false` for everything else (confirmations and
    /// pongs), which are replies to the subscriber's own commands.
    private static func deliver(_ value: RESPValue, to continuation: AsyncStream<RedisMessage>.Continuation) -> Bool {
        guard case .array(let parts?) = value, parts.count >= 3, case .bulk(let kind?) = parts[0] else { return false }
        if parts.count == 3, kind.elementsEqual("message".utf8),
            let channel = parts[1].string, case .bulk(let payload?) = parts[2]
        {
            continuation.yield(RedisMessage(channel: channel, payload: payload))
            return true
        }
        if parts.count == 4, kind.elementsEqual("pmessage".utf8),
            let pattern = parts[1].string, let channel = parts[2].string, case .bulk(let payload?) = parts[3]
        {
            continuation.yield(RedisMessage(channel: channel, payload: payload, pattern: pattern))
            return true
        }
        return false
    }

    private func connectionEnded(_ connection: RedisConnection, _ ending: ConnectionEnding) {
        let next = self.state.withLock { state -> (RedisConnection, TimeAmount)? in
            guard state.slot.ended(connection, ending), !state.closed else { return nil }
            guard !state.channels.isEmpty || !state.patterns.isEmpty else { return nil }
            return self.openConnection(&state) { [weak self] result in
                if case .success = result {
                    self?.runReconnectHandlers()
                }
            }
        }
        if ending.cause == .requested {
            self.logger.debug("Redis subscriber connection closed")
        } else {
            self.logger.warning(
                "Redis subscriber connection ended",
                metadata: ["reason": "\(ending.error)", "reconnecting": "\(next != nil)"]
            )
        }
        if let (connection, delay) = next {
            connection.start(after: delay)
        }
    }

    private func runReconnectHandlers() {
        let (handlers, channels, patterns) = self.state.withLock { ($0.reconnectHandlers, $0.channels.count, $0.patterns.count) }
        self.logger.info("Redis subscriber reconnected", metadata: ["channels": "\(channels)", "patterns": "\(patterns)"])
        Task {
            for handler in handlers {
                await handler()
            }
        }
    }

    /// Sends a `PING` on a live connection; a missing answer times out and closes it, which
    /// starts a reconnection.
    private func checkHealth() {
        guard let connection = self.state.withLock({ $0.closed ? nil : $0.slot.live }) else { return }
        var bytes = ByteBuffer()
        RESPEncoder.writeCommand(["PING"], into: &bytes)
        _ = connection.enqueue(OutgoingCommand(bytes: bytes, waiter: .many(count: 1) { _ in }, name: .text("PING")))
    }
}
