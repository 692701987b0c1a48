// Runs a real redis-server on a free loopback port for one test, and kills or restarts it on demand.

import Foundation
import NIOCore
import NIOPosix
import RESP
import Synchronization

/// A `redis-server` child process on 127.0.0.1, without persistence.
///
/// Tests get one each through ``withRedisServer(_:)``, so they can run in parallel and kill,
/// restart or flush theirs without disturbing the others.
public final class RedisServer: Sendable {
    public static let executable = "/usr/bin/redis-server"

    public let port: Int
    private let process = Mutex<Process?>(nil)

    private init(port: Int) {
        self.port = port
    }

    /// Starts a server on a port no one listens on, and waits until it accepts connections.
    public static func start() async throws -> RedisServer {
        let server = RedisServer(port: try await Self.freePort())
        try await server.launch()
        return server
    }

    /// Starts the server again on the same port, as a restarted Redis would come back.
    public func restart() async throws {
        try await self.launch()
    }

    /// Kills the server with SIGKILL, as a crash would: no goodbye on its connections.
    public func kill() {
        guard let process = self.process.withLock({ $0.take() }) else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the server with SIGSTOP: its connections stay open but nothing is answered, as
    /// when a host vanishes without closing its sockets.
    public func pause() {
        self.signal(SIGSTOP)
    }

    /// Lets a paused server go on.
    public func resume() {
        self.signal(SIGCONT)
    }

    private func signal(_ signal: Int32) {
        guard let pid = self.process.withLock({ $0?.processIdentifier }) else { return }
        Foundation.kill(pid, signal)
    }

    /// A client for this server.
    public func client(commandTimeout: Duration = .seconds(5)) -> RedisClient {
        RedisClient(host: "127.0.0.1", port: self.port, commandTimeout: commandTimeout)
    }

    /// A subscriber for this server.
    public func subscriber(commandTimeout: Duration = .seconds(5), healthCheckInterval: Duration? = .seconds(15)) -> RedisSubscriber {
        RedisSubscriber(host: "127.0.0.1", port: self.port, commandTimeout: commandTimeout, healthCheckInterval: healthCheckInterval)
    }

    private func launch() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw ServerError("\(Self.executable) is missing: install it with `apt-get install -y redis-server`")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = [
            "--port", String(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no",
            "--enable-debug-command", "local",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process.withLock { $0 = process }

        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw ServerError("redis-server on port \(self.port) exited at start") }
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: self.port).get()
            {
                try? await channel.close()
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        self.kill()
        throw ServerError("redis-server on port \(self.port) did not accept connections within 10 s")
    }

    private static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }
}

public struct ServerError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Runs `body` with a fresh server, and kills the server afterwards whatever happened.
public func withRedisServer(_ body: (RedisServer) async throws -> Void) async throws {
    let server = try await RedisServer.start()
    defer { server.kill() }
    try await body(server)
}
