// What differs between the three servers the bench drives: socket path, handshake and message framing.

import Foundation
import NIOCore
import RillClient

/// A server the bench can drive; every scenario speaks to it through these few messages.
enum Target: String, CaseIterable, Sendable {
    /// BenchServer: Rill's own JSON protocol (docs/protocol.md).
    case rill
    /// EchoServer: replies with what it gets, so it is driven with Rill's messages.
    case echo
    /// Reflex 0.10.1's backend: Socket.IO v5 over Engine.IO v4 text frames.
    case reflex

    static let reflexState = "reflex___state____state.bench_app___bench_app____state"
    static let reflexRoom = "reflex___state____state.reflex___istate___shared____shared_state_base_internal.bench_app___bench_app____room"
    static let routerData = #""router_data":{"pathname":"/","asPath":"/"}"#

    /// The upgrade request's target for a fresh tab.
    func path(token: String) -> String {
        switch self {
        case .rill: "/_rill/socket?token=\(token)&path=/"
        case .echo: "/ws"
        case .reflex: "/_event/?token=\(token)&EIO=4&transport=websocket"
        }
    }

    var headers: [(String, String)] {
        self == .reflex ? [("Sec-WebSocket-Protocol", "0.10.1")] : []
    }

    /// An increment as a page sends it: with the tab's next event id (Reflex has none).
    func incrementMessage(id: Int) -> String {
        switch self {
        case .rill, .echo:
            #"{"type":"event","name":"bench_state.increment","payload":{},"id":\#(id)}"#
        case .reflex:
            #"42/_event,["event",{"name":"\#(Self.reflexState).increment","payload":{},\#(Self.routerData)}]"#
        }
    }

    func backgroundMessage(count: Int, id: Int, durable: Bool = false) -> String {
        switch self {
        case .rill:
            #"{"type":"event","name":"bench_state.bg_count\#(durable ? "_durable" : "")","payload":{"n":\#(count)},"id":\#(id)}"#
        case .echo:
            preconditionFailure("the echo server has no background task; the scenario sends it deltas instead")
        case .reflex:
            #"42/_event,["event",{"name":"\#(Self.reflexState).bg_count","payload":{"n":\#(count)},\#(Self.routerData)}]"#
        }
    }

    /// Links the tab to the fan-out scenario's room.
    func joinMessage(id: Int) -> String {
        switch self {
        case .rill, .echo:
            #"{"type":"event","name":"bench_state.join","payload":{},"id":\#(id)}"#
        case .reflex:
            #"42/_event,["event",{"name":"\#(Self.reflexRoom).join","payload":{},\#(Self.routerData)}]"#
        }
    }

    /// One change of the room.
    func roomIncrementMessage(id: Int) -> String {
        switch self {
        case .rill, .echo:
            #"{"type":"event","name":"bench_room.increment","payload":{},"id":\#(id)}"#
        case .reflex:
            #"42/_event,["event",{"name":"\#(Self.reflexRoom).increment","payload":{},\#(Self.routerData)}]"#
        }
    }

    /// The key whose value is the room's total in a message.
    var totalKey: String {
        self == .reflex ? #""total_rx_state_":"# : #""total":"#
    }

    /// A message shaped like Rill's delta for counter `value`: the echo server's stand-in for a
    /// background task, so it moves the same bytes the Rill server sends.
    static func echoDelta(_ value: Int) -> String {
        #"{"type":"delta","delta":{"bench_state":{"counter":\#(value)}}}"#
    }

    /// The key whose value is the tab's counter in a delta.
    var counterKey: String {
        self == .reflex ? #""counter_rx_state_":"# : #""counter":"#
    }

    /// Whether `message` answers an event (as opposed to a ping or another notice).
    func isReply(_ message: String) -> Bool {
        switch self {
        case .rill: message.contains(#""delta""#)
        case .echo: true
        case .reflex: message.hasPrefix("42") && message.contains(#""delta""#)
        }
    }
}

/// A server-side refusal or an unexpected message: the run's figures would be meaningless.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
}

/// One browser tab's connection; scenarios hand it from phase to phase, but only one task at a
/// time reads it, which is why it may claim to be `Sendable`.
final class Tab: @unchecked Sendable {
    let target: Target
    let client: WebSocketClient
    let eventLoop: any EventLoop
    private var messages: AsyncThrowingStream<String, any Error>.AsyncIterator
    /// Messages received since the last handshake, pings left out.
    private(set) var received = 0
    private var lastEventID = 0

    /// The id for the tab's next event: increasing, as a page numbers its events.
    func nextEventID() -> Int {
        lastEventID += 1
        return lastEventID
    }

    private init(target: Target, client: WebSocketClient, eventLoop: any EventLoop) {
        self.target = target
        self.client = client
        self.eventLoop = eventLoop
        self.messages = client.messages.makeAsyncIterator()
    }

    /// Connects with a fresh token and waits until the tab is hydrated.
    static func open(_ target: Target, port: Int, on eventLoop: any EventLoop) async throws -> Tab {
        let token = UUID().uuidString
        let client = try await WebSocketClient.connect(
            host: "127.0.0.1", port: port, path: target.path(token: token), headers: target.headers,
            eventLoopGroup: eventLoop)
        let tab = Tab(target: target, client: client, eventLoop: eventLoop)
        switch target {
        case .rill:
            let hydrate = try await tab.next()
            guard hydrate.contains(#""hydrate""#) else { throw BenchFailure(description: "expected hydrate, got \(hydrate)") }
        case .echo:
            break
        case .reflex:
            let open = try await tab.next()
            guard open.hasPrefix("0") else { throw BenchFailure(description: "expected Engine.IO open, got \(open)") }
            try await client.send(#"40/_event,{"event":{"name":"reflex___state____state.hydrate_and_load","payload":{},\#(Target.routerData)}}"#)
            while !(try await tab.next()).contains("is_hydrated_rx_state_") {}
        }
        tab.received = 0
        return tab
    }

    /// The next message that is not a ping; answers Engine.IO pings on the way.
    func next() async throws -> String {
        while true {
            guard let message = try await self.messages.next() else {
                throw BenchFailure(description: "the server closed the connection")
            }
            if self.target == .reflex && message == "2" {
                try await self.client.send("3")
                continue
            }
            if self.target == .rill && message.contains(#""type":"error""#) {
                throw BenchFailure(description: "server error: \(message)")
            }
            self.received += 1
            return message
        }
    }

    /// Reads until the reply to an event arrives.
    func nextReply() async throws -> String {
        while true {
            let message = try await self.next()
            if self.target.isReply(message) { return message }
        }
    }

    /// Reads until the tab's counter reaches `value`.
    func waitForCounter(_ value: Int) async throws {
        while true {
            let message = try await self.next()
            if let seen = counter(in: message, key: self.target.counterKey), seen >= value { return }
        }
    }

    /// Reads until the tab shows the room's total (it is linked); returns it.
    func waitForRoom() async throws -> Int {
        while true {
            let message = try await self.next()
            if let total = counter(in: message, key: self.target.totalKey) { return total }
        }
    }

    /// Keeps an idle tab alive: answers pings until the connection ends or the task is cancelled.
    func drain() async {
        while (try? await self.next()) != nil {}
    }
}

/// The integer after the last `key` in `message`, if any.
func counter(in message: String, key: String) -> Int? {
    guard let range = message.range(of: key, options: .backwards) else { return nil }
    var value = 0
    var sawDigit = false
    for byte in message.utf8[range.upperBound...] {
        guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { break }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
        sawDigit = true
    }
    return sawDigit ? value : nil
}
