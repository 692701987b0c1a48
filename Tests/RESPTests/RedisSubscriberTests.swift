// The subscriber against a real redis-server: delivery in order, patterns, and re-subscribing after a restart.

import RESP
import RedisServerSupport
import Synchronization
import Testing

/// Reads a subscriber's messages in the background, so tests can wait for them with a deadline.
final class MessageCollector: Sendable {
    private let received = Mutex<[RedisMessage]>([])
    private let reader = Mutex<Task<Void, Never>?>(nil)

    init(_ subscriber: RedisSubscriber) {
        let reader = Task { [weak self] in
            for await message in subscriber.messages {
                self?.received.withLock { $0.append(message) }
            }
        }
        self.reader.withLock { $0 = reader }
    }

    deinit {
        self.reader.withLock { $0?.cancel() }
    }

    /// Waits until `count` messages have arrived in all, or `timeout` passed; returns all received.
    func wait(for count: Int, within timeout: Duration = .seconds(5)) async throws -> [RedisMessage] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let messages = self.received.withLock { $0 }
            if messages.count >= count { return messages }
            try await Task.sleep(for: .milliseconds(5))
        }
        return self.received.withLock { $0 }
    }
}

@Suite(.timeLimit(.minutes(1))) struct RedisSubscriberTests {
    @Test func deliversMessagesInOrder() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            let subscriber = server.subscriber()
            let collector = MessageCollector(subscriber)
            try await subscriber.subscribe(["wake", "other"])

            for index in 0..<1000 {
                #expect(try await redis.publish(index.isMultiple(of: 2) ? "wake" : "other", "m\(index)") == 1)
            }
            #expect(try await redis.publish("unsubscribed-channel", "ignored") == 0)
            try await redis.publish("wake", [0, 255, 13, 10])

            let messages = try await collector.wait(for: 1001)
            #expect(messages.count == 1001)
            #expect(messages.prefix(1000).map(\.text) == (0..<1000).map { "m\($0)" })
            #expect(messages.prefix(4).map(\.channel) == ["wake", "other", "wake", "other"])
            #expect(messages.last == RedisMessage(channel: "wake", payload: [0, 255, 13, 10]))

            try await subscriber.unsubscribe(["other"])
            #expect(try await redis.publish("other", "after") == 0)
            #expect(try await redis.publish("wake", "still") == 1)
            #expect(try await collector.wait(for: 1002).last?.text == "still")

            await subscriber.close()
            await redis.close()
        }
    }

    @Test func deliversPatternSubscriptions() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            let subscriber = server.subscriber()
            let collector = MessageCollector(subscriber)
            try await subscriber.psubscribe(["tab:*"])
            try await subscriber.subscribe(["tab:1"])

            #expect(try await redis.publish("tab:1", "both") == 2)
            #expect(try await redis.publish("tab:2", "pattern") == 1)
            let messages = try await collector.wait(for: 3)
            #expect(Set(messages.prefix(2)) == [
                RedisMessage(channel: "tab:1", payload: Array("both".utf8), pattern: "tab:*"),
                RedisMessage(channel: "tab:1", payload: Array("both".utf8)),
            ])
            #expect(messages.dropFirst(2) == [RedisMessage(channel: "tab:2", payload: Array("pattern".utf8), pattern: "tab:*")])

            try await subscriber.punsubscribe(["tab:*"])
            #expect(try await redis.publish("tab:2", "gone") == 0)
            await subscriber.close()
            await redis.close()
        }
    }

    @Test func resubscribesAfterRedisRestartsAndRunsTheReconnectHandlers() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            let subscriber = server.subscriber()
            let collector = MessageCollector(subscriber)
            let reconnects = Mutex(0)
            subscriber.onReconnect { reconnects.withLock { $0 += 1 } }
            try await subscriber.subscribe(["wake"])
            try await subscriber.psubscribe(["tab:*"])
            try await redis.publish("wake", "before")
            #expect(try await collector.wait(for: 1).map(\.text) == ["before"])

            server.kill()
            try await Task.sleep(for: .milliseconds(300))
            #expect(reconnects.withLock { $0 } == 0)
            try await server.restart()

            // The subscriber comes back by itself; the handler tells it so.
            let start = ContinuousClock.now
            while reconnects.withLock({ $0 }) == 0, ContinuousClock.now - start < .seconds(20) {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(reconnects.withLock { $0 } == 1)
            #expect(try await eventually(within: .seconds(20)) { try await redis.publish("wake", "after") } == 1)
            #expect(try await redis.publish("tab:9", "pattern after") == 1)
            let messages = try await collector.wait(for: 3)
            #expect(messages.map(\.text) == ["before", "after", "pattern after"])

            await subscriber.close()
            await redis.close()
        }
    }

    @Test func replacesAConnectionThatDiedSilently() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let subscriber = server.subscriber(commandTimeout: .milliseconds(200), healthCheckInterval: .milliseconds(100))
            let collector = MessageCollector(subscriber)
            let reconnects = Mutex(0)
            subscriber.onReconnect { reconnects.withLock { $0 += 1 } }
            try await subscriber.subscribe(["wake"])

            // A frozen Redis keeps its sockets open: only the unanswered health check tells.
            server.pause()
            // Many health-check periods, so even a loaded machine runs one while Redis is frozen.
            try await Task.sleep(for: .seconds(3))
            server.resume()

            let start = ContinuousClock.now
            while reconnects.withLock({ $0 }) == 0, ContinuousClock.now - start < .seconds(20) {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(reconnects.withLock { $0 } >= 1)
            let redis = server.client()
            #expect(try await redis.publish("wake", "hello") == 1)
            #expect(try await collector.wait(for: 1).map(\.text) == ["hello"])
            await subscriber.close()
            await redis.close()
        }
    }

    @Test func remembersASubscriptionMadeWhileRedisIsDown() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            server.kill()
            let subscriber = server.subscriber()
            let collector = MessageCollector(subscriber)
            let reconnected = Mutex(false)
            subscriber.onReconnect { reconnected.withLock { $0 = true } }
            let error = await #expect(throws: RedisConnectionError.self) { try await subscriber.subscribe(["wake"]) }
            guard case .cannotConnect = error else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }

            try await server.restart()
            let start = ContinuousClock.now
            while !reconnected.withLock({ $0 }), ContinuousClock.now - start < .seconds(20) {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(reconnected.withLock { $0 })
            let redis = server.client()
            #expect(try await redis.publish("wake", "hello") == 1)
            #expect(try await collector.wait(for: 1).map(\.text) == ["hello"])
            await subscriber.close()
            await redis.close()
        }
    }

    @Test func endsMessagesWhenClosed() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let subscriber = server.subscriber()
            try await subscriber.subscribe(["wake"])
            await subscriber.close()
            var iterator = subscriber.messages.makeAsyncIterator()
            #expect(await iterator.next() == nil)
            let error = await #expect(throws: RedisConnectionError.self) { try await subscriber.subscribe(["more"]) }
            #expect(error == .closed)
        }
    }
}
