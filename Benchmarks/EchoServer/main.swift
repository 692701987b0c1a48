// A Hummingbird WebSocket server that echoes every text message and does nothing else: the bench's ceiling.

import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOPosix

@main
struct EchoServer: AsyncParsableCommand {
    @Option(help: "Port to bind on 127.0.0.1, 0 for any free port.")
    var port = 0

    @Option(help: "Event-loop threads, default one per core.")
    var threads: Int?

    func run() async throws {
        let loops = threads.map { MultiThreadedEventLoopGroup(numberOfThreads: $0) }
        // Any path upgrades, so the bench can reuse the paths it sends to the real servers.
        let app = Application(
            router: Router(),
            server: .http1WebSocketUpgrade { _, _, _ in
                .upgrade([:]) { inbound, outbound, _ in
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message {
                            try await outbound.write(.text(text))
                        }
                    }
                }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: self.port), serverName: nil),
            onServerRunning: { channel in
                // The same line BenchServer logs, so one pattern finds either server's port.
                print("url=http://127.0.0.1:\(channel.localAddress?.port ?? 0)")
                fflush(nil)  // stdout is a pipe under the bench script, so the line would sit in a buffer
            },
            eventLoopGroupProvider: loops.map { .shared($0) } ?? .singleton
        )
        try await app.runService()
        try await loops?.shutdownGracefully()
    }
}
