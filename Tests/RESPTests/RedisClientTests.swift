// The client against a real redis-server: commands, pipelining, scripts, timeouts, and Redis dying and coming back.

import Foundation
import RESP
import RedisServerSupport
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct RedisClientTests {
    /// How many connections Redis has accepted since it started, from `INFO stats`.
    static func connectionsReceived(_ redis: RedisClient) async throws -> Int? {
        let info = try await redis.send(["INFO", "stats"]).string ?? ""
        let line = info.split(separator: "\r\n").first { $0.hasPrefix("total_connections_received:") }
        return line.flatMap { Int($0.dropFirst("total_connections_received:".count)) }
    }

    @Test func runsBasicCommands() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            #expect(try await redis.ping() == "PONG")
            #expect(try await redis.get("missing") == nil)
            #expect(try await redis.set("greeting", "hello"))
            #expect(try await redis.get("greeting") == Array("hello".utf8))
            #expect(try await redis.send(["GET", "greeting"]) == .bulk(Array("hello".utf8)))
            #expect(try await redis.send(["SET", "n", "5"]) == .simple("OK"))
            #expect(try await redis.incr("n") == 6)
            #expect(try await redis.send(["GET", "n"]).int == 6)
            #expect(try await redis.del(["greeting", "n", "missing"]) == 2)
            #expect(try await redis.del([]) == 0)
            #expect(try await redis.send(["LRANGE", "missing", "0", "-1"]) == .array([]))
            await redis.close()
        }
    }

    @Test func keepsValuesBinarySafeAndLarge() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            let binary: [UInt8] = [0, 13, 10, 36, 42, 255, 0]
            #expect(try await redis.set("binary", binary))
            #expect(try await redis.get("binary") == binary)
            #expect(try await redis.send([Array("GET".utf8), Array("binary".utf8)]) == .bulk(binary))

            let large = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            #expect(try await redis.set("large", large))
            #expect(try await redis.get("large") == large)
            await redis.close()
        }
    }

    @Test func throwsErrorRepliesAndStaysUsable() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            try await redis.hset("hash", ["f": Array("v".utf8)])
            let error = try await #require(throws: RedisError.self) { try await redis.incr("hash") }
            #expect(error.code == "WRONGTYPE")
            await #expect(throws: RedisError.self) { try await redis.send(["NOSUCHCOMMAND"]) }
            #expect(try await redis.ping() == "PONG")
            await redis.close()
        }
    }

    @Test func readsAndWritesHashes() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            #expect(try await redis.hgetall("tab:1") == [:])
            let fields = ["counter": Array("1".utf8), "form": Array("{\"name\":\"x\"}".utf8), "empty": []]
            #expect(try await redis.hset("tab:1", fields) == 3)
            #expect(try await redis.hset("tab:1", ["counter": Array("2".utf8)]) == 0)
            #expect(try await redis.hget("tab:1", "counter") == Array("2".utf8))
            #expect(try await redis.hget("tab:1", "missing") == nil)
            #expect(try await redis.hgetall("tab:1") == fields.merging(["counter": Array("2".utf8)]) { $1 })
            #expect(try await redis.hdel("tab:1", ["form", "missing"]) == 1)
            #expect(try await redis.hgetall("tab:1").keys.sorted() == ["counter", "empty"])
            #expect(try await redis.hset("tab:1", [:]) == 0)
            await redis.close()
        }
    }

    @Test func expiresKeys() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            #expect(try await redis.set("short", "x", px: 1500))
            let ttl = try #require(try await redis.send(["PTTL", "short"]).int)
            #expect(ttl > 0 && ttl <= 1500)
            let gone = try await eventually(within: .seconds(20)) {
                guard try await redis.get("short") == nil else { throw ServerError("the key has not expired yet") }
                return true
            }
            #expect(gone)

            try await redis.set("k", "v")
            #expect(try await redis.expire("k", seconds: 100))
            #expect(try await redis.send(["TTL", "k"]).int.map { (99...100).contains($0) } == true)
            #expect(try await redis.pexpire("k", milliseconds: 50_000))
            #expect(try await redis.send(["PTTL", "k"]).int.map { (40_000...50_000).contains($0) } == true)
            #expect(try await !redis.expire("missing", seconds: 100))
            #expect(try await !redis.pexpire("missing", milliseconds: 100))
            await redis.close()
        }
    }

    @Test func setNXSetsOnlyOnceAsALock() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            #expect(try await redis.set("lock", "owner-1", px: 5000, nx: true))
            #expect(try await !redis.set("lock", "owner-2", px: 5000, nx: true))
            #expect(try await redis.get("lock") == Array("owner-1".utf8))

            // Of many concurrent contenders exactly one wins.
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20 {
                    group.addTask { try await redis.set("lock2", "owner-\(index)", px: 5000, nx: true) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)

            // The expiry frees a lock whose owner died.
            #expect(try await redis.set("lock3", "owner-1", px: 50, nx: true))
            try await Task.sleep(for: .milliseconds(150))
            #expect(try await redis.set("lock3", "owner-2", px: 50, nx: true))
            await redis.close()
        }
    }

    @Test func pipelinesAThousandCommandsInOneWrite() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            let commands = Array(repeating: ["INCR", "counter"], count: 1000) + [["INCR", "counter", "extra"], ["GET", "counter"]]
            let replies = try await redis.pipeline(commands)
            #expect(replies.count == 1002)
            #expect(try replies[0..<1000].map { try $0.get() } == (1...1000).map { RESPValue.integer($0) })
            #expect(throws: RedisError.self) { try replies[1000].get() }
            #expect(try replies[1001].get().int == 1000)
            #expect(try await redis.pipeline([[String]]()).isEmpty)
            #expect(try await redis.pipeline([[Array("PING".utf8)]]).map { try $0.get() } == [.simple("PONG")])
            await redis.close()
        }
    }

    @Test func pipelinesConcurrentCallersOnOneConnection() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            // The first commands arrive together, before the connection is open.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        for _ in 0..<100 {
                            try await redis.incr("counter")
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await redis.send(["GET", "counter"]).int == 2000)
            // Every command went over the client's single connection; the other one was the
            // test's check that the server was up.
            #expect(try await Self.connectionsReceived(redis) == 2)

            // Interleaved GET/SET from many tasks each see their own key's value: replies
            // are matched to the right callers.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<20 {
                    group.addTask {
                        for step in 0..<50 {
                            let key = "task:\(task)"
                            try await redis.set(key, "\(task)-\(step)")
                            #expect(try await redis.get(key) == Array("\(task)-\(step)".utf8))
                        }
                    }
                }
                try await group.waitForAll()
            }
            await redis.close()
        }
    }

    @Test func measuresPipelinedThroughput() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            try await redis.ping()
            let tasks = 20
            let perTask = 2500
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<tasks {
                    group.addTask {
                        for _ in 0..<perTask {
                            try await redis.incr("counter")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("RedisClient: \(tasks * perTask) INCRs from \(tasks) tasks in \(elapsed): \(Int(Double(tasks * perTask) / seconds)) commands/s")
            #expect(try await redis.send(["GET", "counter"]).int == tasks * perTask)
            await redis.close()
        }
    }

    @Test func runsScriptsFallingBackToEvalAfterAFlush() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            // The compare-and-delete that releases a lock only for its owner.
            let release = RedisScript(
                """
                if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
                """
            )
            #expect(try await redis.scriptLoad(release) == release.sha1)
            try await redis.set("lock", "me")
            #expect(try await redis.evalsha(release, keys: ["lock"], args: ["someone-else"]) == .integer(0))
            #expect(try await redis.evalsha(release, keys: ["lock"], args: ["me"]) == .integer(1))

            #expect(try await redis.send(["SCRIPT", "FLUSH"]) == .simple("OK"))
            #expect(try await redis.send(["SCRIPT", "EXISTS", release.sha1]) == .array([.integer(0)]))
            try await redis.set("lock", "me")
            #expect(try await redis.evalsha(release, keys: ["lock"], args: [Array("me".utf8)]) == .integer(1))
            // EVAL cached it again.
            #expect(try await redis.send(["SCRIPT", "EXISTS", release.sha1]) == .array([.integer(1)]))

            let failing = RedisScript("return redis.error_reply('LOCKED by someone')")
            let error = try await #require(throws: RedisError.self) { try await redis.evalsha(failing) }
            #expect(error.message == "LOCKED by someone")
            await redis.close()
        }
    }

    @Test func timesOutACommandAndRecoversOnANewConnection() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client(commandTimeout: .milliseconds(200))
            try await redis.ping()
            // Had the timer not fired first, the reply would have come after a second: the
            // error alone shows it worked, so the test does not time a loaded machine.
            // Tasks on one serial executor start in order, so the PING is sent behind the sleeper.
            let executor = EventLoopExecutor()
            let sleeper = Task(executorPreference: executor) { try await redis.send(["DEBUG", "SLEEP", "1"]) }
            let behind = Task(executorPreference: executor) { try await redis.send(["PING"]) }
            let error = await #expect(throws: RedisConnectionError.self) { try await sleeper.value }
            #expect(error == .timeout(command: "DEBUG"))
            #expect(error.map { "\($0)" }?.contains("did not reply to DEBUG within the command timeout") == true)
            // The command sent behind it can no longer be matched to its reply.
            let behindError = await #expect(throws: RedisConnectionError.self) { try await behind.value }
            #expect(behindError == .closed)

            // Redis is still asleep for a while; once awake, the client works again.
            let pong = try await eventually(within: .seconds(20)) { try await redis.ping() }
            #expect(pong == "PONG")
            await redis.close()
        }
    }

    @Test func failsPendingCommandsWhenRedisDiesAndRecoversWhenItReturns() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            try await redis.set("before", "1")

            // BLPOP holds the connection busy, so the commands behind it are still waiting when Redis dies.
            let executor = EventLoopExecutor()
            let pending = (0..<5).map { index in
                Task(executorPreference: executor) { try await redis.send(index == 0 ? ["BLPOP", "nothing", "10"] : ["INCR", "x"]) }
            }
            // Wait until Redis itself reports the BLPOP blocking, however slow the machine is.
            let observer = server.client()
            _ = try await eventually(within: .seconds(20)) { () async throws -> Bool in
                let info = try await observer.send(["INFO", "clients"]).string ?? ""
                guard info.contains("blocked_clients:1") else { throw StillWaiting() }
                return true
            }
            await observer.close()
            try await Task.sleep(for: .milliseconds(100))
            server.kill()
            for task in pending {
                let error = await #expect(throws: RedisConnectionError.self) { try await task.value }
                #expect(error == .closed)
                #expect(error.map { "\($0)" } == "The Redis connection closed before the reply arrived; the command may have run")
            }

            // While Redis is down commands fail fast with a clear error, paced by the back-off.
            let start = ContinuousClock.now
            var failures = 0
            while ContinuousClock.now - start < .seconds(1) {
                let error = await #expect(throws: RedisConnectionError.self) { try await redis.ping() }
                guard case .cannotConnect(let host, let port, let underlying) = error else {
                    Issue.record("unexpected \(String(describing: error))")
                    break
                }
                #expect(host == "127.0.0.1" && port == server.port)
                // Refused at once; on a starved machine the attempt may time out first.
                #expect(underlying.contains("Connection refused") || underlying.contains("no connection within"), "\(underlying)")
                failures += 1
            }
            // Attempts after 0, 50, 150, 350, 750 ms: a handful, where a busy loop would make thousands.
            #expect(failures >= 1 && failures < 20, "\(failures) attempts in 1 s")

            try await server.restart()
            #expect(try await eventually(within: .seconds(20)) { try await redis.ping() } == "PONG")
            #expect(try await redis.incr("after") == 1)
            await redis.close()
        }
    }

    @Test(arguments: [
        ("%1\r\n+a\r\n+b\r\n", "expected a type byte (+ - : $ *), found 0x25 ('%')"),
        (":12x\r\n", "\"12x\" is not a valid integer"),
    ])
    func closesTheConnectionOnAMalformedReply(reply: String, reason: String) async throws {
        let server = try await ScriptedServer(reply: reply)
        let redis = RedisClient(host: "127.0.0.1", port: server.port)
        let error = await #expect(throws: RedisConnectionError.self) { try await redis.ping() }
        #expect(error == .protocolViolation(reason))
        #expect(error.map { "\($0)" } == "Redis sent a malformed reply, so the connection was closed: \(reason)")
        await redis.close()
        try await server.stop()
    }

    @Test func failsWithCannotConnectWhenNothingListens() async throws {
        let port: Int
        do {
            let server = try await RedisServer.start()
            port = server.port
            server.kill()
        }
        let redis = RedisClient(host: "127.0.0.1", port: port)
        let error = await #expect(throws: RedisConnectionError.self) { try await redis.ping() }
        #expect(error.map { "\($0)" }?.hasPrefix("Cannot connect to Redis at 127.0.0.1:\(port): ") == true)
        await redis.close()
    }

    @Test func rejectsCommandsAfterClose() async throws {
        try await withRedisServer { (server: RedisServer) async throws in
            let redis = server.client()
            try await redis.ping()
            await redis.close()
            let error = await #expect(throws: RedisConnectionError.self) { try await redis.ping() }
            #expect(error == .closed)
        }
    }
}
