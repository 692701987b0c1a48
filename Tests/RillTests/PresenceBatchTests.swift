// Many tabs joining a key at once: their presence changes gather while the key's lock is held
// and are written in one commit.

@testable import Rill
import RillTesting
import Synchronization
import Testing

@Suite struct PresenceBatchTests {
    @Test func fiftyTabsJoiningWhileTheKeyIsHeldCostAtMostTwoCommits() async throws {
        let app = App(states: [Member.self, Room.self])
        let room = "batch"
        let key = try SharedKey(Room.self, room)
        let holding = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let held = Task {
            try await app.modifyShared(Room.self, room) { room in
                room.topic = "held"
                await withCheckedContinuation { continuation in holding.withLock { $0 = continuation } }
            }
        }
        #expect(try await eventually { holding.withLock { $0 != nil } })
        var tabs: [TestTab] = []
        for index in 0..<50 {
            let tab = try await TestTab.connected(to: app)
            tab.send(Member.event.join(room: room, as: "t\(index)"))
            tabs.append(tab)
        }
        // The first join's writer waits for the lock with what had come by then; the rest gather.
        #expect(try await eventually { app.presenceBatch.count(key) == 50 })
        holding.withLock { $0 }?.resume()
        try await held.value
        for tab in tabs { await tab.settle() }
        let value = try await app.manager.snapshot(key, registry: app.registry)
        #expect(value.presence.count == 50)
        // The held change, then the joins the writer had taken when it began to wait, then all the others at once.
        #expect(value.version <= 3, "50 joins took \(value.version - 1) commits")
    }
}
