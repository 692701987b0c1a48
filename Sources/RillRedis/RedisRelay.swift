// Updates for tabs whose socket is with another process, carried over Redis pub/sub.

import CoreMetrics
import Logging
import RESP
import Rill
import Synchronization

/// Each process subscribes to `rill:socket:<token>` for the tabs whose socket it holds; an
/// update made anywhere for such a tab is published there. A tab with no subscriber is not
/// connected anywhere: its update is dropped and it gets its whole state when it connects.
final class RedisRelay: UpdateRelay {
    private let client: RedisClient
    private let subscriber: RedisSubscriber
    private let logger: Logger
    private let deliver = Mutex<(@Sendable (Token, StateUpdate) -> Void)?>(nil)
    private let deliverShared = Mutex<(@Sendable (SharedKey, StateUpdate) -> Void)?>(nil)
    /// This process: a shared key's change it published itself was delivered here already.
    let processID: String
    private let superseded = Mutex<(@Sendable (Token) -> Void)?>(nil)
    private let lost = Mutex<(@Sendable () -> Void)?>(nil)

    /// Updates published for tabs connected elsewhere, and received for tabs connected here.
    private let sent = Counter(label: "rill_relay_messages_total", dimensions: [("direction", "out")])
    private let received = Counter(label: "rill_relay_messages_total", dimensions: [("direction", "in")])

    static let prefix = "rill:socket:"
    static let keyPrefix = "rill:key:"

    /// The channel of the process holding the tab's socket.
    static func channel(_ token: Token) -> String { prefix + token.rawValue }

    /// The channel of a shared state key: every process with a tab linked to it subscribes.
    /// A state's full name has no `:`, so the first one after the prefix ends it.
    static func channel(_ key: SharedKey) -> String { keyPrefix + key.state + ":" + key.key }

    init(client: RedisClient, subscriber: RedisSubscriber, processID: String, logger: Logger) {
        self.client = client
        self.subscriber = subscriber
        self.processID = processID
        self.logger = logger
    }

    func bind(
        deliver: @escaping @Sendable (Token, StateUpdate) -> Void, shared: @escaping @Sendable (SharedKey, StateUpdate) -> Void,
        superseded: @escaping @Sendable (Token) -> Void, lost: @escaping @Sendable () -> Void
    ) {
        self.deliver.withLock { $0 = deliver }
        self.deliverShared.withLock { $0 = shared }
        self.superseded.withLock { $0 = superseded }
        self.lost.withLock { $0 = lost }
    }

    /// The subscription came back after a loss: pub/sub keeps nothing, so whatever was published
    /// for tabs here meanwhile is gone, and each of them is sent its state again.
    func reconnected() {
        lost.withLock { $0 }?()
    }

    /// A process holds the socket exactly while it subscribes to the tab's channel.
    func isAttached(_ token: Token) async throws -> Bool {
        let reply = try await client.send(["PUBSUB", "NUMSUB", Self.channel(token)])
        guard let fields = reply.array, fields.count == 2 else { return false }
        return (fields[1].int ?? 0) > 0
    }

    func supersede(_ token: Token) async throws {
        _ = try await client.publish(Self.channel(token), JSON.object(["s": true, "o": .string(processID)]).serialized())
    }

    func attach(_ token: Token) async throws {
        try await subscriber.subscribe([Self.channel(token)])
    }

    func detach(_ token: Token) async {
        try? await subscriber.unsubscribe([Self.channel(token)])
    }

    func publish(_ update: StateUpdate, to token: Token) async throws {
        _ = try await client.publish(Self.channel(token), Self.encode(update).serialized())
        sent.increment()
    }

    func follow(_ key: SharedKey) async throws {
        try await subscriber.subscribe([Self.channel(key)])
    }

    func unfollow(_ key: SharedKey) async {
        try? await subscriber.unsubscribe([Self.channel(key)])
    }

    func gone(_ owners: Set<String>) async throws -> Set<String> {
        let owners = Array(owners)
        let replies = try await client.pipeline(owners.map { ["EXISTS", "rill:alive:\($0)"] })
        return Set(zip(owners, replies).filter { (try? $0.1.get())?.int == 0 }.map(\.0))
    }

    /// A shared key's change as published: the update, and the process that published it.
    static func encode(_ update: StateUpdate, from processID: String) -> String {
        guard case .object(var object) = encode(update) else { return "" }
        object["o"] = .string(processID)
        return JSON.object(object).serialized()
    }

    /// Handles a message of a tab's channel: an update to deliver, or word that the tab's socket
    /// moved to another process; or of a shared key's channel: a change for the tabs linked here.
    func receive(_ message: RedisMessage) {
        if message.channel.hasPrefix(Self.keyPrefix) { return receiveShared(message) }
        guard message.channel.hasPrefix(Self.prefix),
              let token = Token(String(message.channel.dropFirst(Self.prefix.count)))
        else { return }
        do {
            let json = try JSON(parsing: message.payload)
            if json["s"] == true {
                // This process still hears the channel of a tab that just came back to it: its
                // own notice, for the other processes, must not close the socket it now serves.
                if case .string(let origin)? = json["o"], origin == processID { return }
                return superseded.withLock { $0 }?(token) ?? ()
            }
            let update = try Self.decode(json)
            received.increment()
            deliver.withLock { $0 }?(token, update)
        } catch {
            logger.warning("relayed update could not be read", metadata: ["channel": "\(message.channel)", "error": "\(error)"])
        }
    }

    private func receiveShared(_ message: RedisMessage) {
        let rest = message.channel.dropFirst(Self.keyPrefix.count)
        guard let colon = rest.firstIndex(of: ":"),
              let key = try? SharedKey(state: String(rest[..<colon]), key: String(rest[rest.index(after: colon)...]))
        else { return }
        do {
            let json = try JSON(parsing: message.payload)
            if case .string(let origin)? = json["o"], origin == processID { return }
            var update = try Self.decode(json)
            update.stream = SharedStream(key)
            update.encoded = EncodedOnce()
            received.increment()
            deliverShared.withLock { $0 }?(key, update)
        } catch {
            logger.warning("relayed shared change could not be read", metadata: ["channel": "\(message.channel)", "error": "\(error)"])
        }
    }

    static func encode(_ update: StateUpdate) -> JSON {
        var object: [String: JSON] = ["d": .object(update.delta.mapValues { .object($0) })]
        if update.isHydration { object["h"] = true }
        if let error = update.error {
            var reported: [String: JSON] = ["event": error.event.map(JSON.string) ?? .null, "message": .string(error.message)]
            if let id = error.id { reported["id"] = .int(id) }
            if !error.fields.isEmpty { reported["fields"] = .object(error.fields.mapValues(JSON.string)) }
            if error.retry { reported["retry"] = true }
            object["e"] = .object(reported)
        }
        if !update.commands.isEmpty { object["c"] = .array(update.commands.map(\.json)) }
        if !update.acks.isEmpty { object["n"] = .array(update.acks.map(JSON.int)) }
        if let base = update.base { object["f"] = .int(base) }
        if let version = update.version { object["v"] = .int(version) }
        if update.relinked { object["r"] = true }
        if !update.streams.isEmpty {
            object["st"] = .array(update.streams.map { [.string($0.key.state), .string($0.key.id), .int($0.value)] })
        }
        return .object(object)
    }

    static func decode(_ json: JSON) throws -> StateUpdate {
        var delta = Delta()
        if case .object(let states)? = json["d"] {
            for (name, vars) in states {
                if case .object(let values) = vars { delta[name] = values }
            }
        }
        var error: EventError?
        if let reported = json["e"], case .string(let message)? = reported["message"] {
            var event: String?
            if case .string(let name)? = reported["event"] { event = name }
            var id: Int?
            if case .int(let number)? = reported["id"] { id = number }
            var fields: [String: String] = [:]
            if case .object(let given)? = reported["fields"] {
                for (name, value) in given { if case .string(let text) = value { fields[name] = text } }
            }
            error = EventError(event: event, message: message, id: id, fields: fields, retry: reported["retry"] == true)
        }
        var commands: [PageCommand] = []
        if case .array(let relayed)? = json["c"] {
            commands = relayed.compactMap(PageCommand.init(json:))
        }
        var acks: [Int] = []
        if case .array(let ids)? = json["n"] {
            acks = ids.compactMap { if case .int(let id) = $0 { id } else { nil } }
        }
        var base: Int?
        if case .int(let number)? = json["f"] { base = number }
        var version: Int?
        if case .int(let number)? = json["v"] { version = number }
        var streams: [SharedStream: Int] = [:]
        if case .array(let marks)? = json["st"] {
            for mark in marks {
                guard case .array(let fields) = mark, fields.count == 3, case .string(let state) = fields[0],
                      case .string(let id) = fields[1], case .int(let version) = fields[2] else { continue }
                streams[SharedStream(state: state, id: id)] = version
            }
        }
        return StateUpdate(
            delta: delta, isHydration: json["h"] == true, error: error, commands: commands, acks: acks, base: base, version: version,
            streams: streams, relinked: json["r"] == true)
    }
}
