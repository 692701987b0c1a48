// The client's internals that the end-to-end tests cannot pin down: backpressure marks, UTF-8 checks, masking.

import NIOCore
import NIOPosix
@testable import RillClient
import Testing

@Suite struct InternalsTests {
    @Test func readingPausesAtTheHighWatermarkAndNoMessageIsLost() async throws {
        try await withTimeout {
            let queue = MessageQueue()
            var pauses: [Int] = []
            for index in 0..<(MessageQueue.highWatermark + 100) where queue.push("\(index)") {
                pauses.append(index)
            }
            // Only the message that reaches the mark asks to pause; later ones are already paused.
            #expect(pauses == [MessageQueue.highWatermark - 1])
            for index in 0..<(MessageQueue.highWatermark + 100) {
                #expect(try await queue.next() == "\(index)")
            }
            // Draining resumed reading, so the next crossing pauses again.
            let pausedAgain = (0..<MessageQueue.highWatermark).map { queue.push("\($0)") }
            #expect(pausedAgain.filter { $0 }.count == 1)
            queue.finish()
            for _ in 0..<MessageQueue.highWatermark { _ = try await queue.next() }
            #expect(try await queue.next() == nil)
        }
    }

    @Test func aWaitingConsumerGetsTheErrorAfterTheMessages() async throws {
        try await withTimeout {
            let queue = MessageQueue()
            async let first = queue.next()
            try await Task.sleep(for: .milliseconds(20))
            _ = queue.push("one")
            #expect(try await first == "one")
            _ = queue.push("two")
            queue.finish(throwing: WebSocketClient.ProtocolViolation(reason: "test"))
            #expect(try await queue.next() == "two")
            await #expect(throws: WebSocketClient.ProtocolViolation.self) { try await queue.next() }
            #expect(try await queue.next() == nil)
        }
    }

    @Test func aCancelledConsumerStopsWaiting() async throws {
        try await withTimeout {
            let queue = MessageQueue()
            let consumer = Task { try await queue.next() }
            try await Task.sleep(for: .milliseconds(20))
            consumer.cancel()
            await #expect(throws: CancellationError.self) { try await consumer.value }
            _ = queue.push("after")
            #expect(try await queue.next() == "after")
        }
    }

    @Test(arguments: [
        ([], ""),
        (Array("plain ascii".utf8), "plain ascii"),
        (Array("żółw 🐢 façade".utf8), "żółw 🐢 façade"),
    ] as [([UInt8], String)])
    func validUTF8IsDecoded(bytes: [UInt8], text: String) {
        #expect(ByteBuffer(bytes: bytes).validUTF8String() == text)
    }

    @Test(arguments: [
        [0xFF],
        [0x61, 0xC3],
        // A truncated 4-byte sequence is repaired to one U+FFFD, which is 3 bytes long too.
        [0xF0, 0x9F, 0x98],
        [0xED, 0xA0, 0x80],
    ] as [[UInt8]])
    func invalidUTF8IsRejected(bytes: [UInt8]) {
        #expect(ByteBuffer(bytes: bytes).validUTF8String() == nil)
    }

    @Test func maskingMatchesTheBytewiseDefinition() {
        let key: UInt32 = 0xA1B2_C3D4
        let keyBytes: [UInt8] = [0xA1, 0xB2, 0xC3, 0xD4]
        for count in [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 100] {
            let input = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var output = [UInt8](repeating: 0, count: count)
            input.withUnsafeBytes { source in
                output.withUnsafeMutableBytes { FrameWriter.mask(from: source, into: $0.baseAddress, key: key) }
            }
            #expect(output == input.indices.map { input[$0] ^ keyBytes[$0 % 4] }, "length \(count)")
        }
    }
}
