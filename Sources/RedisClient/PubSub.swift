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
        var healthCheck: Task<Void, Never>?
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
            host: host,
            port: port,
            connectTimeout: TimeAmount(connectTimeout),
            commandTimeout: TimeAmount(commandTimeout)
        )
        self.eventLoop = eventLoopGroup.next()
        var logger = logger
        logger[metadataKey: "redis"] = "\(host):\(port)"
        self.logger = logger
        (self.messages, self.continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        if let healthCheckInterval {
            let healthCheck = Task { [weak self] in
                while (try? await Task.sleep(for: healthCheckInterval)) != nil {
                    guard let self else { return }
                    await self.checkHealth()
                }
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
            let waiter = ReplyWaiter.many(count: names.count) { continuation.resume(with: $0) }
            let outcome = self.state.withLock { state -> ApplyOutcome in
                guard !state.closed else { return .failed(.closed) }
                switch change {
                case .subscribe: state.channels.formUnion(names)
                case .psubscribe: state.patterns.formUnion(names)
                case .unsubscribe: state.channels.subtract(names)
                case .punsubscribe: state.patterns.subtract(names)
                }
                var bytes = ByteBuffer()
                RESPEncoder.writeCommand([change.command] + names, into: &bytes)
                if let live = state.slot.live, live.enqueue(OutgoingCommand(bytes: bytes, waiter: waiter, name: .text(change.command))) {
                    return .sent
                }
                switch change {
                case .unsubscribe, .punsubscribe:
                    // Without a connection there is nothing to leave.
                    return .done
                case .subscribe, .psubscribe:
                    // The new connection subscribes to everything remembered, these included.
                    let (connection, delay) = self.openConnection(&state, waiter: waiter)
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

    /// Makes a new connection whose first command subscribes to every channel and pattern
    /// remembered, confirmed to `waiter`; the caller starts it after releasing the lock.
    private func openConnection(_ state: inout State, waiter: ReplyWaiter) -> (RedisConnection, TimeAmount) {
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
            let resubscribed = ReplyWaiter.many(count: state.channels.count + state.patterns.count) { [weak self] result in
                guard let self, case .success = result else { return }
                Task { await self.resubscribed() }
            }
            return self.openConnection(&state, waiter: resubscribed)
        }
        if ending.cause == .requested {
            self.logger.debug("Redis subscriber connection closed")
        } else {
            self.logger.warning(
                "Redis subscriber connection ended; reconnecting",
                metadata: ["reason": "\(ending.error)", "reconnecting": "\(next != nil)"]
            )
        }
        if let (connection, delay) = next {
            connection.start(after: delay)
        }
    }

    private func resubscribed() async {
        let (handlers, counts) = self.state.withLock { ($0.reconnectHandlers, ($0.channels.count, $0.patterns.count)) }
        self.logger.info("Redis subscriber reconnected", metadata: ["channels": "\(counts.0)", "patterns": "\(counts.1)"])
        for handler in handlers {
            await handler()
        }
    }

    /// Sends a `PING` on a live connection; a missing answer times out and closes it, which
    /// starts a reconnection.
    private func checkHealth() async {
        guard let connection = self.state.withLock({ $0.closed ? nil : $0.slot.live }) else { return }
        var bytes = ByteBuffer()
        RESPEncoder.writeCommand(["PING"], into: &bytes)
        _ = try? await connection.execute(bytes, name: .text("PING"))
    }
}
