// @Linked vars: a tab's own state reads the shared state key it is linked to, and its computed
// vars over it are recomputed when the key changes; with memory state, or Redis.

import Foundation
import Rill
import RillTesting
import Testing

@Suite struct LinkedTests {
    /// The app registers `Room` through `Player`'s linked var.
    let app = makeApp(states: [Player.self])
    let room = "room-\(UUID().uuidString)"

    @Test func aComputedVarOverTheLinkedKeyFollowsItsChangesAndItsLink() async throws {
        let ann = try await PageModel.connect(to: app)
        #expect(ann.value("player", "progress") == "0 of 10", "unlinked, the linked var shows the defaults")
        let bob = try await PageModel.connect(to: app)
        bob.tab.send(Player.event.join(room))
        for _ in 0..<3 { bob.tab.send(Room.event.increment) }
        try await bob.until("the tab's own recompute") { $0.value("player", "progress") == "3 of 10" }

        ann.tab.send(Player.event.join(room))
        try await ann.until("the key's value, with the link") { $0.value("player", "progress") == "3 of 10" }
        bob.tab.send(Room.event.increment)
        try await ann.until("another tab's change") { $0.value("player", "progress") == "4 of 10" }
        ann.tab.send(Player.event.setGoal(20))
        try await ann.until("its own change") { $0.value("player", "progress") == "4 of 20" }
        try await app.modifyShared(Room.self, room) { $0.count = 7 }
        try await ann.until("a change from outside any tab") { $0.value("player", "progress") == "7 of 20" }
        try await bob.until("the same for the other tab") { $0.value("player", "progress") == "7 of 10" }

        ann.tab.send(Player.event.leave)
        try await ann.until("the defaults again") { $0.value("player", "progress") == "0 of 20" }
        #expect(try await ann.tab.read(Player.self) { $0.progress } == "0 of 20")
        #expect(try await bob.tab.read(Player.self) { $0.progress } == "7 of 10")
    }

    @Test func aHandlerSeesTheKeyItChangedAndItsComputedVarsLeaveInTheSameDelta() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(Player.event.join(room))
        await tab.settle()
        _ = tab.takePending()
        tab.send(Player.event.bumpAndLook)
        var update = try await tab.receive()
        while update.stream != nil { update = try await tab.receive() }
        let delta = update.delta
        #expect(delta["player"]?["seen"] == 1, "the linked var shows the value the handler holds")
        #expect(delta["player"]?["progress"] == "1 of 10", "its computed var is in the handler's own commit")
        #expect(try await tab.state(Player.self).seen == 1)
    }

    @Test func aChangeThatLeavesTheComputedVarsAloneSavesAndSendsNothingToTheTab() async throws {
        let app = makeApp(states: [Watcher.self])
        let watcher = try await PageModel.connect(to: app)
        watcher.tab.send(Watcher.event.watch(room))
        await watcher.tab.settle()
        watcher.drain()
        #expect(watcher.value("watcher", "full") == false)
        let version = try await app.snapshot(watcher.tab.token).delivery.version
        for _ in 0..<2 { try await app.modifyShared(Room.self, room) { $0.count += 1 } }
        await watcher.tab.settle()
        #expect(try await app.snapshot(watcher.tab.token).delivery.version == version, "no tab commit for a computed var that kept its value")
        try await app.modifyShared(Room.self, room) { $0.count += 1 }
        try await watcher.until("the var that changed") { $0.value("watcher", "full") == true }
        #expect(try await app.snapshot(watcher.tab.token).delivery.version == version + 1)
    }

    @Test func aRecomputeThatChangesNothingIsNotSaved() async throws {
        let manager = FailingCommitManager()
        let app = App(states: [Watcher.self], manager: manager)
        let tab = try await TestTab.connected(to: app)
        tab.send(Watcher.event.watch(room))
        await tab.settle()
        let commits = manager.commits.withLock { $0 }
        for _ in 0..<2 { try await app.modifyShared(Room.self, room) { $0.count += 1 } }
        await tab.settle()
        #expect(manager.commits.withLock { $0 } == commits)
        try await app.modifyShared(Room.self, room) { $0.count += 1 }
        await tab.settle()
        #expect(manager.commits.withLock { $0 } == commits + 1)
        #expect(try await tab.read(Watcher.self) { $0.full })
    }

    @Test func manyChangesInABurstEndWithTheKeysLastValue() async throws {
        let page = try await PageModel.connect(to: app)
        page.tab.send(Player.event.join(room))
        await page.tab.settle()
        await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask { try await self.app.modifyShared(Room.self, self.room) { $0.count += 1 } }
            }
        }
        try await page.until("50") { $0.value("player", "progress") == "50 of 10" && $0.value("room", "count") == 50 }
        #expect(try await app.sharedState(Room.self, room).count == 50)
    }

    @Test func aTabThatReconnectsIsSentTheComputedVarOverTheKeysValueNow() async throws {
        let token = Token.random()
        let first = try await TestTab.connected(to: app, token: token)
        first.send(Player.event.join(room))
        await first.settle()
        first.disconnect()
        try await app.modifyShared(Room.self, room) { $0.count = 5 }
        let again = try await TestTab.connect(to: app, token: token)
        let hydration = try await again.receive()
        #expect(hydration.isHydration)
        #expect(hydration.delta["player"]?["progress"] == "5 of 10")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["RILL_TEST_REDIS_URL"] != nil, "two processes share state through Redis"))
    func aChangeMadeByAnotherProcessRecomputesTheTabsHere() async throws {
        let other = makeApp(states: [Player.self])
        let page = try await PageModel.connect(to: app)
        page.tab.send(Player.event.join(room))
        await page.tab.settle()
        let writer = try await TestTab.connected(to: other)
        writer.send(Player.event.join(room))
        writer.send(Room.event.increment)
        await writer.settle()
        try await page.until("the other process's change") { $0.value("player", "progress") == "1 of 10" }
    }
}
