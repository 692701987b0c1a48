// Shared states: one value per key, linked to by many tabs, changed under the key's lock, its
// changes reaching every linked tab; with memory state, or Redis when the test command sets it.

import Foundation
import Rill
import RillRedis
import RillTesting
import Synchronization
import Testing

/// What a page shows, kept from the updates its tab receives by the rules the browser's runtime
/// follows: the tab's deltas in version order, each shared key's in its own.
final class PageModel: Sendable {
    private struct Shown {
        var state: [String: [String: JSON]] = [:]
        var streams: [String: (id: String, version: Int)] = [:]
        var errors: [EventError] = []
    }

    let tab: TestTab
    private let shown = Mutex(Shown())

    init(_ tab: TestTab) { self.tab = tab }

    static func connect(to app: App) async throws -> PageModel {
        let page = PageModel(try await TestTab.connect(to: app))
        page.apply(try await page.tab.receive())
        return page
    }

    var state: [String: [String: JSON]] { shown.withLock { $0.state } }
    var errors: [EventError] { shown.withLock { $0.errors } }
    func value(_ state: String, _ name: String) -> JSON? { shown.withLock { $0.state[state]?[name] } }
    var presence: [String] {
        guard case .array(let labels)? = value("room", "_presence") else { return [] }
        return labels.compactMap { if case .string(let label) = $0 { label } else { nil } }
    }

    func apply(_ update: StateUpdate) {
        shown.withLock { shown in
            if let error = update.error { return shown.errors.append(error) }
            guard let stream = update.stream else {
                if update.isHydration {
                    shown.state = update.delta
                    shown.streams = Dictionary(uniqueKeysWithValues: update.streams.map { ($0.key.state, ($0.key.id, $0.value)) })
                } else {
                    for (name, vars) in update.delta { shown.state[name, default: [:]].merge(vars) { $1 } }
                }
                return
            }
            let current = shown.streams[stream.state]
            if update.isHydration {
                guard let version = update.version else {
                    shown.streams[stream.state] = nil
                    shown.state[stream.state] = update.delta[stream.state]
                    return
                }
                if let current, current.id == stream.id, version <= current.version { return }
                shown.streams[stream.state] = (stream.id, version)
                shown.state[stream.state] = update.delta[stream.state]
                return
            }
            guard let current, current.id == stream.id, let version = update.version, version > current.version else { return }
            #expect(update.base == current.version, "a shared delta that does not follow the page's version")
            shown.streams[stream.state] = (stream.id, version)
            for (name, vars) in update.delta { shown.state[name, default: [:]].merge(vars) { $1 } }
        }
    }

    /// Applies updates as they arrive until `condition` holds; fails after a generous bound.
    func until(_ what: String, timeout: Duration = .seconds(20), _ condition: (PageModel) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(self) {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                Issue.record("page never showed \(what); it shows \(state)")
                return
            }
            do {
                apply(try await tab.receive(timeout: left))
            } catch is TestTab.Timeout {
                Issue.record("page never showed \(what); it shows \(state)")
                return
            }
        }
    }

    /// Applies whatever has arrived.
    func drain() {
        for update in tab.takePending() { apply(update) }
    }
}

@Suite struct SharedStateTests {
    let app = makeApp(states: [Member.self, Room.self])
    let room = "room-\(UUID().uuidString)"

    @Test func aTabShowsTheDefaultsUntilItLinksThenTheKeysValueAndWhoIsThere() async throws {
        let ann = try await PageModel.connect(to: app)
        #expect(ann.value("room", "count") == 0, "an unlinked tab is sent the shared state's defaults")
        #expect(ann.presence == [])
        ann.tab.send(Member.event.join(room: room, as: "Ann"))
        try await ann.until("Ann in the room") { $0.presence == ["Ann"] }
        #expect(try await ann.tab.linkedKey(Room.self) == room)

        let bob = try await PageModel.connect(to: app)
        bob.tab.send(Member.event.join(room: room, as: "Bob"))
        try await bob.until("both in the room") { $0.presence == ["Ann", "Bob"] }
        try await ann.until("Bob joining") { $0.presence == ["Ann", "Bob"] }

        ann.tab.send(Room.event.increment)
        try await ann.until("the change") { $0.value("room", "count") == 1 && $0.value("room", "doubled") == 2 }
        try await bob.until("the other tab's change") { $0.value("room", "count") == 1 && $0.value("room", "doubled") == 2 }

        bob.tab.disconnect()
        try await ann.until("Bob gone") { $0.presence == ["Ann"] }
        #expect(try await app.presence(Room.self, room).map(\.label) == ["Ann"])
    }

    @Test func fiftyTabsTwentyTasksOfFiftyLockedIncrementsMakeExactlyAThousand() async throws {
        var pages: [PageModel] = []
        for index in 0..<50 {
            let page = try await PageModel.connect(to: app)
            page.tab.send(Member.event.join(room: room, as: "tab \(index)"))
            pages.append(page)
        }
        for page in pages { try await page.until("its link") { $0.presence.count >= 1 && $0.value("room", "_presence") != nil } }
        for page in pages.prefix(20) { page.tab.send(Member.event.hammer(50)) }
        for page in pages.prefix(20) { await page.tab.settle() }
        #expect(try await app.sharedState(Room.self, room).count == 1000)
        for page in pages {
            try await page.until("1000") { $0.value("room", "count") == 1000 }
        }
        #expect(try await pages[0].tab.shared(Room.self).count == 1000)
    }

    @Test func aChangeToTheRoomAndToTheTabCommitTogetherOrNotAtAll() async throws {
        let page = try await PageModel.connect(to: app)
        page.tab.send(Member.event.join(room: room, as: "Ann"))
        page.tab.send(Member.event.clickBoth)
        try await page.until("both changes") { $0.value("room", "count") == 1 && $0.value("member", "clicks") == 1 }
        page.tab.send(Member.event.clickBothThenFail)
        page.tab.send(Room.event.incrementThenFail)
        await page.tab.settle()
        try await page.until("two errors") { $0.errors.count == 2 }
        #expect(try await page.tab.state(Member.self).clicks == 1, "the failed handler's tab change is not saved")
        #expect(try await app.sharedState(Room.self, room).count == 1, "nor its room change")
    }

    @Test func aFailedCommitSavesNeitherTheTabNorTheRoom() async throws {
        let manager = FailingCommitManager()
        let app = App(states: [Member.self, Room.self], manager: manager)
        let tab = try await TestTab.connected(to: app)
        tab.send(Member.event.join(room: room, as: "Ann"))
        await tab.settle()
        manager.failing.withLock { $0 = true }
        tab.send(Member.event.clickBoth)
        await tab.settle()
        manager.failing.withLock { $0 = false }
        #expect(try await tab.state(Member.self).clicks == 0)
        #expect(try await app.sharedState(Room.self, room).count == 0)
        tab.send(Member.event.clickBoth)
        await tab.settle()
        #expect(try await tab.state(Member.self).clicks == 1)
        #expect(try await app.sharedState(Room.self, room).count == 1)
    }

    @Test func anUnlinkedTabGetsTheDefaultsAgainAndNoMoreOfTheKeysChanges() async throws {
        let ann = try await PageModel.connect(to: app)
        let bob = try await PageModel.connect(to: app)
        ann.tab.send(Member.event.join(room: room, as: "Ann"))
        bob.tab.send(Member.event.join(room: room, as: "Bob"))
        bob.tab.send(Room.event.increment)
        try await ann.until("the change") { $0.value("room", "count") == 1 }
        ann.tab.send(Member.event.leave)
        try await ann.until("the defaults") { $0.value("room", "count") == 0 && $0.presence == [] }
        try await bob.until("Ann gone") { $0.presence == ["Bob"] }
        await ann.tab.settle()
        _ = ann.tab.takePending()
        bob.tab.send(Room.event.increment)
        try await bob.until("the next change") { $0.value("room", "count") == 2 }
        await bob.tab.settle()
        // The change is committed and sent before its event ends: a linked tab would have it now.
        #expect(!ann.tab.takePending().contains { $0.stream != nil && !$0.isHydration }, "an unlinked tab gets no more of the key's changes")
        #expect(try await ann.tab.linkedKey(Room.self) == nil)
    }

    @Test func aKeyTheStateRefusesIsAClearErrorAndLinksNothing() async throws {
        let page = try await PageModel.connect(to: app)
        page.tab.send(Member.event.join(room: "secret-\(room)", as: "Eve"))
        try await page.until("an error") { !$0.errors.isEmpty }
        #expect(page.errors[0].message.contains("authorizeLink"), "\(page.errors[0].message)")
        #expect(try await page.tab.linkedKey(Room.self) == nil)
        #expect(try await page.tab.state(Member.self).name == "", "the refused handler changed nothing")
    }

    @Test func linkingToAStateTheAppDoesNotKnowIsAClearError() async throws {
        let app = makeApp(states: [Member.self])
        let page = try await PageModel.connect(to: app)
        page.tab.send(Member.event.join(room: room, as: "Ann"))
        try await page.until("an error") { !$0.errors.isEmpty }
        #expect(page.errors[0].message.contains("no state 'room'"), "\(page.errors[0].message)")
        #expect(try await page.tab.linkedKey(Room.self) == nil)
    }

    @Test func anUnlinkedTabCannotChangeASharedState() async throws {
        let page = try await PageModel.connect(to: app)
        page.tab.send(Room.event.increment)
        try await page.until("an error") { !$0.errors.isEmpty }
        #expect(page.errors[0].message.contains("not linked"), "\(page.errors[0].message)")
    }

    @Test func modifySharedChangesAKeyFromOutsideAnyTabAndAThrowingBodyChangesNothing() async throws {
        let page = try await PageModel.connect(to: app)
        page.tab.send(Member.event.join(room: room, as: "Ann"))
        try await page.until("the link") { $0.presence == ["Ann"] }
        try await app.modifyShared(Room.self, room) { $0.topic = "news" }
        try await page.until("the topic") { $0.value("room", "topic") == "news" }
        await #expect(throws: Boom.self) {
            try await app.modifyShared(Room.self, room) { room in
                room.topic = "lost"
                throw Boom()
            }
        }
        #expect(try await app.sharedState(Room.self, room).topic == "news")
        await #expect(throws: InvalidKeyError.self) { try await app.modifyShared(Room.self, "") { $0.count = 1 } }
    }

    @Test func aHandlerReadsTheRoomAndTheRoomsOwnTaskChangesIt() async throws {
        let page = try await PageModel.connect(to: app)
        page.tab.send(Member.event.join(room: room, as: "Ann"))
        page.tab.send(Room.event.bump(5))
        await page.tab.settle()
        page.tab.send(Member.event.look)
        await page.tab.settle()
        #expect(try await page.tab.state(Member.self).seen == 5)
        try await page.until("5") { $0.value("room", "count") == 5 && $0.value("room", "doubled") == 10 }
        // The room's computed vars are read as its stored ones, current under the key's lock.
        page.tab.send(Member.event.lookDoubled)
        await page.tab.settle()
        #expect(try await page.tab.state(Member.self).seen == 10)
    }

    @Test func aBackendOnlyChangeIsSavedAndSendsNothing() async throws {
        let page = try await PageModel.connect(to: app)
        page.tab.send(Member.event.join(room: room, as: "Ann"))
        try await page.until("the link") { $0.presence == ["Ann"] }
        await page.tab.settle()
        page.drain()
        page.tab.send(Room.event.note)
        await page.tab.settle()
        #expect(try await app.sharedState(Room.self, room).writes == 1)
        #expect(!page.tab.takePending().contains { $0.stream != nil }, "a backend var is never sent")
    }

    @Test func aHandlerThatUsedTheRoomCannotRelinkIt() async throws {
        let page = try await PageModel.connect(to: app)
        page.tab.send(Member.event.join(room: room, as: "Ann"))
        page.tab.send(Member.event.useThenLink)
        try await page.until("an error") { !$0.errors.isEmpty }
        #expect(page.errors[0].message.contains("link or unlink first"), "\(page.errors[0].message)")
        #expect(try await page.tab.linkedKey(Room.self) == room)
    }

    @Test func everyLinkedTabGetsTheSameUpdateSerializedOnce() async throws {
        var pages: [PageModel] = []
        for _ in 0..<10 {
            let page = try await PageModel.connect(to: app)
            page.tab.send(Member.event.join(room: room, as: "x"))
            pages.append(page)
        }
        for page in pages { try await page.until("all ten") { $0.presence.count == 10 } }
        for page in pages { await page.tab.settle() }
        for page in pages { page.drain() }
        try await app.modifyShared(Room.self, room) { $0.count = 7 }
        var updates: [StateUpdate] = []
        for page in pages {
            let update = try await page.tab.receive()
            page.apply(update)
            updates.append(update)
        }
        #expect(updates.allSatisfy { $0 == updates[0] && $0.stream != nil })
        let caches = updates.compactMap(\.encoded)
        #expect(caches.count == 10 && caches.allSatisfy { $0 === caches[0] }, "one cache of bytes, shared by every tab's copy")
        for page in pages { #expect(page.value("room", "count") == 7) }
    }

    @Test func aTabThatReconnectsIsBackInThePresenceListWithTheLatestValue() async throws {
        let ann = try await PageModel.connect(to: app)
        ann.tab.send(Member.event.join(room: room, as: "Ann"))
        try await ann.until("the link") { $0.presence == ["Ann"] }
        ann.tab.disconnect()
        try await app.modifyShared(Room.self, room) { $0.count = 3 }
        #expect(try await eventually { try await app.presence(Room.self, room).isEmpty })
        let again = try await TestTab.connect(to: app, token: ann.tab.token)
        let page = PageModel(again)
        try await page.until("the room again") { $0.value("room", "count") == 3 && $0.presence == ["Ann"] }
    }
}
