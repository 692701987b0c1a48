// Numbered deltas and event ids: an event the page sends again is acknowledged and not run twice,
// and every delta names the versions it runs between.

import Foundation
import Rill
import RillRedis
import RillTesting
import Testing

/// Two apps on one store, as two processes on one Redis: in memory mode they share a manager.
private func twoApps(states: [any LiveState.Type]) throws -> (App, App) {
    if let url = ProcessInfo.processInfo.environment["RILL_TEST_REDIS_URL"] {
        return (App(states: states, manager: try RedisStateManager(url: url)), App(states: states, manager: try RedisStateManager(url: url)))
    }
    let manager = MemoryStateManager()
    return (App(states: states, manager: manager), App(states: states, manager: manager))
}

@Suite struct ExactlyOnceTests {
    let app = makeApp(states: [CounterState.self, FailState.self])

    @Test func anEventSentAgainIsAcknowledgedAndNotRunTwice() async throws {
        let tab = try await TestTab.connected(to: app)
        app.receive(CounterState.event.increment, from: tab.token, id: 1)
        let first = try await tab.receive()
        #expect(first.acks == [1])
        #expect(first.delta == ["counter_state": ["count": 1]])
        app.receive(CounterState.event.increment, from: tab.token, id: 1)
        #expect(try await tab.receive() == StateUpdate(acks: [1]), "the second copy is only acknowledged")
        app.receive(CounterState.event.increment, from: tab.token, id: 2)
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 2]])
        await tab.settle()
        #expect(try await tab.state(CounterState.self).count == 2)
        #expect(tab.takePending().isEmpty)
    }

    @Test func theAppliedIdsAreSavedWithTheStateSoAnotherProcessKnowsThem() async throws {
        let (first, second) = try twoApps(states: [CounterState.self])
        let tab = try await TestTab.connected(to: first)
        for id in 1...3 { first.receive(CounterState.event.increment, from: tab.token, id: id) }
        for _ in 1...3 { _ = try await tab.receive() }
        tab.disconnect()
        // The page's socket moved to the other process and sends what it had not seen acknowledged.
        let moved = try await TestTab.connect(to: second, token: tab.token)
        let hydration = try await moved.receive()
        #expect(hydration.isHydration && hydration.version == 3)
        for id in 2...4 { second.receive(CounterState.event.increment, from: tab.token, id: id) }
        #expect(try await moved.receive() == StateUpdate(acks: [2]))
        #expect(try await moved.receive() == StateUpdate(acks: [3]))
        let fourth = try await moved.receive()
        #expect(fourth.acks == [4] && fourth.delta == ["counter_state": ["count": 4]])
        #expect(try await moved.state(CounterState.self).count == 4)
    }

    @Test func concurrentCopiesOfOneEventRunOnce() async throws {
        let (first, second) = try twoApps(states: [CounterState.self])
        let tab = try await TestTab.connected(to: first)
        // The same ids arrive at both processes at once (an old socket still draining, a new one resending).
        for id in 1...20 {
            first.send(EventSpec(name: "counter_state.increment"), to: tab.token)
            first.receive(CounterState.event.append(id), from: tab.token, id: id)
            second.receive(CounterState.event.append(id), from: tab.token, id: id)
        }
        #expect(try await eventually {
            let state = try await tab.state(CounterState.self)
            return state.log.count == 20 && state.count == 20
        })
        await first.idle(tab.token)
        await second.idle(tab.token)
        #expect(try await tab.state(CounterState.self).log == Array(1...20))
    }

    @Test func deltasAreNumberedFromTheHydrationOn() async throws {
        let tab = try await TestTab.connect(to: app)
        let hydration = try await tab.receive()
        #expect(hydration.isHydration && hydration.base == nil && hydration.version == 0)
        tab.send(CounterState.event.increment)
        let first = try await tab.receive()
        #expect(first.base == 0 && first.version == 1)
        tab.send(CounterState.event.incrementTwiceLater)
        let second = try await tab.receive()
        let third = try await tab.receive()
        #expect((second.base, second.version, third.base, third.version) == (1, 2, 2, 3))
        app.receive(FailState.event.setValue(0), from: tab.token, id: 9)
        #expect(try await tab.receive() == StateUpdate(acks: [9]), "a change of nothing takes no version")
        tab.send(CounterState.event.steps)
        for step in 1...5 {
            let pushed = try await tab.receive()
            #expect(pushed.version == 3 + step && pushed.base == 2 + step && pushed.delta == ["counter_state": ["count": .int(step)]])
        }
        #expect(tab.takePending().isEmpty)
    }

    @Test func aFailedEventIsNotRecordedAndItsPushesKeepTheirVersions() async throws {
        let tab = try await TestTab.connected(to: app)
        app.receive(FailState.event.pushThenFail, from: tab.token, id: 5)
        let pushed = try await tab.receive()
        #expect(pushed.delta == ["fail_state": ["value": 1]] && (pushed.base, pushed.version) == (0, 1))
        let back = try await tab.receive()
        #expect(back.delta == ["fail_state": ["value": 0]] && (back.base, back.version) == (1, 2), "the take-back follows the push")
        #expect(try await tab.receiveError().id == 5)
        // It changed nothing, so the page may send it again, and it runs (and fails) again.
        app.receive(FailState.event.pushThenFail, from: tab.token, id: 5)
        #expect(try await tab.receive().version == 3)
        #expect(try await tab.receive().version == 4)
        #expect(try await tab.receiveError().id == 5)
        tab.send(CounterState.event.increment)
        let next = try await tab.receive()
        #expect((next.base, next.version) == (4, 5), "the versions the failed event used were saved")
        #expect(try await tab.state(FailState.self).value == 0)
    }

    @Test func aPageThatAsksForItsStateGetsAHydrationAtTheCurrentVersion() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.increment)
        _ = try await tab.receive()
        app.resync(tab.token)
        let hydration = try await tab.receive()
        #expect(hydration.isHydration && hydration.version == 1)
        #expect(hydration.delta["counter_state"]?["count"] == 1)
    }

    @Test func aTestTabSendsIdsAndAsksForItsStateAsAPageDoes() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.increment, id: 3)
        tab.send(CounterState.event.increment, id: 3)
        #expect(try await tab.receive().acks == [3])
        #expect(try await tab.receive() == StateUpdate(acks: [3]))
        tab.resync()
        let hydration = try await tab.receive()
        #expect(hydration.isHydration && hydration.version == 1 && hydration.delta["counter_state"]?["count"] == 1)
    }

    @Test func aTaskEventWithNoRoomForItsTaskIsRefusedWithItsIdAndNotRecorded() async throws {
        let app = makeApp(states: [CounterState.self], maxTasksPerTab: 1)
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.ticker)
        #expect(try await eventually { app.backgroundTasks.count == 1 })
        tab.send(CounterState.event.bump(1), id: 1)
        var refused: EventError?
        while refused == nil {
            let update = try await tab.receive()
            refused = update.error
        }
        #expect(refused?.id == 1 && refused?.retry == false)
        app.cancelTasks(of: tab.token)
        await tab.settle()
        // Not recorded: sent again once there is room, it starts its task.
        let before = try await tab.state(CounterState.self).count
        tab.send(CounterState.event.bump(1), id: 1)
        #expect(try await eventually { try await tab.state(CounterState.self).count == before + 1 })
        await tab.settle()
        #expect(tab.takePending().contains { $0.acks == [1] })
    }

    @Test func aBackgroundTaskStartedByAPageEventStartsOnce() async throws {
        let tab = try await TestTab.connected(to: app)
        app.receive(CounterState.event.bump(3), from: tab.token, id: 1)
        app.receive(CounterState.event.bump(3), from: tab.token, id: 1)
        await tab.settle()
        #expect(try await tab.state(CounterState.self).count == 3)
        let updates = tab.takePending()
        #expect(updates.filter { $0.acks == [1] }.count == 2, "the start and the copy are both acknowledged")
    }
}

@Suite struct RetryTests {
    @Test func anEventTheStoreFailedIsMarkedForThePageToSendAgainAndAHandlersFailureIsNot() async throws {
        let manager = FailingCommitManager()
        let app = App(states: [CounterState.self, FailState.self], manager: manager)
        let tab = try await TestTab.connected(to: app)
        manager.failing.withLock { $0 = true }
        app.receive(CounterState.event.increment, from: tab.token, id: 1)
        let failed = try await tab.receiveError()
        #expect(failed.id == 1 && failed.retry, "the store failed: the page keeps the event")
        manager.failing.withLock { $0 = false }
        app.receive(FailState.event.failAfterChange, from: tab.token, id: 2)
        let refused = try await tab.receiveError()
        #expect(refused.id == 2 && !refused.retry, "the handler failed: sending it again would fail again")
        // Sent again once the store is back, the first event runs once.
        app.receive(CounterState.event.increment, from: tab.token, id: 1)
        #expect(try await tab.receive().acks == [1])
        app.receive(CounterState.event.increment, from: tab.token, id: 1)
        #expect(try await tab.receive() == StateUpdate(acks: [1]))
        #expect(try await tab.state(CounterState.self).count == 1)
    }

    @Test func anAppShuttingDownRefusesEventsForThePageToSendElsewhere() async throws {
        let app = makeApp(states: [CounterState.self])
        let tab = try await TestTab.connected(to: app)
        // An event still running keeps the app, and the tab's connection, up while it shuts down.
        tab.send(CounterState.event.waitAtGate)
        #expect(try await eventually { Gates.shared.waiting(tab.token) == 1 })
        let stopping = Task { await app.shutdown(gracePeriod: .seconds(30)) }
        #expect(try await eventually { app.isShuttingDown })
        app.receive(CounterState.event.increment, from: tab.token, id: 4)
        let refused = try await tab.receiveError()
        #expect(refused.id == 4 && refused.retry)
        Gates.shared.open(tab.token)
        await stopping.value
    }
}

@Suite struct DeliveryTests {
    @Test func theWindowKeepsRunsOfIdsAndForgetsTheOldest() {
        var applied = AppliedEvents()
        for id in [1, 2, 3, 5, 6, 9] { applied.insert(id, capacity: 100) }
        #expect(applied.ranges == [1...3, 5...6, 9...9])
        applied.insert(4, capacity: 100)
        #expect(applied.ranges == [1...6, 9...9])
        #expect(applied.contains(4) && !applied.contains(7) && !applied.contains(10))
        applied.insert(10, capacity: 4)
        #expect(applied.ranges == [5...6, 9...10] && applied.below == 5)
        #expect(applied.contains(2), "an id older than the window is never run again")
        applied.insert(7, capacity: 4)
        #expect(applied.ranges == [6...7, 9...10] && applied.below == 6)
    }

    @Test func idsOutOfOrderKeepTheWindowSmall() {
        var applied = AppliedEvents()
        for id in stride(from: 1_000, to: 0, by: -2) { applied.insert(id, capacity: 1024) }
        #expect(applied.ranges.count == AppliedEvents.maxRanges)
        #expect(applied.ranges.first == 874...874 && applied.below == 873)
        #expect(applied.contains(2), "forgotten, so never run again")
        #expect(!applied.contains(875))
    }

    @Test func theBookkeepingRoundTripsThroughItsStoredForm() {
        let delivery = Delivery(json: ["v": 41, "ids": [[8, 8], [3, 4]], "below": 2])
        #expect(delivery.version == 41 && delivery.applied.ranges == [3...4, 8...8] && delivery.applied.below == 2)
        #expect(Delivery(json: delivery.json) == delivery)
        #expect(Delivery(json: ["v": "x", "ids": [[5, 1], "y"]]) == Delivery(), "what does not read starts from nothing")
    }

    @Test func coalescedDeltasStateTheRangeTheyCoverAndAHoleBreaksIt() {
        var merged = StateUpdate(delta: ["s": ["a": 1]], base: 3, version: 4)
        merged.merge(StateUpdate(delta: ["s": ["b": 2]], base: 4, version: 5))
        #expect((merged.base, merged.version) == (3, 5))
        merged.merge(StateUpdate(commands: [.setTitle("x")]))
        #expect((merged.base, merged.version) == (3, 5), "a command takes no version")
        merged.merge(StateUpdate(delta: ["s": ["a": 7]], base: 6, version: 7))
        #expect(merged.base == StateUpdate.brokenBase && merged.version == 7, "version 5 to 6 is missing")
        var hydrated = StateUpdate(delta: ["s": ["a": 1]], isHydration: true, version: 9)
        hydrated.merge(StateUpdate(delta: ["s": ["a": 2]], base: 9, version: 10))
        #expect(hydrated.isHydration && hydrated.version == 10 && hydrated.delta == ["s": ["a": 2]])
        var late = StateUpdate(acks: [1])
        late.merge(StateUpdate(delta: ["s": ["a": 2]], base: 9, version: 10))
        #expect((late.base, late.version, late.acks) == (9, 10, [1]))
    }
}
