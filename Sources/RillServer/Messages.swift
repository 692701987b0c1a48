// The wire messages of docs/protocol.md: decoding what a tab sends, encoding what it is sent.

import Rill

/// A message from a tab, checked against the protocol.
enum Incoming {
    /// An event, with the id the page gave it (acknowledged in `acks`, or in the error).
    case event(EventSpec, id: Int?)
    /// The page checks that the socket still carries messages both ways; answered with a pong
    /// carrying the same `id`, ahead of any queued event's delta.
    case ping(id: JSON)
    /// The page moved to another path of the app without reloading (a link, back or forward).
    case navigate(path: String)
    /// The values the page had kept for the app's ``BrowserStorage`` vars, by var path.
    case storage([String: JSON])
    /// The page missed a delta (the versions have a gap) and asks for its whole state.
    case resync

    /// Parses one text message; the error says what was wrong, for the tab to read.
    init(_ text: some Collection<UInt8>) throws(ProtocolError) {
        let json: JSON
        do {
            json = try JSON(parsing: text)
        } catch {
            throw ProtocolError("message is not JSON (\("\(error)".clipped(200))); send {\"type\":\"event\",\"name\":…,\"payload\":{…}}")
        }
        guard case .object(let object) = json else {
            throw ProtocolError("message must be a JSON object, got \(json.kindName)")
        }
        guard case .string(let type)? = object["type"] else {
            throw ProtocolError("message has no string 'type'; a tab sends \"event\", \"navigate\", \"storage\", \"resync\" and \"ping\"")
        }
        if type == "ping" {
            switch object["id"] {
            case let id? where id.isNumberOrString:
                self = .ping(id: id)
            default:
                throw ProtocolError("ping message needs a number or string 'id'")
            }
            return
        }
        if type == "resync" {
            self = .resync
            return
        }
        if type == "storage" {
            guard case .object(let values)? = object["values"], values.count <= 256 else {
                throw ProtocolError("storage message needs a 'values' object of at most 256 vars")
            }
            self = .storage(values)
            return
        }
        if type == "navigate" {
            guard case .string(let path)? = object["path"], path.hasPrefix("/"), path.utf8.count <= 4096 else {
                throw ProtocolError("navigate message needs a 'path' starting with '/', at most 4096 bytes")
            }
            self = .navigate(path: path)
            return
        }
        guard type == "event" else {
            throw ProtocolError("unknown message type '\(type.clipped())'; a tab sends \"event\", \"navigate\", \"storage\", \"resync\" and \"ping\"")
        }
        guard case .string(let name)? = object["name"], !name.isEmpty else {
            throw ProtocolError("event message has no string 'name', e.g. \"my_task_state.toggle_running\"")
        }
        var id: Int?
        switch object["id"] {
        case nil, .null?:
            break
        case .int(let number)? where number >= 0 && number <= 1 << 53:
            id = number
        default:
            throw ProtocolError("event '\(name.clipped())': 'id' must be a whole number from 0 to 2^53")
        }
        switch object["payload"] {
        case nil, .null?:
            self = .event(EventSpec(name: name), id: id)
        case .object(let payload)?:
            self = .event(EventSpec(name: name, payload: payload), id: id)
        case let other?:
            throw ProtocolError("event '\(name.clipped())': 'payload' must be an object of arguments, got \(other.kindName)")
        }
    }
}

/// A message that breaks the protocol; nothing was run.
struct ProtocolError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension StateUpdate {
    /// The update as a protocol message for the tab `token`. A shared key's change names its
    /// stream and no token, so every linked tab gets the same bytes.
    func message(token: Token) -> JSON {
        // Room for every member at once: growing a dictionary rehashes what it holds.
        var message = [String: JSON](minimumCapacity: 6)
        if let error {
            message["type"] = "error"
            message["event"] = error.event.map(JSON.string) ?? .null
            message["message"] = .string(error.message)
            if let id = error.id { message["id"] = .int(id) }
            if !error.fields.isEmpty { message["fields"] = .object(error.fields.mapValues(JSON.string)) }
            if error.retry { message["retry"] = true }
        } else if isHydration {
            message["type"] = "hydrate"
            if stream == nil { message["token"] = .string(token.rawValue) }
            message["state"] = Self.object(delta)
            if !streams.isEmpty {
                message["streams"] = .object(Dictionary(streams.map { ($0.key.state, ["k": .string($0.key.id), "v": .int($0.value)]) }, uniquingKeysWith: { a, _ in a }))
            }
        } else {
            message["type"] = "delta"
            message["delta"] = Self.object(delta)
            // Most deltas follow the one before: `from` is said only when it is not `v - 1`.
            if let base, base + 1 != version { message["from"] = .int(base) }
        }
        if let stream {
            message["s"] = .string(stream.state)
            // A hydration without a version says the tab left the key: the page forgets its stream.
            if version != nil || !isHydration { message["k"] = .string(stream.id) }
        }
        if error == nil, let version { message["v"] = .int(version) }
        if !commands.isEmpty { message["commands"] = .array(commands.map(\.json)) }
        if !acks.isEmpty { message["acks"] = .array(acks.map(JSON.int)) }
        return .object(message)
    }

    private static func object(_ delta: Delta) -> JSON {
        .object(delta.mapValues { .object($0) })
    }
}

extension JSON {
    fileprivate var isNumberOrString: Bool {
        switch self {
        case .int, .double, .string: true
        default: false
        }
    }
}
