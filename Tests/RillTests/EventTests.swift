// Events: payloads, setters, intermediate updates, chaining, errors, computed vars, substates.

import Rill
import RillTesting
import Testing

@Suite struct EventTests {
    let app = makeApp(states: [CounterState.self, FailState.self, ChildState.self])

    @Test func aHandlerThatPushesFiveStepsProducesFiveDeltasInOrder() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.steps)
        for step in 1...5 {
            #expect(try await tab.receiveDelta() == ["counter_state": ["count": .int(step)]])
        }
        await tab.settle()
        #expect(tab.takePending().isEmpty)
    }

    @Test func returnedEventsJoinTheEndOfTheQueue() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.incrementTwiceLater)
        tab.send(CounterState.event.append(7))
        #expect(try await tab.receiveDelta() == ["counter_state": ["log": [7]]])
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 1]])
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 2]])
    }

    @Test func emittedBackgroundEventsStartAfterTheHandlerCommits() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.emitAndBump)
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 10]])
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 11]])
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 12]])
    }

    @Test func aWrongPayloadTypeNamesEventFieldAndTypeAndChangesNothing() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(name: "counter_state.set_count", payload: ["value": "abc"])
        let error = try await tab.receiveError()
        #expect(error.event == "counter_state.set_count")
        #expect(error.message == "event 'counter_state.set_count': field 'value' must be Int, found string")
        tab.send(name: "counter_state.append", payload: [:])
        #expect(try await tab.receiveError().message == "event 'counter_state.append': field 'value' must be Int, found nothing (the field is missing)")
        tab.send(name: "counter_state.set_log", payload: ["value": [1, "two"]])
        #expect(try await tab.receiveError().message == "event 'counter_state.set_log': field 'value[1]' must be Int, found string")
        #expect(try await tab.state(CounterState.self).count == 0)
    }

    @Test func onlyDeclaredEventsCanBeCalledByName() async throws {
        let tab = try await TestTab.connected(to: app)
        for name in ["counter_state.hidden_helper", "counter_state.nope", "nothing", "counter_state.count"] {
            tab.send(name: name)
            let error = try await tab.receiveError()
            #expect(error.message.hasPrefix("no event '\(name)'"))
        }
        #expect(try await tab.state(CounterState.self).count == 0)
    }

    @Test func settersSetFrontendVars() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.setCount(41))
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 41]])
        tab.send(CounterState.event.setLog([3, 4]))
        #expect(try await tab.receiveDelta() == ["counter_state": ["log": [3, 4]]])
    }

    @Test func backendVarsAreStoredButNeverSent() async throws {
        let tab = try await TestTab.connect(to: app)
        let hydration = try await tab.receive()
        #expect(hydration.delta["counter_state"]?["secret"] == nil)
        tab.send(CounterState.event.changeSecret("new"))
        tab.send(CounterState.event.increment)
        #expect(try await tab.receiveDelta() == ["counter_state": ["count": 1]])
        #expect(try await tab.state(CounterState.self).secret == "new")
    }

    @Test func aThrowingHandlerLeavesTheStateAsBeforeAndTheQueueGoesOn() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(FailState.event.failAfterChange)
        tab.send(FailState.event.chainThenFail)
        tab.send(FailState.event.setOther(3))
        #expect(try await tab.receiveError() == EventError(event: "fail_state.fail_after_change", message: "boom"))
        #expect(try await tab.receiveError() == EventError(event: "fail_state.chain_then_fail", message: "boom"))
        #expect(try await tab.receiveDelta() == ["fail_state": ["other": 3]])
        #expect(try await tab.state(FailState.self).value == 0)
    }

    @Test func aHandlerThatFailsAfterPushingTakesItsPushBack() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(FailState.event.pushThenFail)
        #expect(try await tab.receiveDelta() == ["fail_state": ["value": 1]])
        #expect(try await tab.receiveDelta() == ["fail_state": ["value": 0]])
        #expect(try await tab.receiveError().message == "boom")
        #expect(try await tab.state(FailState.self).value == 0)
    }

    @Test func anotherTabNeverNoticesAFailure() async throws {
        let failing = try await TestTab.connected(to: app)
        let other = try await TestTab.connected(to: app)
        failing.send(FailState.event.failAfterChange)
        other.send(CounterState.event.increment)
        _ = try await failing.receiveError()
        #expect(try await other.receiveDelta() == ["counter_state": ["count": 1]])
        await other.settle()
        #expect(other.takePending().isEmpty)
    }

    @Test func handlersKnowTheirTabsToken() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(CounterState.event.rememberToken)
        #expect(try await tab.receiveDelta() == ["counter_state": ["token": .string(tab.token.rawValue)]])
    }

    @Test func substatesHaveFullNamesAndReachEachOther() async throws {
        #expect(ChildState.fullName == "parent_state.child_state")
        #expect(app.registry.children(of: "parent_state") == ["parent_state.child_state"])
        let tab = try await TestTab.connect(to: app)
        let hydration = try await tab.receive()
        #expect(hydration.delta["parent_state.child_state"] == ["value": 0])
        #expect(hydration.delta["parent_state"] == ["title": "parent"])

        tab.send(ChildState.event.touchParent)
        #expect(try await tab.receiveDelta() == [
            "parent_state.child_state": ["value": 1],
            "parent_state": ["title": "changed by child"],
        ])
        tab.send(ChildState.event.readParent)
        #expect(try await tab.receiveDelta() == ["parent_state.child_state": ["value": 16]])

        let snapshot = try await app.snapshot(tab.token)
        let child = try snapshot.substate(path: ["parent_state", "child_state"])
        #expect((child as? ChildState)?.value == 16)
        #expect(try snapshot.value("parent_state.title") == "changed by child")
        #expect(throws: UnknownStateError.self) { try snapshot.substate("parent_state.missing") }
    }
}

@Suite(.serialized) struct ComputedVarTests {
    let app = makeApp(states: [ComputedState.self])

    @Test func aComputedVarIsRecomputedOnlyWhenAnInputChanged() async throws {
        let start = ComputedProbe.calls.load(ordering: .relaxed)
        let tab = try await TestTab.connect(to: app)
        let hydration = try await tab.receive()
        #expect(hydration.delta["computed_state"]?["total"] == 6)
        #expect(ComputedProbe.calls.load(ordering: .relaxed) == start + 1)

        tab.send(ComputedState.event.setNote("unrelated"))
        #expect(try await tab.receiveDelta() == ["computed_state": ["note": "unrelated"]])
        let afterUnrelated = ComputedProbe.calls.load(ordering: .relaxed)

        tab.send(ComputedState.event.setNote("again"))
        _ = try await tab.receiveDelta()
        #expect(ComputedProbe.calls.load(ordering: .relaxed) == afterUnrelated)

        tab.send(ComputedState.event.setPrice(5))
        #expect(try await tab.receiveDelta() == ["computed_state": ["price": 5, "total": 15]])
        #expect(ComputedProbe.calls.load(ordering: .relaxed) == afterUnrelated + 1)

        // An input changed but the result did not: recomputed, not sent.
        tab.send(ComputedState.event.setQuantity(3))
        tab.send(ComputedState.event.setPrice(5))
        await tab.settle()
        #expect(tab.takePending().isEmpty)
    }

    @Test func aComputedVarThatGoesBackToAnEarlierValueIsSentEachTime() async throws {
        let tab = try await TestTab.connected(to: app)
        // What was last sent is saved with the state: 15 then 6 again must both be sent.
        tab.send(ComputedState.event.setPrice(5))
        #expect(try await tab.receiveDelta() == ["computed_state": ["price": 5, "total": 15]])
        tab.send(ComputedState.event.setPrice(2))
        #expect(try await tab.receiveDelta() == ["computed_state": ["price": 2, "total": 6]])
        tab.send(ComputedState.event.setPrice(5))
        #expect(try await tab.receiveDelta() == ["computed_state": ["price": 5, "total": 15]])
    }
}
