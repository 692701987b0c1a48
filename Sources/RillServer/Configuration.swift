// The server's settings, from command-line options and the environment.

import ArgumentParser
import Logging
import NIOCore
import NIOPosix

/// How a Rill server listens and what it accepts.
public struct ServerConfiguration: Sendable {
    /// Address to bind; loopback by default.
    public var host: String
    /// Port to bind; 0 picks a free one.
    public var port: Int
    /// Origins allowed to open the socket (`http://example.com:8080`); empty means the
    /// request's own host only.
    public var allowedOrigins: [String]
    /// Largest message a tab may send; larger ones close its socket with code 1009.
    public var maxMessageSize: Int
    /// How long shutdown waits for running events and tasks before cancelling them.
    public var shutdownGracePeriod: Duration
    /// The log level.
    public var logLevel: Logger.Level
    /// Event-loop threads serving sockets, and running their tabs' events and tasks; `nil` is
    /// one per core. A process confined to fewer cores (`taskset`, a container) runs best with
    /// one per core it may use.
    public var threads: Int?

    /// The defaults: 127.0.0.1:8000, same-origin sockets, 1 MiB messages, 10 s grace, info logs.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8000,
        allowedOrigins: [String] = [],
        maxMessageSize: Int = 1 << 20,
        shutdownGracePeriod: Duration = .seconds(10),
        logLevel: Logger.Level = .info,
        threads: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.allowedOrigins = allowedOrigins
        self.maxMessageSize = maxMessageSize
        self.shutdownGracePeriod = shutdownGracePeriod
        self.logLevel = logLevel
        self.threads = threads
    }
}

extension ServerConfiguration {
    /// Runs `body` on the event loops these settings ask for: ``threads`` threads made for the
    /// call and shut down after it, or NIO's shared group.
    func withEventLoops<R>(_ body: (any EventLoopGroup) async throws -> R) async throws -> R {
        guard let threads else { return try await body(MultiThreadedEventLoopGroup.singleton) }
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        do {
            let result = try await body(loops)
            try? await loops.shutdownGracefully()
            return result
        } catch {
            try? await loops.shutdownGracefully()
            throw error
        }
    }
}

/// The command-line options of a Rill app; each falls back to an environment variable.
///
/// | option | environment | default |
/// |---|---|---|
/// | `--host` | `RILL_HOST` | `127.0.0.1` |
/// | `--port` | `RILL_PORT` | `8000` |
/// | `--log-level` | `RILL_LOG_LEVEL` | `info` |
/// | `--allowed-origin` (repeatable) | `RILL_ALLOWED_ORIGINS` (comma-separated) | same host |
/// | `--max-message-size` | `RILL_MAX_MESSAGE_SIZE` | `1048576` |
/// | `--threads` | `RILL_THREADS` | one per core |
public struct ServerOptions: ParsableArguments {
    @Option(help: "Address to bind (env RILL_HOST).")
    var host: String?

    @Option(help: "Port to bind, 0 for any free port (env RILL_PORT).")
    var port: Int?

    @Option(help: "trace, debug, info, notice, warning, error or critical (env RILL_LOG_LEVEL).")
    var logLevel: String?

    @Option(name: .customLong("allowed-origin"), help: "An origin allowed to open the socket; repeatable (env RILL_ALLOWED_ORIGINS, comma-separated).")
    var allowedOrigins: [String] = []

    @Option(help: "Largest message a tab may send, in bytes (env RILL_MAX_MESSAGE_SIZE).")
    var maxMessageSize: Int?

    @Option(help: "Event-loop threads, default one per core (env RILL_THREADS).")
    var threads: Int?

    public init() {}

    /// The configuration these options and `environment` describe.
    public func configuration(environment: [String: String]) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.host = host ?? environment["RILL_HOST"] ?? configuration.host
        if let port = try port ?? environment["RILL_PORT"].map({ try Self.int($0, "RILL_PORT") }) {
            configuration.port = port
        }
        if let level = logLevel ?? environment["RILL_LOG_LEVEL"] {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw ValidationError("log level '\(level)' is not one of trace, debug, info, notice, warning, error, critical")
            }
            configuration.logLevel = parsed
        }
        configuration.allowedOrigins = allowedOrigins.isEmpty
            ? (environment["RILL_ALLOWED_ORIGINS"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            : allowedOrigins
        if let size = try maxMessageSize ?? environment["RILL_MAX_MESSAGE_SIZE"].map({ try Self.int($0, "RILL_MAX_MESSAGE_SIZE") }) {
            configuration.maxMessageSize = size
        }
        if let threads = try threads ?? environment["RILL_THREADS"].map({ try Self.int($0, "RILL_THREADS") }) {
            guard threads >= 1 else { throw ValidationError("threads must be at least 1, got \(threads)") }
            configuration.threads = threads
        }
        return configuration
    }

    private static func int(_ text: String, _ name: String) throws -> Int {
        guard let value = Int(text) else { throw ValidationError("\(name)='\(text)' is not a number") }
        return value
    }
}
