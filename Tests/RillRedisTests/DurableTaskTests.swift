// Durable background tasks in Redis: recorded with the commit that starts them, owned by one
// process, claimed by exactly one other when their process is gone or hands them over, resumed
// from their last committed checkpoint, and fenced so a process that lost a task saves nothing.

import Foundation
import RESP
import RedisServerSupport
import Rill
import RillRedis
import RillTesting
import Synchronization
import Testing

@LiveState
struct Stepper {
    var steps: [Int] = []
    var cleaned = 0
    /// Milliseconds between steps.
    var pause = 20
    var ratio: Double = 1

    @Background(durable: true)
    private func walk(_: BackgroundRun, to total: Int) async throws {
        try await walkSteps(to: total)
    }

    @Background(durable: true, afterCrash: .fail)
    private func walkOnce(_: BackgroundRun, to total: Int) async throws {
        try await walkSteps(to: total)
    }

    /// Cleans up at once, then still runs a while: a task whose clean-up committed before it ended.
    @Background(durable: true)
    private func closeThenLinger(_: BackgroundRun) async throws {
        try await withCleanup {} cleanup: { s in
            s.cleaned += 1
        }
        try await sleep(for: .seconds(60))
    }

    /// Its second step leaves a value that cannot be saved.
    @Background(durable: true)
    private func spoil(_: BackgroundRun) async throws {
        try await withCleanup {
            try await withState(checkpoint: 1) { s in s.steps.append(1) }
            try await withState(checkpoint: 2) { s in s.ratio = s.ratio / 0 }
        } cleanup: { s in
            s.cleaned += 1
        }
    }

    private func walkSteps(to total: Int) async throws {
        try await withCleanup {
            var step = try checkpoint(Int.self) ?? 0
            while step < total {
                try await sleep(for: .milliseconds(pause))
                let next = step + 1
                try await withState(checkpoint: next) { s in s.steps.append(next) }
                step = next
            }
        } cleanup: { s in
            s.cleaned += 1
        }
    }

    mutating func start(to total: Int) -> EventSpec {
        Self.event.walk(total)
    }

    mutating func startThenFail() throws {
        emit(Self.event.walk(3))
        steps = [-1]
        throw DurableBoom()
    }
}

struct DurableBoom: Error {}

@Suite(.enabled(if: redisURL != nil, "needs RILL_TEST_REDIS_URL; the README's test command starts a redis-server"))
struct DurableTaskTests {
    let raw: RedisClient

    init() throws {
        let url = try #require(redisURL)
        let parts = url.dropFirst("redis://".count).split(separator: ":")
        raw = RedisClient(host: String(parts[0]), port: Int(parts[1]) ?? 6379)
    }

    func app() throws -> App {
        App(states: [Stepper.self], manager: try RedisStateManager(url: try #require(redisURL)))
    }

    func tasks(of token: Token, in app: App) async throws -> [DurableTaskInfo] {
        try await app.durableTasks().filter { $0.record.token == token }
    }

    /// A task record as a process that has since died left it, with the tab's steps and checkpoint.
    func orphan(
        _ event: String, token: Token, steps: [Int], afterCrash: AfterCrash = .resume, total: Int = 5, lostRuns: Int = 0,
        payload: [String: JSON]? = nil
    ) async throws -> String {
        let id = Token.random().rawValue
        let record = DurableRecord(
            id: id, token: token, event: event, payload: payload ?? ["to": .int(total)], afterCrash: afterCrash, since: 0)
        let state: JSON = .object(["v": .object(["steps": .array(steps.map { .int($0) }), "cleaned": .int(0), "pause": .int(20)]), "c": .object([:])])
        let dead = "dead-\(UUID().uuidString)"
        // In one transaction: the apps of tests running meanwhile claim every second, and must
        // find the whole task or none of it.
        let replies = try await raw.pipeline([
            ["MULTI"],
            ["HSET", "rill:tab:\(token)", "stepper", state.serialized(), TabState.checkpointField(id), "\(steps.last ?? 0)"],
            ["HSET", "rill:tasks", id, JSON(argument: record).serialized()],
            ["HSET", "rill:task-lost-runs", id, "\(lostRuns)"],
            ["HSET", "rill:task-owners", id, dead],
            ["SADD", "rill:tasks-of:\(dead)", id],
            ["SADD", "rill:task-processes", dead],
            ["EXEC"],
        ])
        _ = try replies.last?.get()
        return id
    }

    @Test func aTaskIsRecordedWithTheCommitThatStartedItAndForgottenWhenItEnds() async throws {
        let app = try app()
        let tab = try await TestTab.connect(to: app)
        tab.send(Stepper.event.setPause(200))
        tab.send(Stepper.event.start(3))
        #expect(try await eventually { try await tasks(of: tab.token, in: app).count == 1 })
        let info = try #require(try await tasks(of: tab.token, in: app).first)
        #expect(info.owner == app.manager.processID)
        #expect(info.record.event == "stepper.walk")
        #expect(info.record.payload["to"] == 3)
        #expect(app.backgroundTasks.first { $0.token == tab.token }?.durableID == info.record.id)
        await tab.settle()
        #expect(try await tab.state(Stepper.self).steps == [1, 2, 3])
        #expect(try await tasks(of: tab.token, in: app).isEmpty, "an ended task is forgotten")
        #expect(try await app.snapshot(tab.token).checkpoints.isEmpty, "and its checkpoint")
    }

    @Test func aHandlerThatFailsStartsNoTaskAndRecordsNone() async throws {
        let app = try app()
        let tab = try await TestTab.connect(to: app)
        tab.send(Stepper.event.startThenFail)
        await tab.settle()
        #expect(try await tasks(of: tab.token, in: app).isEmpty)
        #expect(try await tab.state(Stepper.self).steps == [])
        // Other tests' orphans of the same event may be claimed by this app meanwhile.
        #expect(!app.backgroundTasks.contains { $0.token == tab.token })
    }

    @Test func aBlockThatCannotBeSavedFailsItsTaskInsteadOfPausingIt() async throws {
        let app = try app()
        let tab = try await TestTab.connect(to: app)
        tab.send(Stepper.event.spoil)
        var update = try await tab.receive()
        while update.error == nil { update = try await tab.receive() }
        #expect(update.error?.message.contains("'stepper.ratio' cannot be saved") == true, "\(update.error?.message ?? "")")
        await tab.settle()
        #expect(try await tab.state(Stepper.self).cleaned == 1, "its clean-up ran, as for any failure")
        #expect(try await tab.state(Stepper.self).steps == [1])
        #expect(try await tasks(of: tab.token, in: app).isEmpty, "it is forgotten, not given up to run again")
    }

    @Test func twoProcessesClaimingTheSameOrphansGetEachExactlyOnce() async throws {
        let url = try #require(redisURL)
        let (one, two) = (try RedisStateManager(url: url), try RedisStateManager(url: url))
        // An event no app here knows, so only these two claimers take the orphans.
        let event = "race_\(UUID().uuidString.prefix(8).lowercased()).walk"
        var ids: Set<String> = []
        for _ in 0..<40 { ids.insert(try await orphan(event, token: .random(), steps: [])) }
        @Sendable func claims(_ tasks: any DurableTasks) async throws -> [String] {
            var ids: [String] = []
            for _ in 0..<40 { ids += try await tasks.claim(limit: 3, events: [event]).map(\.record.id) }
            return ids
        }
        let (first, second) = (try #require(one.durable), try #require(two.durable))
        async let fromOne = claims(first)
        async let fromTwo = claims(second)
        let (listOne, listTwo) = try await (fromOne, fromTwo)
        let byOne = Set(listOne), byTwo = Set(listTwo)
        #expect(byOne.isDisjoint(with: byTwo), "no task is claimed twice")
        #expect(byOne.union(byTwo) == ids, "every orphan is claimed")
        #expect(listOne.count + listTwo.count == 40)
        for id in ids { _ = try await raw.send(["HDEL", "rill:tasks", id]) }
    }

    @Test func aClaimCostsTheSameHoweverManyTasksLiveProcessesRun() async throws {
        // A Redis of its own, so only this test's commands are counted.
        let server = try await RedisServer.start()
        defer { server.kill() }
        let client = server.client()
        func commands() async throws -> Int {
            let info = try await client.send(["INFO", "commandstats"]).string ?? ""
            return info.split(whereSeparator: \.isNewline).reduce(0) { sum, line in
                sum + (Int(line.split(separator: ",").first?.split(separator: "=").last ?? "") ?? 0)
            }
        }
        let event = "stepper.walk"
        func task(_ owner: String) -> (id: String, commands: [[String]]) {
            let id = Token.random().rawValue
            let record = DurableRecord(id: id, token: .random(), event: event, payload: [:], afterCrash: .resume, since: 0)
            return (id, [
                ["HSET", "rill:tasks", id, JSON(argument: record).serialized()], ["HSET", "rill:task-owners", id, owner],
                ["SADD", "rill:tasks-of:\(owner)", id], ["SADD", "rill:task-processes", owner],
            ])
        }
        // A live process runs 2000 tasks; a dead one left 3.
        _ = try await client.send(["SET", "rill:alive:live", "1", "PX", "600000"])
        let live = (0..<2000).map { _ in task("live") }, dead = (0..<3).map { _ in task("dead") }
        _ = try await client.pipeline((live + dead).flatMap(\.commands))
        let durable = try #require(try RedisStateManager(url: "redis://127.0.0.1:\(server.port)").durable)
        _ = try await durable.claim(limit: 32, events: ["none.yet"])

        let before = try await commands()
        let claimed = try await durable.claim(limit: 32, events: [event])
        let cost = try await commands() - before
        #expect(Set(claimed.map(\.record.id)) == Set(dead.map(\.id)), "the dead process's tasks, and only those")
        // About a dozen commands per task taken, a few per process: nothing per live task.
        #expect(cost < 100, "a claim ran \(cost) commands beside 2000 tasks of a live process")
        #expect(try await durable.claim(limit: 32, events: [event]).isEmpty, "each is taken once")
    }

    @Test func aDeadProcesssTasksAreSharedAmongTheLiveOnes() async throws {
        // A Redis of its own, so the live processes are only these three.
        let server = try await RedisServer.start()
        defer { server.kill() }
        let client = server.client()
        let url = "redis://127.0.0.1:\(server.port)"
        let claimers = try (0..<3).map { _ in try #require(try RedisStateManager(url: url).durable) }
        // Each has claimed once already, as every process does each second.
        for claimer in claimers { _ = try await claimer.claim(limit: 32, events: ["stepper.walk"]) }
        var commands: [[String]] = [["SADD", "rill:task-processes", "dead"]]
        for _ in 0..<90 {
            let id = Token.random().rawValue
            let record = DurableRecord(id: id, token: .random(), event: "stepper.walk", payload: [:], afterCrash: .resume, since: 0)
            commands += [
                ["HSET", "rill:tasks", id, JSON(argument: record).serialized()], ["HSET", "rill:task-owners", id, "dead"],
                ["SADD", "rill:tasks-of:dead", id],
            ]
        }
        _ = try await client.pipeline(commands)

        var taken: [Int] = []
        for claimer in claimers { taken.append(try await claimer.claim(limit: 32, events: ["stepper.walk"]).count) }
        #expect(taken == [30, 30, 30], "each live process takes its third, not the first one all of them")
        #expect(try await claimers[0].claim(limit: 32, events: ["stepper.walk"]).isEmpty)
    }

    @Test func anOrphanIsResumedFromItsCheckpointByExactlyOneOfTwoProcesses() async throws {
        let (a, b) = (try app(), try app())
        let token = Token.random()
        let id = try await orphan("stepper.walk", token: token, steps: [1, 2], total: 6)
        #expect(try await eventually(timeout: .seconds(20)) { try await a.snapshot(token)[Stepper.self].steps.count == 6 })
        #expect(try await eventually { try await tasks(of: token, in: a).isEmpty })
        #expect(try await a.snapshot(token)[Stepper.self].steps == [1, 2, 3, 4, 5, 6], "no step again, none missing")
        #expect(try await a.snapshot(token)[Stepper.self].cleaned == 1, "one run ended, on one process")
        _ = (b, id)
    }

    @Test func aBlockOfATaskAnotherProcessTookIsNotSaved() async throws {
        let app = try app()
        let tab = try await TestTab.connect(to: app)
        tab.send(Stepper.event.setPause(50))
        tab.send(Stepper.event.start(10_000))
        #expect(try await eventually { try await tab.state(Stepper.self).steps.count >= 2 })
        let id = try #require(try await tasks(of: tab.token, in: app).first?.record.id)
        // Another process took it (this one was thought gone); that process is alive.
        let other = "other-\(UUID().uuidString)"
        _ = try await raw.send(["SET", "rill:alive:\(other)", "1", "PX", "60000"])
        _ = try await raw.send(["HSET", "rill:task-owners", id, other])
        await tab.settle()
        let steps = try await tab.state(Stepper.self).steps
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await tab.state(Stepper.self).steps == steps, "a task this process lost saves no step")
        #expect(try await tab.state(Stepper.self).cleaned == 0, "and runs no clean-up: it goes on elsewhere")
        #expect(try await tasks(of: tab.token, in: app).first?.owner == other, "its record stays the new owner's")
        _ = try await raw.send(["HDEL", "rill:tasks", id])
        _ = try await raw.send(["HDEL", "rill:task-owners", id])
    }

    @Test func aFailPolicyTaskLeftByItsProcessRunsOnlyItsCleanUpAndTellsTheTab() async throws {
        let app = try app()
        let token = Token.random()
        let tab = try await TestTab.connect(to: app, token: token)
        _ = try await tab.receive()
        _ = try await orphan("stepper.walk_once", token: token, steps: [1, 2], afterCrash: .fail)
        var update = try await tab.receive(timeout: .seconds(20))
        while update.error == nil { update = try await tab.receive(timeout: .seconds(20)) }
        let message = update.error?.message ?? ""
        #expect(message.contains("interrupted"), "\(message)")
        await tab.settle()
        #expect(try await tab.state(Stepper.self).cleaned == 1, "its clean-up ran on the process that claimed it")
        #expect(try await tab.state(Stepper.self).steps == [1, 2], "and nothing else")
        #expect(try await eventually { try await tasks(of: token, in: app).isEmpty })
    }

    @Test func aTaskWhoseRunsKeepBeingLostRunsOnlyItsCleanUpAndTellsTheTab() async throws {
        let app = try app()
        let token = Token.random()
        let tab = try await TestTab.connect(to: app, token: token)
        _ = try await tab.receive()
        // Its process died five times in a row before it saved a block; this is the sixth.
        let id = try await orphan("stepper.walk", token: token, steps: [1, 2], total: 10, lostRuns: App.maxLostRuns)
        var update = try await tab.receive(timeout: .seconds(20))
        while update.error == nil { update = try await tab.receive(timeout: .seconds(20)) }
        let message = update.error?.message ?? ""
        #expect(message.contains("6 runs of it in a row ended before saving a block"), "\(message)")
        await tab.settle()
        #expect(try await tab.state(Stepper.self).cleaned == 1, "its clean-up ran")
        #expect(try await tab.state(Stepper.self).steps == [1, 2], "and none of its work")
        // Forgotten once its run ended, wherever it ran.
        #expect(try await eventually { try await tasks(of: token, in: app).isEmpty })
        #expect(try await eventually { try await raw.send(["HEXISTS", "rill:task-lost-runs", id]).int == 0 })
    }

    @Test func whenTheRunOfItsCleanUpIsLostTooTheTaskIsForgotten() async throws {
        let app = try app()
        let token = Token.random()
        let tab = try await TestTab.connect(to: app, token: token)
        _ = try await tab.receive()
        _ = try await orphan("stepper.walk", token: token, steps: [1], total: 10, lostRuns: App.maxLostRuns + 1)
        let error = try await tab.receiveError(timeout: .seconds(20))
        #expect(error.message.contains("nor its clean-up"), "\(error.message)")
        #expect(try await eventually { try await tasks(of: token, in: app).isEmpty })
        #expect(try await tab.state(Stepper.self).cleaned == 0, "nothing of it ran")
        #expect(try await tab.state(Stepper.self).steps == [1])
    }

    @Test func aTaskWhoseArgumentsNoLongerFitFailsWhenResumedAndTellsTheTab() async throws {
        let app = try app()
        let token = Token.random()
        let tab = try await TestTab.connect(to: app, token: token)
        _ = try await tab.receive()
        // Recorded by an earlier version of the app, whose `to` was a string.
        _ = try await orphan("stepper.walk", token: token, steps: [1], payload: ["to": "ten"])
        let error = try await tab.receiveError(timeout: .seconds(20))
        #expect(error.message.contains("field 'to' must be Int"), "\(error.message)")
        #expect(try await eventually { try await tasks(of: token, in: app).isEmpty }, "it is forgotten")
        #expect(try await tab.state(Stepper.self).steps == [1])
    }

    @Test func aSavedBlockSetsTheCountOfLostRunsBackToZero() async throws {
        let app = try app()
        let token = Token.random()
        let id = try await orphan("stepper.walk", token: token, steps: [1], total: 50, lostRuns: 3)
        #expect(try await eventually(timeout: .seconds(20)) { try await app.snapshot(token)[Stepper.self].steps.count >= 2 })
        // 48 steps of 20 ms are still to come: it is running, and its saved blocks cleared the count.
        #expect(try await tasks(of: token, in: app).count == 1)
        #expect(try await raw.send(["HEXISTS", "rill:task-lost-runs", id]).int == 0)
        #expect(try await eventually(timeout: .seconds(20)) { try await app.snapshot(token)[Stepper.self].steps.count == 50 })
        #expect(try await app.snapshot(token)[Stepper.self].steps == Array(1...50), "three lost runs do not stop it")
    }

    @Test func aTaskWhoseCleanUpCommittedIsNeverRunAgainEvenIfHandedOver() async throws {
        let (a, b) = (try app(), try app())
        let tab = try await TestTab.connect(to: a)
        tab.send(Stepper.event.closeThenLinger)
        #expect(try await eventually { try await tab.state(Stepper.self).cleaned == 1 })
        #expect(try await tasks(of: tab.token, in: b).count == 1, "it still runs")
        await a.shutdown(gracePeriod: .seconds(5))
        #expect(try await eventually { try await tasks(of: tab.token, in: b).isEmpty }, "handed over, it is forgotten")
        try await Task.sleep(for: .seconds(2))
        #expect(try await b.snapshot(tab.token)[Stepper.self].cleaned == 1, "no process ran it again")
    }

    @Test func shutdownHandsTasksOverAtOnceAndTheyGoOnElsewhere() async throws {
        let (a, b) = (try app(), try app())
        let tab = try await TestTab.connect(to: a)
        tab.send(Stepper.event.setPause(40))
        tab.send(Stepper.event.start(25))
        #expect(try await eventually { try await tab.state(Stepper.self).steps.count >= 5 })
        await a.shutdown(gracePeriod: .seconds(5))
        #expect(try await eventually(timeout: .seconds(20)) { try await b.snapshot(tab.token)[Stepper.self].steps.count == 25 })
        #expect(try await b.snapshot(tab.token)[Stepper.self].steps == Array(1...25))
        #expect(try await b.snapshot(tab.token)[Stepper.self].cleaned == 1, "the clean-up ran once, where the task ended")
        #expect(try await eventually { try await tasks(of: tab.token, in: b).isEmpty })
    }

    @Test func aTaskCancelledFromAnotherProcessStopsWhereItRunsAndAnOrphanIsForgotten() async throws {
        let (a, b) = (try app(), try app())
        let tab = try await TestTab.connect(to: a)
        tab.send(Stepper.event.setPause(50))
        tab.send(Stepper.event.start(10_000))
        #expect(try await eventually { try await tab.state(Stepper.self).steps.count >= 2 })
        let id = try #require(try await tasks(of: tab.token, in: b).first?.record.id, "the other process sees it")
        try await b.cancelDurable(id)
        await tab.settle()
        #expect(try await tab.state(Stepper.self).cleaned == 1, "it stopped where it ran, through its clean-up")
        #expect(try await tasks(of: tab.token, in: b).isEmpty, "and is forgotten")

        // One whose process is gone is forgotten at once, and never resumed. (Of an event no
        // app here knows, so no claim takes it first.)
        let token = Token.random()
        let orphan = try await orphan("gone_\(UUID().uuidString.prefix(8).lowercased()).walk", token: token, steps: [1], total: 10_000)
        try await b.cancelDurable(orphan)
        #expect(try await tasks(of: token, in: b).isEmpty)
        #expect(try await a.snapshot(token).checkpoints.isEmpty)
    }

    @Test func aCheckpointedBlockCostsTheSameRoundTripsAsAPlainOne() async throws {
        // A Redis of its own, so only this test's commands are counted.
        let server = try await RedisServer.start()
        defer { server.kill() }
        let client = server.client()
        // A round trip of a block is one script call (the commands a script runs count too in
        // Redis's totals, so the calls of EVALSHA are what is compared).
        func scripts() async throws -> Int {
            let info = try await client.send(["INFO", "commandstats"]).string ?? ""
            let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_evalsha:") } ?? ""
            return Int(line.split(separator: ",").first?.split(separator: "=").last ?? "") ?? -1
        }
        let app = App(states: [Stepper.self, Plain.self], manager: try RedisStateManager(url: "redis://127.0.0.1:\(server.port)"))
        let tab = try await TestTab.connect(to: app)
        tab.send(Stepper.event.setPause(0))
        await tab.settle()

        var before = try await scripts()
        tab.send(Plain.event.walk(50))
        await tab.settle()
        let plain = try await scripts() - before
        before = try await scripts()
        let started = ContinuousClock.now
        tab.send(Stepper.event.start(50))
        await tab.settle()
        let durable = try await scripts() - before
        let claims = Int((ContinuousClock.now - started).components.seconds) + 2
        #expect(try await tab.state(Plain.self).steps.count == 50)
        #expect(try await tab.state(Stepper.self).steps.count == 50)
        #expect(plain >= 50, "each plain block commits with one script")
        // Per task, the durable one adds the handler that records it and its end; and the app's
        // claim runs once a second meanwhile (a slow machine takes more seconds).
        #expect(durable <= plain + 3 + claims, "50 checkpointed blocks: \(durable) scripts; 50 plain blocks: \(plain); \(claims) claims")
    }
}

/// The plain task the round-trip count compares with: the same loop, not durable, no checkpoints.
@LiveState
struct Plain {
    var steps: [Int] = []

    @Background
    private func walk(_: BackgroundRun, to total: Int) async throws {
        for step in 1...total {
            try await withState { s in s.steps.append(step) }
        }
    }
}
