// The WebSocket and HTTP clients against the in-process test server, each test bounded in time.

import NIOCore
import NIOPosix
import NIOWebSocket
import RillClient
import RillServer
import Synchronization
import Testing

@Suite struct WebSocketClientTests {
    @Test func echoesAMessageAndClosesCleanly() async throws {
        try await withServer { server in
            let client = try await server.connect()
            try await client.send("hello")
            #expect(try await client.next() == "hello")
            #expect(client.closeCode == nil)
            try await client.close()
            #expect(client.closeCode == .normalClosure)
            #expect(try await client.next() == nil)
        }
    }

    @Test func echoesAThousandMessagesInOrder() async throws {
        try await withServer { server in
            let client = try await server.connect()
            for index in 0..<1000 {
                try await client.send("message \(index)")
            }
            var received: [String] = []
            for try await message in client.messages {
                received.append(message)
                if received.count == 1000 { break }
            }
            #expect(received == (0..<1000).map { "message \($0)" })
            try await client.close()
        }
    }

    @Test func reassemblesA200KBMessageSentIn16KBFragments() async throws {
        try await withServer { server in
            let client = try await server.connect()
            let size = 200 * 1024
            try await client.send("big:\(size)")
            let message = try #require(try await client.next())
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz".utf8)
            #expect(Array(message.utf8) == (0..<size).map { alphabet[$0 % alphabet.count] })

            let sent = String(repeating: "0123456789", count: size / 10)
            try await client.send(sent)
            #expect(try await client.next() == sent)
            try await client.close()
        }
    }

    @Test func framesOfEveryHeaderLengthArriveIntact() async throws {
        try await withServer { server in
            let client = try await server.connect()
            let lengths = [0, 1, 7, 8, 9, 125, 126, 127, 65_535, 65_536, 70_001]
            for length in lengths {
                let text = String((0..<length).map { Character(UnicodeScalar(UInt8(33 + $0 % 90))) })
                try await client.send(text)
                #expect(try await client.next() == text, "length \(length)")
            }
            let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
            try await client.send(binary: bytes)
            #expect(try await client.next() == "binary:1000:\(bytes.reduce(0) { $0 + Int($1) })")
            try await client.close()
        }
    }

    @Test func observesTheServersCloseCode() async throws {
        try await withServer { server in
            let client = try await server.connect()
            try await client.send("close:1009")
            #expect(try await client.next() == nil)
            await client.waitClosed()
            #expect(client.closeCode == .messageTooLarge)
            await #expect(throws: (any Error).self) { try await client.send("too late") }
        }
    }

    @Test func aRefusedUpgradeReportsTheStatusAndHeaders() async throws {
        try await withServer { server in
            let error = await #expect(throws: WebSocketClient.UpgradeFailed.self) {
                try await WebSocketClient.connect(host: "127.0.0.1", port: server.port, path: "/forbidden")
            }
            #expect(error?.status == 403)
            #expect(error?.headers.first { $0.0.lowercased() == "x-reason" }?.1 == "not allowed")
        }
    }

    @Test func concurrentSendsFromEightTasksArriveIntact() async throws {
        try await withServer { server in
            let client = try await server.connect()
            let perTask = 250
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        for index in 0..<perTask {
                            try await client.send("task \(task) message \(index) " + String(repeating: "x", count: index * 13 % 300))
                        }
                    }
                }
                try await group.waitForAll()
            }
            var nextIndex = [Int](repeating: 0, count: 8)
            for try await message in client.messages {
                let words = message.split(separator: " ")
                let task = try #require(Int(words[1]))
                let index = try #require(Int(words[3]))
                #expect(index == nextIndex[task], "task \(task) out of order")
                #expect(words.count == 4 || words[4].count == index * 13 % 300)
                nextIndex[task] = index + 1
                if nextIndex.allSatisfy({ $0 == perTask }) { break }
            }
            #expect(nextIndex == [Int](repeating: perTask, count: 8))
            try await client.close()
        }
    }

    @Test func runsOnTheConnectionsEventLoop() async throws {
        try await withServer { server in
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            try await withTaskExecutorPreference(LoopExecutor(loop)) {
                let client = try await WebSocketClient.connect(host: "127.0.0.1", port: server.port, path: "/ws", eventLoopGroup: loop)
                #expect(loop.inEventLoop)
                let count = 2000
                let received = try await withThrowingTaskGroup(of: [String].self) { group in
                    group.addTask {
                        for index in 0..<count { try await client.send("\(index)") }
                        return []
                    }
                    group.addTask {
                        var received: [String] = []
                        for try await message in client.messages {
                            received.append(message)
                            if received.count == count { break }
                        }
                        return received
                    }
                    return try await group.reduce([], +)
                }
                #expect(received == (0..<count).map { "\($0)" })
                try await client.close()
                #expect(client.closeCode == .normalClosure)
            }
        }
    }

    @Test func sendsWaitWhileTheServerStopsReading() async throws {
        try await withServer { server in
            let client = try await server.connect()
            try await client.send("stall:300")
            // 8 MB: enough to fill the socket buffers, so sends wait for the server.
            let messages = (0..<32).map { String(repeating: Character(UnicodeScalar(UInt8(65 + $0 % 26))), count: 256 * 1024) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for message in messages { try await client.send(message) }
                }
                for message in messages {
                    #expect(try await client.next() == message)
                }
                try await group.waitForAll()
            }
            try await client.close()
        }
    }

    @Test func answersPingsWithPongs() async throws {
        try await withServer { server in
            let client = try await server.connect()
            try await client.send("ping:are you there")
            #expect(try await client.next() == "pong:are you there")
            try await client.close()
        }
    }

    @Test func sendsRawFramesAsGiven() async throws {
        try await withServer { server in
            let client = try await server.connect()
            let allocator = ByteBufferAllocator()
            let first = WebSocketFrame(fin: false, opcode: .text, maskKey: [9, 8, 7, 6], data: allocator.buffer(string: "hel"))
            let last = WebSocketFrame(fin: true, opcode: .continuation, maskKey: [1, 2, 3, 4], data: allocator.buffer(string: "lo, raw"))
            try await client.sendRaw(frame: first)
            try await client.sendRaw(frame: last)
            #expect(try await client.next() == "hello, raw")
            // No key, so no mask: a lenient server still reads it.
            try await client.sendRaw(frame: WebSocketFrame(fin: true, opcode: .text, data: allocator.buffer(string: "unmasked")))
            #expect(try await client.next() == "unmasked")
            try await client.close()
        }
    }

    @Test func slowConsumersLoseNothing() async throws {
        try await withServer { server in
            let client = try await server.connect()
            let count = 20_000
            try await client.send("flood:\(count)")
            // Let the flood outrun the consumer so reading pauses and resumes.
            try await Task.sleep(for: .milliseconds(500))
            var expected = 0
            for try await message in client.messages {
                #expect(message == "\(expected)")
                expected += 1
                if expected == count { break }
            }
            #expect(expected == count)
            try await client.send("still alive")
            #expect(try await client.next() == "still alive")
            try await client.close()
        }
    }

    @Test func aMaskedServerFrameEndsMessagesWithAViolation() async throws {
        try await withServer { server in
            let client = try await server.connect()
            try await client.send("masked")
            await #expect(throws: WebSocketClient.ProtocolViolation.self) { try await client.next() }
            await client.waitClosed()
        }
    }

    @Test func invalidUTF8EndsMessagesWithAViolation() async throws {
        try await withServer { server in
            let client = try await server.connect()
            try await client.send("bad-utf8")
            await #expect(throws: WebSocketClient.ProtocolViolation.self) { try await client.next() }
            await client.waitClosed()
        }
    }

    @Test func connectingToAClosedPortFails() async throws {
        try await withTimeout {
            let server = try await TestServer.start()
            let port = server.port
            try await server.stop()
            await #expect(throws: (any Error).self) {
                try await WebSocketClient.connect(host: "127.0.0.1", port: port, path: "/ws")
            }
        }
    }
}

extension TestServer {
    func connect() async throws -> WebSocketClient {
        try await WebSocketClient.connect(host: "127.0.0.1", port: self.port, path: "/ws")
    }
}

extension WebSocketClient {
    /// The next message, or `nil` once the stream ended.
    func next() async throws -> String? {
        var iterator = self.messages.makeAsyncIterator()
        return try await iterator.next()
    }
}

struct TimedOut: Error {}

/// Runs `body` with a fresh server, failing with ``TimedOut`` instead of hanging.
func withServer(seconds: Double = 30, _ body: @escaping @Sendable (TestServer) async throws -> Void) async throws {
    try await withTimeout(seconds: seconds) {
        let server = try await TestServer.start()
        do {
            try await body(server)
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
    }
}

/// Returns `body`'s result, or throws ``TimedOut`` after `seconds` and leaves `body` behind, so
/// that a hung operation fails its test instead of hanging the run.
func withTimeout<T: Sendable>(seconds: Double = 30, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let outcome = FirstOutcome<T>()
    return try await withCheckedThrowingContinuation { continuation in
        outcome.start(continuation)
        let timer = Task {
            try await Task.sleep(for: .seconds(seconds))
            outcome.finish(.failure(TimedOut()))
        }
        Task {
            do {
                outcome.finish(.success(try await body()))
            } catch {
                outcome.finish(.failure(error))
            }
            timer.cancel()
        }
    }
}

/// Resumes a continuation with whichever outcome comes first.
private final class FirstOutcome<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    func finish(_ result: Result<T, any Error>) {
        self.continuation.withLock { $0.take() }?.resume(with: result)
    }
}
