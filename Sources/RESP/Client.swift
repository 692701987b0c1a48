// The public Redis client: one lazily opened, pipelined connection that reconnects by itself, and typed commands.

import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A Redis client over one pipelined TCP connection, safe to share between any number of tasks.
///
/// The connection opens on the first command. Commands from concurrent callers are written in
/// the order they were called, several per system call, and replies are matched to them in
/// that order, so many small commands cost little more than their bytes.
///
/// When something goes wrong the client recovers by itself, without being recreated:
/// - A command with no reply within `commandTimeout` fails with
///   ``RedisConnectionError/timeout(command:)``, and the connection is closed (the late reply
///   would otherwise be taken for the next command's); the next command opens a new one.
/// - When Redis goes away, every command waiting for a reply fails with
///   ``RedisConnectionError/closed``. The next command reconnects; while Redis stays away,
///   attempts are spaced out (from 50 ms, doubling up to 2 s), and commands issued meanwhile
///   wait for the next attempt and fail with ``RedisConnectionError/cannotConnect(host:port:underlying:)``
///   if it fails too.
///
/// A command that was sent is not withdrawn when its task is cancelled: its reply is part of
/// the connection's sequence, and an unlock or cleanup command should still run.
///
/// Because all callers share the connection, commands that change what it is (`SELECT`,
/// `CLIENT SETNAME`: not restored after a reconnect) or how it replies (`SUBSCRIBE`, `MONITOR`,
/// `CLIENT REPLY`: use ``RedisSubscriber`` instead) do not belong here; a blocking command
/// (`BLPOP`) holds up every caller behind it; and `MULTI`...`EXEC` must go in one
/// ``pipeline(_:)-([[String]])`` so that no other caller's command lands inside the transaction.
public final class RedisClient: Sendable {
    private let configuration: RedisConnection.Configuration
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var slot = ConnectionSlot()
        var closed = false
    }

    private static let allocator = ByteBufferAllocator()

    /// Creates a client; it connects when the first command is sent.
    ///
    /// - Parameters:
    ///   - host: Redis's host name or address.
    ///   - port: Redis's TCP port.
    ///   - connectTimeout: How long one connection attempt may take.
    ///   - commandTimeout: How long a command may wait for its reply once written.
    ///   - eventLoopGroup: Where the connection's I/O runs.
    ///   - logger: Where connection failures and reconnections are logged.
    public init(
        host: String,
        port: Int = 6379,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "rill.redis")
    ) {
        self.configuration = RedisConnection.Configuration(
            host: host, port: port, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        self.eventLoop = eventLoopGroup.next()
        self.logger = configuration.tag(logger)
    }

    deinit {
        self.state.withLock { $0.slot.current }?.requestClose()
    }

    // MARK: Sending commands

    /// Sends any command, such as `["INCRBY", "counter", "5"]`, and returns Redis's reply.
    ///
    /// - Throws: ``RedisError`` if Redis replies with an error; ``RedisConnectionError`` if no
    ///   reply came.
    /// - Precondition: `command` is not empty.
    public func send(_ command: [String]) async throws -> RESPValue {
        precondition(!command.isEmpty, "A Redis command needs at least its name")
        var buffer = Self.allocator.buffer(capacity: 0)
        RESPEncoder.writeCommand(command, into: &buffer)
        return try await self.run(buffer, name: .text(command[0]))
    }

    /// Sends any command given as raw bytes, for keys and values that are not UTF-8 text.
    ///
    /// - Throws: As ``send(_:)-([String])``.
    /// - Precondition: `command` is not empty.
    public func send(_ command: [[UInt8]]) async throws -> RESPValue {
        precondition(!command.isEmpty, "A Redis command needs at least its name")
        var buffer = Self.allocator.buffer(capacity: 0)
        RESPEncoder.writeCommand(command, into: &buffer)
        return try await self.run(buffer, name: .bytes(command[0]))
    }

    /// Sends several commands in one write and returns their replies in order.
    ///
    /// The commands are not a transaction: others' commands may run between them on Redis
    /// (wrap them in `MULTI`/`EXEC` for that), but none of this client's other callers'
    /// commands come between them on the connection.
    ///
    /// - Returns: One result per command: its reply, or the error Redis replied with.
    /// - Throws: ``RedisConnectionError`` if the replies did not all arrive.
    /// - Precondition: No command is empty.
    public func pipeline(_ commands: [[String]]) async throws -> [Result<RESPValue, RedisError>] {
        guard let first = commands.first else { return [] }
        var buffer = Self.allocator.buffer(capacity: 0)
        for command in commands {
            precondition(!command.isEmpty, "A Redis command needs at least its name")
            RESPEncoder.writeCommand(command, into: &buffer)
        }
        return try await self.runPipeline(buffer, count: commands.count, first: first[0])
    }

    /// Sends several commands given as raw bytes in one write; see ``pipeline(_:)-([[String]])``.
    public func pipeline(_ commands: [[[UInt8]]]) async throws -> [Result<RESPValue, RedisError>] {
        guard let first = commands.first else { return [] }
        var buffer = Self.allocator.buffer(capacity: 0)
        for command in commands {
            precondition(!command.isEmpty, "A Redis command needs at least its name")
            RESPEncoder.writeCommand(command, into: &buffer)
        }
        return try await self.runPipeline(buffer, count: commands.count, first: String(decoding: first[0], as: UTF8.self))
    }

    /// Closes the connection and waits until it is closed. Commands still waiting fail with
    /// ``RedisConnectionError/closed``, and so does every later command.
    public func close() async {
        let connection = self.state.withLock { state in
            state.closed = true
            return state.slot.current
        }
        await connection?.close()
    }

    // MARK: Keys and strings

    /// `PING`: checks that Redis answers; returns its reply, `PONG`.
    @discardableResult
    public func ping() async throws -> String {
        try await self.send(["PING"]).string ?? ""
    }

    /// `GET key`: the value, or `nil` if the key does not exist.
    public func get(_ key: String) async throws -> [UInt8]? {
        try await self.send(["GET", key]).bytes
    }

    /// `SET key value [PX milliseconds] [NX]`.
    ///
    /// With `nx`, this is the building block of a lock: it sets only if the key does not exist,
    /// and the expiry frees the lock if its owner dies.
    ///
    /// - Parameters:
    ///   - px: Expire the key after this many milliseconds.
    ///   - nx: Set only if the key does not exist yet.
    /// - Returns: Whether the key was set: `false` only when `nx` found the key existing.
    @discardableResult
    public func set(_ key: String, _ value: [UInt8], px: Int? = nil, nx: Bool = false) async throws -> Bool {
        var buffer = Self.allocator.buffer(capacity: key.utf8.count + value.count + 64)
        buffer.writeArrayHeader(3 + (px == nil ? 0 : 2) + (nx ? 1 : 0))
        buffer.writeBulk("SET")
        buffer.writeBulk(key)
        buffer.writeBulk(value)
        if let px {
            buffer.writeBulk("PX")
            buffer.writeBulk(px)
        }
        if nx {
            buffer.writeBulk("NX")
        }
        return try await !self.run(buffer, name: .text("SET")).isNull
    }

    /// `SET` with a text value; see ``set(_:_:px:nx:)-([UInt8],_,_)``.
    @discardableResult
    public func set(_ key: String, _ value: String, px: Int? = nil, nx: Bool = false) async throws -> Bool {
        try await self.set(key, Array(value.utf8), px: px, nx: nx)
    }

    /// `DEL key...`: returns how many of the keys existed. Sends nothing for no keys.
    @discardableResult
    public func del(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await self.integer(["DEL"] + keys)
    }

    /// `INCR key`: adds one to the integer at `key` (a missing key counts as 0) and returns the result.
    @discardableResult
    public func incr(_ key: String) async throws -> Int {
        try await self.integer(["INCR", key])
    }

    /// `EXPIRE key seconds`: returns whether the key exists (and so got the expiry).
    @discardableResult
    public func expire(_ key: String, seconds: Int) async throws -> Bool {
        try await self.integer(["EXPIRE", key, String(seconds)]) == 1
    }

    /// `PEXPIRE key milliseconds`: returns whether the key exists (and so got the expiry).
    @discardableResult
    public func pexpire(_ key: String, milliseconds: Int) async throws -> Bool {
        try await self.integer(["PEXPIRE", key, String(milliseconds)]) == 1
    }

    // MARK: Hashes

    /// `HGET key field`: the field's value, or `nil` if the field or the key does not exist.
    public func hget(_ key: String, _ field: String) async throws -> [UInt8]? {
        try await self.send(["HGET", key, field]).bytes
    }

    /// `HGETALL key`: every field and its value; empty if the key does not exist.
    public func hgetall(_ key: String) async throws -> [String: [UInt8]] {
        let reply = try await self.send(["HGETALL", key])
        guard let elements = reply.array, elements.count % 2 == 0 else {
            throw RedisConnectionError.protocolViolation("HGETALL replied with \(reply), not an array of field-value pairs")
        }
        var fields: [String: [UInt8]] = [:]
        fields.reserveCapacity(elements.count / 2)
        for index in stride(from: 0, to: elements.count, by: 2) {
            guard let field = elements[index].string, let value = elements[index + 1].bytes else {
                throw RedisConnectionError.protocolViolation("HGETALL replied with a field or value that is not a string")
            }
            fields[field] = value
        }
        return fields
    }

    /// `HSET key field value...`: sets every field given; returns how many of them are new.
    /// Sends nothing for no fields.
    @discardableResult
    public func hset(_ key: String, _ fields: [String: [UInt8]]) async throws -> Int {
        guard !fields.isEmpty else { return 0 }
        let size = fields.reduce(key.utf8.count + 32) { $0 + $1.key.utf8.count + $1.value.count + 32 }
        var buffer = Self.allocator.buffer(capacity: size)
        buffer.writeArrayHeader(2 + 2 * fields.count)
        buffer.writeBulk("HSET")
        buffer.writeBulk(key)
        for (field, value) in fields {
            buffer.writeBulk(field)
            buffer.writeBulk(value)
        }
        return try await self.integer(self.run(buffer, name: .text("HSET")))
    }

    /// `HDEL key field...`: returns how many of the fields existed. Sends nothing for no fields.
    @discardableResult
    public func hdel(_ key: String, _ fields: [String]) async throws -> Int {
        guard !fields.isEmpty else { return 0 }
        return try await self.integer(["HDEL", key] + fields)
    }

    // MARK: Pub/sub and scripts

    /// `PUBLISH channel message`: returns how many subscribers received it (on a cluster, on this node).
    @discardableResult
    public func publish(_ channel: String, _ message: [UInt8]) async throws -> Int {
        var buffer = Self.allocator.buffer(capacity: channel.utf8.count + message.count + 48)
        buffer.writeArrayHeader(3)
        buffer.writeBulk("PUBLISH")
        buffer.writeBulk(channel)
        buffer.writeBulk(message)
        return try await self.integer(self.run(buffer, name: .text("PUBLISH")))
    }

    /// `PUBLISH` with a text message; see ``publish(_:_:)-([UInt8])``.
    @discardableResult
    public func publish(_ channel: String, _ message: String) async throws -> Int {
        try await self.publish(channel, Array(message.utf8))
    }

    /// `SCRIPT LOAD`: puts `script` into Redis's script cache ahead of use; returns its digest.
    /// Not needed before ``evalsha(_:keys:args:)``, which loads a script that is missing.
    @discardableResult
    public func scriptLoad(_ script: RedisScript) async throws -> String {
        let reply = try await self.send(["SCRIPT", "LOAD", script.source])
        guard let digest = reply.string else {
            throw RedisConnectionError.protocolViolation("SCRIPT LOAD replied with \(reply), not a digest")
        }
        return digest
    }

    /// Runs `script` with `EVALSHA`, and with `EVAL` if Redis does not have it cached
    /// (`NOSCRIPT`: Redis restarted or its cache was flushed), which also caches it again.
    ///
    /// - Parameters:
    ///   - keys: The keys the script touches, `KEYS[1]`... in Lua.
    ///   - args: The other arguments, `ARGV[1]`... in Lua.
    /// - Returns: The script's return value.
    /// - Throws: ``RedisError`` for an error the script raised or returned.
    public func evalsha(_ script: RedisScript, keys: [String] = [], args: [[UInt8]] = []) async throws -> RESPValue {
        try await self.evaluate(script, keys: keys, args: args)
    }

    /// Runs `script` with text arguments; see ``evalsha(_:keys:args:)-(_,_,[[UInt8]])``.
    public func evalsha(_ script: RedisScript, keys: [String] = [], args: [String]) async throws -> RESPValue {
        try await self.evaluate(script, keys: keys, args: args)
    }

    private func evaluate(_ script: RedisScript, keys: [String], args: [some BulkArgument]) async throws -> RESPValue {
        do {
            return try await self.run(Self.scriptCommand("EVALSHA", script.sha1, keys: keys, args: args), name: .text("EVALSHA"))
        } catch let error as RedisError where error.code == "NOSCRIPT" {
            return try await self.run(Self.scriptCommand("EVAL", script.source, keys: keys, args: args), name: .text("EVAL"))
        }
    }

    /// Sends `script` without waiting for its reply. Commands sent later through this client
    /// are written after it, so Redis runs them after it; `completion` gets the reply (a script
    /// error as ``RedisError``) or the connection's failure once known.
    public func evalshaInOrder(
        _ script: RedisScript, keys: [String] = [], args: [String],
        completion: @escaping @Sendable (Result<RESPValue, any Error>) -> Void
    ) {
        let waiter = ReplyWaiter.many(count: 1) { [weak self] result in
            switch result.map({ $0[0] }) {
            case .success(.error(let message)) where message.hasPrefix("NOSCRIPT"):
                // Redis lost its script cache (a restart): send the source. Commands sent
                // meanwhile may run first; a script used this way must allow that.
                guard let self else { return completion(.failure(RedisConnectionError.closed)) }
                Task {
                    do {
                        completion(.success(try await self.run(Self.scriptCommand("EVAL", script.source, keys: keys, args: args), name: .text("EVAL"))))
                    } catch {
                        completion(.failure(error))
                    }
                }
            case .success(.error(let message)):
                completion(.failure(RedisError(message: message)))
            case let other:
                completion(other)
            }
        }
        submit(OutgoingCommand(bytes: Self.scriptCommand("EVALSHA", script.sha1, keys: keys, args: args), waiter: waiter, name: .text("EVALSHA")))
    }

    private static func scriptCommand(_ command: String, _ script: String, keys: [String], args: [some BulkArgument]) -> ByteBuffer {
        let size = script.utf8.count + keys.reduce(0) { $0 + $1.utf8.count + 16 } + args.reduce(0) { $0 + $1.bulkCount + 16 } + 64
        var buffer = Self.allocator.buffer(capacity: size)
        buffer.writeArrayHeader(3 + keys.count + args.count)
        buffer.writeBulk(command)
        buffer.writeBulk(script)
        buffer.writeBulk(keys.count)
        for key in keys {
            buffer.writeBulk(key)
        }
        for arg in args {
            arg.writeBulk(into: &buffer)
        }
        return buffer
    }

    // MARK: Plumbing

    private func integer(_ command: [String]) async throws -> Int {
        try await self.integer(self.send(command))
    }

    private func integer(_ reply: RESPValue) throws -> Int {
        guard case .integer(let value) = reply else {
            throw RedisConnectionError.protocolViolation("expected an integer reply, got \(reply)")
        }
        return value
    }

    /// Sends an encoded command; turns an error reply into a thrown ``RedisError``.
    private func run(_ bytes: ByteBuffer, name: CommandName) async throws -> RESPValue {
        let reply = try await withCheckedThrowingContinuation { continuation in
            self.submit(OutgoingCommand(bytes: bytes, waiter: .one(continuation), name: name))
        }
        if case .error(let message) = reply {
            throw RedisError(message: message)
        }
        return reply
    }

    private func runPipeline(_ bytes: ByteBuffer, count: Int, first: String) async throws -> [Result<RESPValue, RedisError>] {
        let replies = try await withCheckedThrowingContinuation { continuation in
            let waiter = ReplyWaiter.many(count: count) { continuation.resume(with: $0) }
            self.submit(OutgoingCommand(bytes: bytes, waiter: waiter, name: .pipeline(count: count, first: first)))
        }
        return replies.map { reply in
            if case .error(let message) = reply { return .failure(RedisError(message: message)) }
            return .success(reply)
        }
    }

    /// Hands `command` to the current connection, opening one if there is none.
    private func submit(_ command: OutgoingCommand) {
        // A connection can end between being picked and taking the command; the command was
        // not sent then, so a fresh connection may take it.
        for _ in 0..<3 {
            do {
                if try self.connection().enqueue(command) { return }
            } catch {
                command.waiter.fail(error)
                return
            }
        }
        command.waiter.fail(RedisConnectionError.closed)
    }

    private func connection() throws(RedisConnectionError) -> RedisConnection {
        let (connection, delay) = try self.state.withLock { state throws(RedisConnectionError) -> (RedisConnection, TimeAmount?) in
            guard !state.closed else { throw .closed }
            if let live = state.slot.live { return (live, nil) }
            let connection = RedisConnection(configuration: self.configuration, eventLoop: self.eventLoop) { [weak self] connection, ending in
                self?.connectionEnded(connection, ending)
            }
            return (connection, state.slot.install(connection))
        }
        if let delay {
            connection.start(after: delay)
        }
        return connection
    }

    private func connectionEnded(_ connection: RedisConnection, _ ending: ConnectionEnding) {
        guard self.state.withLock({ $0.slot.ended(connection, ending) }) else { return }
        switch ending.cause {
        case .requested:
            self.logger.debug("Redis connection closed")
        case .connectFailed, .lost, .timedOut, .malformedReply:
            self.logger.warning("Redis connection ended; the next command reconnects", metadata: ["reason": "\(ending.error)"])
        }
    }
}
