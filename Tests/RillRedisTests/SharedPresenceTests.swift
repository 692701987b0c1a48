// A process keeps its own tabs in the presence lists of the keys they are linked to, whatever
// happened to the list in Redis meanwhile.

import Foundation
import RESP
import Rill
import RillRedis
import Synchronization
import Testing

@LiveState
struct Lounge: SharedState {
    var visits = 0
}

@LiveState
struct Guest {
    mutating func come(_ key: String) async throws {
        try await link(Lounge.self, to: key, as: "guest")
    }
}

/// Where a connected tab's updates go in these tests; they are not looked at.
private final class Discard: UpdateSink {
    func send(_ update: StateUpdate) {}
}

@Suite(.enabled(if: redisURL != nil, "needs RILL_TEST_REDIS_URL; the README's test command starts a redis-server"))
struct SharedPresenceTests {
    @Test func aProcessPutsBackItsTabsThatAPresenceListLost() async throws {
        let url = try #require(redisURL)
        let app = App(states: [Guest.self, Lounge.self], manager: try RedisStateManager(url: url))
        let key = "lounge-\(UUID().uuidString)"
        let token = Token.random()
        let sink = Discard()
        try await app.connect(token, sink: sink)
        app.send(Guest.event.come(key), to: token)
        #expect(try await eventually { try await app.presence(Lounge.self, key).map(\.token) == [token] })

        // The list is lost (a Redis that restarted without it, or another process that took the
        // tab out while this one could not renew its alive mark).
        let parts = url.dropFirst("redis://".count).split(separator: ":")
        let raw = RedisClient(host: String(parts[0]), port: Int(parts[1]) ?? 6379)
        _ = try await raw.send(["DEL", "rill:shared:lounge:\(key)"])
        #expect(try await app.presence(Lounge.self, key).isEmpty)
        #expect(try await eventually(timeout: .seconds(15)) { try await app.presence(Lounge.self, key).map(\.token) == [token] })
        app.disconnect(token, sink: sink)
        #expect(try await eventually { try await app.presence(Lounge.self, key).isEmpty })
    }
}
