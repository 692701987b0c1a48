// One TCP connection to Redis: pipelines commands from any number of callers and matches replies in order.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Whoever waits for a command's replies.
enum ReplyWaiter: Sendable {
    /// A caller suspended until its single reply arrives.
    case one(CheckedContinuation<RESPValue, any Error>)
    /// `count` consecutive replies, handed over together (called on the event loop). A closure
    /// rather than a continuation, so that code which cannot suspend (a reconnect that starts
    /// on the event loop) can wait too.
    case many(count: Int, completion: @Sendable (Result<[RESPValue], any Error>) -> Void)

    func fail(_ error: any Error) {
        switch self {
        case .one(let continuation): continuation.resume(throwing: error)
        case .many(_, let completion): completion(.failure(error))
        }
    }
}

/// How a timeout names the command it gave up on. Kept unrendered, because rendering costs an
/// allocation per command and is needed only when a command times out.
enum CommandName: Sendable {
    case text(String)
    case bytes([UInt8])
    case pipeline(count: Int, first: String)

    var description: String {
        switch self {
        case .text(let name): name
        case .bytes(let name): String(decoding: name, as: UTF8.self)
        case .pipeline(let count, let first): "a pipeline of \(count) commands starting with \(first)"
        }
    }
}

/// Encoded commands and whoever waits for their replies.
struct OutgoingCommand: Sendable {
    var bytes: ByteBuffer
    var waiter: ReplyWaiter
    var name: CommandName
}

/// Why a connection ended, for the owner deciding when to open the next one.
struct ConnectionEnding: Sendable {
    enum Cause: Sendable {
        case connectFailed
        case lost
        case timedOut
        case malformedReply
        case requested
    }

    var cause: Cause
    /// What the commands still waiting were failed with.
    var error: RedisConnectionError
    /// Whether Redis answered some command with anything but an error: proof that it really
    /// served this connection, rather than accepting it and hanging up (as a full Redis does).
    var answered: Bool
}

/// One connection, opened once and never reopened: when it ends, its owner makes a new one.
///
/// Callers on any thread hand commands to ``enqueue(_:)``, which appends them to an outbox under
/// a lock; one event-loop task per burst writes everything queued and flushes once. Concurrent
/// callers therefore share system calls, and commands go out in the order they were enqueued,
/// which is the order replies are matched in. Commands enqueued while the connection is still
/// being opened wait in the outbox.
final class RedisConnection: Sendable {
    struct Configuration: Sendable {
        var host: String
        var port: Int
        var connectTimeout: TimeAmount
        var commandTimeout: TimeAmount

        init(host: String, port: Int, connectTimeout: Duration, commandTimeout: Duration) {
            self.host = host
            self.port = port
            self.connectTimeout = TimeAmount(connectTimeout)
            self.commandTimeout = TimeAmount(commandTimeout)
        }

        /// `logger` with the server's address in its metadata.
        func tag(_ logger: Logger) -> Logger {
            var logger = logger
            logger[metadataKey: "redis"] = "\(host):\(port)"
            return logger
        }
    }

    let eventLoop: any EventLoop
    private let configuration: Configuration
    private let onPush: (@Sendable (RESPValue) -> Bool)?
    private let onEnd: @Sendable (RedisConnection, ConnectionEnding) -> Void
    private let ended: EventLoopPromise<Void>
    private let state = Mutex(State())

    private struct State {
        enum Phase {
            case connecting
            case active(NIOLoopBound<RedisCommandHandler>)
            /// The channel is closing: commands still waiting will fail, new ones are refused.
            case closing
            case finished
        }

        var phase = Phase.connecting
        var outbox: [OutgoingCommand] = []
        var drainScheduled = false
        var connectStarted = false
        var connectScheduled: Scheduled<Void>?
        var closeRequested = false
    }

    /// Creates a connection that connects once ``start(after:)`` is called.
    ///
    /// - Parameters:
    ///   - onPush: Sees every value Redis sends first, on the event loop; a value it returns
    ///     `true` for is not a reply. Pub/sub messages arrive this way.
    ///   - onEnd: Called once, when the connection has ended and every waiter has been failed.
    init(
        configuration: Configuration,
        eventLoop: any EventLoop,
        onPush: (@Sendable (RESPValue) -> Bool)? = nil,
        onEnd: @escaping @Sendable (RedisConnection, ConnectionEnding) -> Void
    ) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.onPush = onPush
        self.onEnd = onEnd
        self.ended = eventLoop.makePromise()
    }

    /// Whether the connection refuses new commands because it has ended or is closing.
    var isRetired: Bool {
        self.state.withLock {
            switch $0.phase {
            case .connecting, .active: false
            case .closing, .finished: true
            }
        }
    }

    /// Connects after `delay`, the owner's back-off after earlier failures.
    func start(after delay: TimeAmount) {
        self.state.withLock { state in
            if delay > .zero {
                state.connectScheduled = self.eventLoop.scheduleTask(in: delay) { self.connect() }
            } else {
                self.eventLoop.execute { self.connect() }
            }
        }
    }

    /// Queues `command` to be written; returns `false`, leaving it untouched, if the connection
    /// is retired, so the caller can try a new connection instead.
    func enqueue(_ command: OutgoingCommand) -> Bool {
        let outcome = self.state.withLock { state -> EnqueueOutcome in
            switch state.phase {
            case .closing, .finished:
                return .rejected
            case .connecting:
                state.outbox.append(command)
                return .queued
            case .active(let handler):
                state.outbox.append(command)
                guard !state.drainScheduled else { return .queued }
                state.drainScheduled = true
                return .queuedFirst(handler)
            }
        }
        switch outcome {
        case .rejected:
            return false
        case .queued:
            return true
        case .queuedFirst(let handler):
            self.eventLoop.execute { self.drain(into: handler) }
            return true
        }
    }

    private enum EnqueueOutcome {
        case rejected
        case queued
        /// The first command since the last drain: this caller schedules the next one.
        case queuedFirst(NIOLoopBound<RedisCommandHandler>)
    }

    /// Asks the connection to close; commands still waiting fail with ``RedisConnectionError/closed``.
    func requestClose() {
        let action = self.state.withLock { state -> CloseAction in
            state.closeRequested = true
            switch state.phase {
            case .closing, .finished:
                return .nothing
            case .active(let handler):
                return .closeChannel(handler)
            case .connecting:
                // Once connecting, the connect's own outcome ends the connection.
                guard !state.connectStarted else { return .nothing }
                let scheduled = state.connectScheduled
                state.connectScheduled = nil
                return .finishUnconnected(scheduled)
            }
        }
        switch action {
        case .nothing:
            break
        case .closeChannel(let handler):
            self.eventLoop.execute { handler.value.close(cause: .requested) }
        case .finishUnconnected(let scheduled):
            scheduled?.cancel()
            self.finish(ConnectionEnding(cause: .requested, error: .closed, answered: false))
        }
    }

    private enum CloseAction {
        case nothing
        case closeChannel(NIOLoopBound<RedisCommandHandler>)
        case finishUnconnected(Scheduled<Void>?)
    }

    /// Closes the connection and waits until it has ended.
    func close() async {
        self.requestClose()
        try? await self.ended.futureResult.get()
    }

    private func connect() {
        let proceed = self.state.withLock { state in
            guard !state.closeRequested else { return false }
            state.connectStarted = true
            state.connectScheduled = nil
            return true
        }
        guard proceed else { return }

        let configuration = self.configuration
        ClientBootstrap(group: self.eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(RESPDecoder()),
                        RedisCommandHandler(connection: self, commandTimeout: configuration.commandTimeout, onPush: self.onPush)
                    )
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .whenFailure { error in
                let reason = Self.describeConnectFailure(error, timeout: configuration.connectTimeout)
                let failure = RedisConnectionError.cannotConnect(host: configuration.host, port: configuration.port, underlying: reason)
                self.finish(ConnectionEnding(cause: .connectFailed, error: failure, answered: false))
            }
    }

    /// Called by the handler once connected: hands over the commands queued meanwhile, or
    /// `nil` if the owner asked to close in the meantime.
    fileprivate func activated(_ handler: NIOLoopBound<RedisCommandHandler>) -> [OutgoingCommand]? {
        self.state.withLock { state in
            guard !state.closeRequested, case .connecting = state.phase else { return nil }
            state.phase = .active(handler)
            return Self.takeOutbox(&state)
        }
    }

    /// Called by the handler as it starts closing, so that commands from then on go to a new
    /// connection instead of failing with this one.
    fileprivate func retire() {
        self.state.withLock { state in
            if case .active = state.phase {
                state.phase = .closing
            }
        }
    }

    private func drain(into handler: NIOLoopBound<RedisCommandHandler>) {
        let batch = self.state.withLock { state in
            state.drainScheduled = false
            return Self.takeOutbox(&state)
        }
        handler.value.write(batch)
    }

    private static func takeOutbox(_ state: inout State) -> [OutgoingCommand] {
        var batch: [OutgoingCommand] = []
        swap(&batch, &state.outbox)
        return batch
    }

    /// Ends the connection once: fails what never left the outbox and tells the owner.
    fileprivate func finish(_ ending: ConnectionEnding) {
        let unsent = self.state.withLock { state -> [OutgoingCommand]? in
            if case .finished = state.phase { return nil }
            state.phase = .finished
            return Self.takeOutbox(&state)
        }
        guard let unsent else { return }
        for command in unsent {
            command.waiter.fail(ending.error)
        }
        self.ended.succeed()
        self.onEnd(self, ending)
    }

    private static func describeConnectFailure(_ error: any Error, timeout: TimeAmount) -> String {
        switch error {
        case ChannelError.connectTimeout:
            return "no connection within \(timeout.nanoseconds / 1_000_000) ms"
        case let error as NIOConnectionError:
            if let dnsError = error.dnsAError ?? error.dnsAAAAError {
                return "cannot resolve the host name (\(dnsError))"
            }
            // One reason per address tried (IPv4, IPv6), usually all the same.
            var reasons: [String] = []
            for failure in error.connectionErrors {
                let reason = Self.describeSocketError(failure.error)
                if !reasons.contains(reason) { reasons.append(reason) }
            }
            return reasons.isEmpty ? "\(error)" : reasons.joined(separator: "; ")
        default:
            return Self.describeSocketError(error)
        }
    }

    private static func describeSocketError(_ error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return String(cString: strerror(error.errnoCode))
    }
}

/// The connection's end of the channel pipeline: writes batches of commands, matches each reply
/// to the oldest command still waiting, and enforces the command timeout.
final class RedisCommandHandler: ChannelInboundHandler {
    typealias InboundIn = RESPValue
    typealias OutboundOut = ByteBuffer

    private struct InFlight {
        var waiter: ReplyWaiter
        var name: CommandName
        var deadline: NIODeadline
    }

    private let connection: RedisConnection
    private let commandTimeout: TimeAmount
    private let onPush: (@Sendable (RESPValue) -> Bool)?
    private var context: ChannelHandlerContext?
    private var inFlight = CircularBuffer<InFlight>(initialCapacity: 64)
    /// Replies collected so far for the oldest waiter, when it waits for several; only the
    /// oldest waiter ever receives replies, so one array serves them all.
    private var collected: [RESPValue] = []
    /// At most one timer, due when the oldest waiter's deadline passes: later waiters were
    /// written later with the same timeout, so they cannot be due sooner.
    private var timer: Scheduled<Void>?
    private var wasActive = false
    private var answered = false
    private var endCause: ConnectionEnding.Cause?
    private var endError = RedisConnectionError.closed

    init(connection: RedisConnection, commandTimeout: TimeAmount, onPush: (@Sendable (RESPValue) -> Bool)?) {
        self.connection = connection
        self.commandTimeout = commandTimeout
        self.onPush = onPush
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        self.wasActive = true
        context.fireChannelActive()
        guard let queued = self.connection.activated(NIOLoopBound(self, eventLoop: context.eventLoop)) else {
            self.close(cause: .requested)
            return
        }
        self.write(queued)
    }

    /// Writes `batch` with one flush and starts waiting for its replies.
    func write(_ batch: [OutgoingCommand]) {
        guard let context = self.context, context.channel.isActive, self.endCause == nil else {
            for command in batch {
                command.waiter.fail(self.endError)
            }
            return
        }
        let deadline = NIODeadline.now() + self.commandTimeout
        for command in batch {
            self.inFlight.append(InFlight(waiter: command.waiter, name: command.name, deadline: deadline))
            context.write(Self.wrapOutboundOut(command.bytes), promise: nil)
        }
        context.flush()
        self.armTimer(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Once closing, a reply may belong to a command that was already failed.
        guard self.endCause == nil else { return }
        let value = Self.unwrapInboundIn(data)
        if let onPush = self.onPush, onPush(value) { return }
        guard let oldest = self.inFlight.first else {
            self.fail(.protocolViolation("a reply arrived while no command was waiting for one"), cause: .malformedReply)
            return
        }
        if case .error = value {} else { self.answered = true }
        switch oldest.waiter {
        case .one(let continuation):
            self.inFlight.removeFirst()
            continuation.resume(returning: value)
        case .many(let count, let completion):
            self.collected.append(value)
            guard self.collected.count == count else { return }
            self.inFlight.removeFirst()
            let replies = self.collected
            self.collected = []
            completion(.success(replies))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? RESPParseError {
            self.fail(.protocolViolation(error.reason), cause: .malformedReply)
        } else {
            self.close(cause: .lost)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        let waiting = self.inFlight
        self.inFlight.removeAll()
        self.collected = []
        for entry in waiting {
            entry.waiter.fail(self.endError)
        }
        if self.wasActive {
            self.connection.finish(ConnectionEnding(cause: self.endCause ?? .lost, error: self.endError, answered: self.answered))
        }
        context.fireChannelInactive()
    }

    /// Closes the channel; the first cause given is the one reported.
    func close(cause: ConnectionEnding.Cause) {
        if self.endCause == nil {
            self.endCause = cause
            self.connection.retire()
        }
        self.context?.close(promise: nil)
    }

    private func fail(_ error: RedisConnectionError, cause: ConnectionEnding.Cause) {
        if self.endCause == nil {
            self.endError = error
        }
        self.close(cause: cause)
    }

    private func armTimer(context: ChannelHandlerContext) {
        guard self.timer == nil, let oldest = self.inFlight.first else { return }
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: oldest.deadline) {
            self.timer = nil
            self.checkTimeout()
        }
    }

    private func checkTimeout() {
        guard let context = self.context, let oldest = self.inFlight.first else { return }
        guard oldest.deadline <= .now() else {
            self.armTimer(context: context)
            return
        }
        // Its reply may still come, and would then be taken for the next command's: the
        // connection cannot be trusted any more.
        self.inFlight.removeFirst()
        self.collected = []
        oldest.waiter.fail(RedisConnectionError.timeout(command: oldest.name.description))
        self.close(cause: .timedOut)
    }
}

/// The connection a client or subscriber uses now, and when it may open the next one.
///
/// Reconnecting waits longer after each failure in a row (doubling from 50 ms up to 2 s, with
/// jitter so that many processes do not reconnect in step), so a Redis that is down costs a
/// few connection attempts per second rather than a busy loop.
struct ConnectionSlot {
    static let firstRetryDelay = TimeAmount.milliseconds(50)
    static let maxRetryDelay = TimeAmount.seconds(2)

    private(set) var current: RedisConnection?
    private var failures = 0
    private var nextAttempt = NIODeadline.uptimeNanoseconds(0)

    /// The current connection, unless it is retired.
    var live: RedisConnection? {
        guard let current = self.current, !current.isRetired else { return nil }
        return current
    }

    /// Makes `connection` the current one; returns how long it must wait before connecting.
    mutating func install(_ connection: RedisConnection) -> TimeAmount {
        self.current = connection
        return max(.zero, self.nextAttempt - .now())
    }

    /// Records how `connection` ended; returns whether it was the current one. A connection
    /// replaced while it was closing still counts towards the back-off.
    mutating func ended(_ connection: RedisConnection, _ ending: ConnectionEnding) -> Bool {
        let wasCurrent = self.current === connection
        if wasCurrent {
            self.current = nil
        }
        switch ending.cause {
        case .requested, .timedOut:
            break
        case .lost where ending.answered:
            self.failures = 0
        case .lost, .connectFailed, .malformedReply:
            self.failures += 1
        }
        self.nextAttempt = .now() + Self.retryDelay(afterFailures: self.failures)
        return wasCurrent
    }

    static func retryDelay(afterFailures failures: Int) -> TimeAmount {
        guard failures > 0 else { return .zero }
        let doubled = Self.firstRetryDelay.nanoseconds << min(failures - 1, 16)
        let capped = min(doubled, Self.maxRetryDelay.nanoseconds)
        return .nanoseconds(Int64(Double(capped) * Double.random(in: 0.75...1)))
    }
}
