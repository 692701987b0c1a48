// The relay without holes: a tab on one process whose state another process changes while the
// subscriber connection is killed again and again ends on the saved state, never a stale one.

import RESP
import RedisServerSupport
import Rill
import RillRedis
import Synchronization
import Testing

@LiveState
struct RelayedState {
    var count = 0
}

/// A page as the browser runtime keeps it: applies a delta only on the version it names, and
/// asks for its whole state after a gap.
final class PageModel: UpdateSink {
    struct Shown {
        var count: Int?
        var version: Int?
        var resyncing = false
        var resyncs = 0
        var hydrations = 0
    }

    let shown = Mutex(Shown())
    let resync: @Sendable () -> Void

    init(resync: @escaping @Sendable () -> Void) {
        self.resync = resync
    }

    func send(_ update: StateUpdate) {
        let ask = shown.withLock { page -> Bool in
            let count: Int? = if case .int(let value)? = update.delta["relayed_state"]?["count"] { value } else { nil }
            if update.isHydration {
                page = Shown(count: count ?? 0, version: update.version, resyncs: page.resyncs, hydrations: page.hydrations + 1)
                return false
            }
            guard let version = update.version else { return false }
            guard !page.resyncing, update.base == page.version else {
                if page.resyncing { return false }
                page.resyncing = true
                page.resyncs += 1
                return true
            }
            if let count { page.count = count }
            page.version = version
            return false
        }
        if ask { resync() }
    }
}

/// Each test has a redis-server of its own: killing its subscribers must not disturb other tests.
@Suite struct RelayTests {
    @Test(.timeLimit(.minutes(2)))
    func aTabChangedElsewhereWhileTheSubscriptionIsKilledEndsOnTheSavedState() async throws {
        let server = try await RedisServer.start()
        defer { server.kill() }
        let url = "redis://127.0.0.1:\(server.port)"
        let here = App(states: [RelayedState.self], manager: try RedisStateManager(url: url))
        let elsewhere = App(states: [RelayedState.self], manager: try RedisStateManager(url: url))
        let token = Token.random()
        let page = PageModel { here.resync(token) }
        try await here.connect(token, sink: page)
        #expect(page.shown.withLock { $0.version } == 0)

        let admin = server.client()
        // Pub/sub keeps nothing: what is published while the subscriber is away is gone. Each
        // round's writes follow a kill at once, and the last round's are the last: only a resync
        // when the subscription comes back can bring the page to them.
        var writes = 0
        for _ in 0..<5 {
            _ = try await admin.send(["CLIENT", "KILL", "TYPE", "pubsub"])
            for _ in 0..<20 {
                try await elsewhere.modifyState(token) { $0[RelayedState.self].count += 1 }
                writes += 1
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let saved = try await here.snapshot(token)[RelayedState.self].count
        #expect(saved == writes)
        let deadline = ContinuousClock.now + .seconds(30)
        while page.shown.withLock({ $0.count != writes || $0.resyncing }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let shown = page.shown.withLock { $0 }
        #expect(shown.count == writes, "the page is stale: \(shown)")
        #expect(!shown.resyncing)
        here.disconnect(token, sink: page)
    }

    @Test(.timeLimit(.minutes(1)))
    func aSubscriptionThatComesBackResendsEveryTabHereItsState() async throws {
        let server = try await RedisServer.start()
        defer { server.kill() }
        let here = App(states: [RelayedState.self], manager: try RedisStateManager(url: "redis://127.0.0.1:\(server.port)"))
        let tokens = (0..<3).map { _ in Token.random() }
        let pages = tokens.map { token in PageModel { here.resync(token) } }
        for (token, page) in zip(tokens, pages) { try await here.connect(token, sink: page) }
        let admin = server.client()
        // Whatever was published for these tabs while the subscriber was away is unknown, so
        // each gets its state again: the last delta lost cannot leave a page stale.
        _ = try await admin.send(["CLIENT", "KILL", "TYPE", "pubsub"])
        let deadline = ContinuousClock.now + .seconds(20)
        while pages.contains(where: { $0.shown.withLock { $0.hydrations } < 2 }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(pages.map { $0.shown.withLock { $0.hydrations } } == [2, 2, 2])
        for (token, page) in zip(tokens, pages) { here.disconnect(token, sink: page) }
    }

    @Test(.timeLimit(.minutes(1)))
    func aTakeoverNoticeThisProcessSentDoesNotCloseItsOwnSocket() async throws {
        let server = try await RedisServer.start()
        defer { server.kill() }
        let here = App(states: [RelayedState.self], manager: try RedisStateManager(url: "redis://127.0.0.1:\(server.port)"))
        let elsewhere = App(states: [RelayedState.self], manager: try RedisStateManager(url: "redis://127.0.0.1:\(server.port)"))
        let token = Token.random()
        let page = PageModel { here.resync(token) }
        try await here.connect(token, sink: page)
        // A tab that comes back to this process at once sends its takeover notice while this
        // process may still hear its channel: the notice must not close the socket it serves.
        try await #require(here.manager.relay).supersede(token)
        try await Task.sleep(for: .milliseconds(300))
        #expect(here.isConnected(token), "the tab's socket was closed by its own process's notice")
        // Another process's notice does close it.
        let other = PageModel { elsewhere.resync(token) }
        try await elsewhere.connect(token, sink: other)
        #expect(try await eventually { !here.isConnected(token) })
        elsewhere.disconnect(token, sink: other)
    }
}
