// The server's settings, from command-line options and the environment.

import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix
import Prometheus
import Rill

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
    /// Host names requests may carry in `Host` (any port) besides the loopback names and the
    /// bound address, which are always allowed; `*` allows every name. A request naming
    /// another host (DNS rebinding: a page of an attacker's name resolving here) gets 403.
    public var allowedHosts: [String]
    /// How long a connection may take to send a complete request head; a slower or silent one is closed.
    public var headerTimeout: Duration
    /// How long a kept-alive HTTP connection may sit between requests.
    public var idleTimeout: Duration
    /// Where `GET /metrics` reads the metrics it serves as Prometheus text; `nil` (the default)
    /// serves no `/metrics`. `--metrics` makes one and bootstraps swift-metrics with it.
    public var metrics: PrometheusCollectorRegistry?
    /// How often a page asks the server whether its socket still works (an application-level
    /// ping, so a connection that silently stopped carrying bytes is noticed).
    public var heartbeatInterval: Duration
    /// How long a page waits for the answer before it treats the socket as dead and reconnects.
    public var heartbeatTimeout: Duration
    /// Open connections (pages and sockets) at most; past it a new one is closed at once and
    /// logged. The default leaves room under the process's file-descriptor limit for Redis
    /// connections and files, so a flood of idle connections cannot take the last descriptor.
    public var maxConnections: Int
    /// A folder whose files are served under `/assets/` (`Public/logo.png` at
    /// `/assets/logo.png`), for images and downloads of the app; `nil` (the default) serves none.
    public var assetsDirectory: String?
    /// Where else images may come from, added to the page's `img-src` policy: `https:` for any
    /// secure site, or origins such as `https://cdn.example.com`; none by default (images of
    /// this site and `data:` only). See ``isImageSource(_:)``.
    public var imageSources: [String] = []

    /// Whether `source` may be added to `img-src`: `https:`, `http:`, or an `http(s)` origin
    /// (a host with an optional `*.` prefix and port, no path). Anything else could widen or
    /// break the policy.
    public static func isImageSource(_ source: String) -> Bool {
        if source == "https:" || source == "http:" { return true }
        for scheme in ["https://", "http://"] where source.hasPrefix(scheme) {
            let host = source.dropFirst(scheme.count)
            return !host.isEmpty && host.utf8.count <= 255
                && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:*".contains($0)) }
                && !host.dropFirst(host.hasPrefix("*.") ? 2 : 0).contains("*")
        }
        return false
    }

    /// The defaults: 127.0.0.1:8000, same-origin sockets, loopback host names, 1 MiB messages,
    /// 10 s for a request head, 60 s idle, 4096 connections (fewer under a low descriptor
    /// limit), 10 s grace, info logs.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8000,
        allowedOrigins: [String] = [],
        allowedHosts: [String] = [],
        maxMessageSize: Int = 1 << 20,
        headerTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(60),
        maxConnections: Int = ServerConfiguration.defaultMaxConnections,
        heartbeatInterval: Duration = .seconds(3),
        heartbeatTimeout: Duration = .seconds(5),
        shutdownGracePeriod: Duration = .seconds(10),
        logLevel: Logger.Level = .info,
        threads: Int? = nil,
        assetsDirectory: String? = nil
    ) {
        self.host = host
        self.port = port
        self.allowedOrigins = allowedOrigins
        self.maxMessageSize = maxMessageSize
        self.shutdownGracePeriod = shutdownGracePeriod
        self.logLevel = logLevel
        self.threads = threads
        self.allowedHosts = allowedHosts
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatTimeout = heartbeatTimeout
        self.assetsDirectory = assetsDirectory
    }

    /// The page object's `connection` settings for the browser runtime, in milliseconds.
    var connectionSettings: [String: JSON] {
        func milliseconds(_ duration: Duration) -> JSON {
            let (seconds, attoseconds) = duration.components
            return .int(Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        }
        return ["heartbeat": milliseconds(heartbeatInterval), "timeout": milliseconds(heartbeatTimeout)]
    }

    /// 4096, or the file-descriptor limit less 64 when that is lower (at least 16).
    public static var defaultMaxConnections: Int {
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < rlim_t(Int.max) else { return 4096 }
        return max(16, min(4096, Int(clamping: limit.rlim_cur) - 64))
    }

    /// Whether a request's `Host` header names this server: see ``allowedHosts``.
    func hostAllowed(_ header: String?) -> Bool {
        guard let header else { return false }
        let name = Self.hostName(header)
        return ["localhost", "127.0.0.1", "::1"].contains(name) || name == Self.hostName(host)
            || allowedHosts.contains("*") || allowedHosts.contains { $0.lowercased() == name }
    }

    /// `Host` without its port, lower-cased, IPv6 brackets removed.
    static func hostName(_ header: String) -> String {
        var name = Substring(header.lowercased())
        if name.hasPrefix("[") {
            name = name.dropFirst().prefix { $0 != "]" }
        } else if let colon = name.lastIndex(of: ":"), name.firstIndex(of: ":") == colon {
            name = name[..<colon]
        }
        return String(name)
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
/// | `--allowed-host` (repeatable) | `RILL_ALLOWED_HOSTS` (comma-separated) | loopback and the bound address |
/// | `--header-timeout` | `RILL_HEADER_TIMEOUT` | `10` seconds |
/// | `--idle-timeout` | `RILL_IDLE_TIMEOUT` | `60` seconds |
/// | `--max-connections` | `RILL_MAX_CONNECTIONS` | `4096` |
/// | `--metrics` | `RILL_METRICS=1` | off |
/// | `--heartbeat` | `RILL_HEARTBEAT` | `3000` ms |
/// | `--heartbeat-timeout` | `RILL_HEARTBEAT_TIMEOUT` | `5000` ms |
/// | `--assets` | `RILL_ASSETS` | none |
/// | `--image-source` (repeatable) | `RILL_IMAGE_SOURCES` (comma-separated) | none |
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

    @Option(name: .customLong("allowed-host"), help: "A host name requests may use besides loopback and the bound address; '*' for any; repeatable (env RILL_ALLOWED_HOSTS, comma-separated).")
    var allowedHosts: [String] = []

    @Option(help: "Seconds a connection may take to send a request head (env RILL_HEADER_TIMEOUT).")
    var headerTimeout: Int?

    @Option(help: "Seconds a kept-alive connection may sit idle (env RILL_IDLE_TIMEOUT).")
    var idleTimeout: Int?

    @Option(help: "Open connections at most (env RILL_MAX_CONNECTIONS).")
    var maxConnections: Int?

    @Flag(help: "Serve metrics as Prometheus text at /metrics (env RILL_METRICS=1).")
    var metrics = false

    @Option(help: "Milliseconds between a page's checks that its socket works (env RILL_HEARTBEAT).")
    var heartbeat: Int?

    @Option(help: "Milliseconds a page waits for a check's answer before it reconnects (env RILL_HEARTBEAT_TIMEOUT).")
    var heartbeatTimeout: Int?

    @Option(help: "A folder whose files are served under /assets/ (env RILL_ASSETS).")
    var assets: String?

    @Option(name: .customLong("image-source"), help: "Where else images may come from: https: or an origin such as https://cdn.example.com; repeatable (env RILL_IMAGE_SOURCES, comma-separated).")
    var imageSources: [String] = []

    public init() {}

    /// The configuration these options and `environment` describe.
    public func configuration(environment: [String: String]) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.host = host ?? environment["RILL_HOST"] ?? configuration.host
        if let port = try StateOptions.number(port, environment, "RILL_PORT") {
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
        if let size = try StateOptions.number(maxMessageSize, environment, "RILL_MAX_MESSAGE_SIZE") {
            configuration.maxMessageSize = size
        }
        configuration.allowedHosts = allowedHosts.isEmpty
            ? (environment["RILL_ALLOWED_HOSTS"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            : allowedHosts
        if let seconds = try StateOptions.number(headerTimeout, environment, "RILL_HEADER_TIMEOUT") {
            guard seconds >= 1 else { throw ValidationError("header timeout must be at least 1 second, got \(seconds)") }
            configuration.headerTimeout = .seconds(seconds)
        }
        if let seconds = try StateOptions.number(idleTimeout, environment, "RILL_IDLE_TIMEOUT") {
            guard seconds >= 1 else { throw ValidationError("idle timeout must be at least 1 second, got \(seconds)") }
            configuration.idleTimeout = .seconds(seconds)
        }
        if let limit = try StateOptions.number(maxConnections, environment, "RILL_MAX_CONNECTIONS") {
            guard limit >= 1 else { throw ValidationError("max connections must be at least 1, got \(limit)") }
            configuration.maxConnections = limit
        }
        if let milliseconds = try StateOptions.number(heartbeat, environment, "RILL_HEARTBEAT") {
            guard milliseconds >= 100 else { throw ValidationError("heartbeat must be at least 100 ms, got \(milliseconds)") }
            configuration.heartbeatInterval = .milliseconds(milliseconds)
        }
        if let milliseconds = try StateOptions.number(heartbeatTimeout, environment, "RILL_HEARTBEAT_TIMEOUT") {
            guard milliseconds >= 100 else { throw ValidationError("heartbeat timeout must be at least 100 ms, got \(milliseconds)") }
            configuration.heartbeatTimeout = .milliseconds(milliseconds)
        }
        if let folder = assets ?? environment["RILL_ASSETS"] {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("assets folder '\(folder)' does not exist or is not a folder")
            }
            configuration.assetsDirectory = folder
        }
        let sources = imageSources.isEmpty
            ? (environment["RILL_IMAGE_SOURCES"]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? [])
            : imageSources
        for source in sources where !ServerConfiguration.isImageSource(source) {
            throw ValidationError("image source '\(source.prefix(100))' is not https:, http: or an http(s) origin such as https://cdn.example.com")
        }
        configuration.imageSources = sources
        if let threads = try StateOptions.number(threads, environment, "RILL_THREADS") {
            guard threads >= 1 else { throw ValidationError("threads must be at least 1, got \(threads)") }
            configuration.threads = threads
        }
        return configuration
    }

    /// Whether `--metrics` or `RILL_METRICS=1` asks for `/metrics`.
    public func metricsEnabled(environment: [String: String]) -> Bool {
        metrics || environment["RILL_METRICS"] == "1"
    }
}
