// Choosing where states live from the command line: memory by default, Redis with --redis.

import ArgumentParser
import NIOCore
import NIOPosix
import Rill
import RillRedis

/// Picks the state manager — `RedisStateManager` when `--redis` or `RILL_REDIS_URL` names a
/// Redis server, else the in-memory default — and how long tabs may hold locks and run tasks.
public struct StateOptions: ParsableArguments {
    @Option(help: "Keep states in Redis, e.g. redis://127.0.0.1:6379 (env RILL_REDIS_URL); memory when absent.")
    var redis: String?

    @Option(help: "Seconds an unused tab's state is kept (env RILL_TOKEN_EXPIRY).")
    var tokenExpiry: Int?

    @Option(help: "Milliseconds a Redis lock lives if its holder never frees it (env RILL_LOCK_EXPIRY).")
    var lockExpiry: Int?

    @Option(help: "Milliseconds a lock may be held before a warning is logged (env RILL_LOCK_WARNING).")
    var lockWarning: Int?

    @Option(help: "Background tasks a tab may run at once (env RILL_MAX_TASKS).")
    var maxTasks: Int?

    public init() {}

    /// The manager these options describe; a Redis manager's connections run on `eventLoopGroup`.
    public func manager(environment: [String: String], eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws -> any StateManager {
        let expiry = Duration.seconds(try number(tokenExpiry, environment["RILL_TOKEN_EXPIRY"], "RILL_TOKEN_EXPIRY") ?? 3600)
        guard let url = redis ?? environment["RILL_REDIS_URL"] else {
            return MemoryStateManager(expiry: expiry)
        }
        let lock = Duration.milliseconds(try number(lockExpiry, environment["RILL_LOCK_EXPIRY"], "RILL_LOCK_EXPIRY") ?? 10_000)
        do {
            return try RedisStateManager(url: url, tokenExpiry: expiry, lockExpiry: lock, eventLoopGroup: eventLoopGroup)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// How long a tab's lock may be held before a warning is logged.
    public func slowLockWarning(environment: [String: String]) throws -> Duration {
        .milliseconds(try number(lockWarning, environment["RILL_LOCK_WARNING"], "RILL_LOCK_WARNING") ?? 1000)
    }

    /// How many background tasks a tab may run at once.
    public func maxTasksPerTab(environment: [String: String]) throws -> Int {
        let limit = try number(maxTasks, environment["RILL_MAX_TASKS"], "RILL_MAX_TASKS") ?? 16
        guard limit >= 1 else { throw ValidationError("max tasks must be at least 1, got \(limit)") }
        return limit
    }

    private func number(_ option: Int?, _ environment: String?, _ name: String) throws -> Int? {
        if let option { return option }
        guard let environment else { return nil }
        guard let value = Int(environment) else { throw ValidationError("\(name)='\(environment)' is not a number") }
        return value
    }
}
