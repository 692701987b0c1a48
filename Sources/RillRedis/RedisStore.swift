// The `--redis` option: an app served with `store: RedisStore.self` keeps its states in Redis when given a URL.

import ArgumentParser
import NIOCore
import Rill
import RillServer

/// Keeps states in Redis when `--redis` or `RILL_REDIS_URL` names a server, so several
/// processes share tabs; in memory otherwise.
public struct RedisStore: StateStore {
    @Option(help: "Keep states in Redis, e.g. redis://127.0.0.1:6379 (env RILL_REDIS_URL); memory when absent.")
    var redis: String?

    @Option(help: "Milliseconds a Redis lock lives if its holder never frees it (env RILL_LOCK_EXPIRY).")
    var lockExpiry: Int?

    public init() {}

    public func manager(tokenExpiry: Duration, environment: [String: String], eventLoopGroup: any EventLoopGroup) throws -> (any StateManager)? {
        guard let url = redis ?? environment["RILL_REDIS_URL"] else { return nil }
        let lock = Duration.milliseconds(try StateOptions.number(lockExpiry, environment, "RILL_LOCK_EXPIRY") ?? 10_000)
        do {
            return try RedisStateManager(url: url, tokenExpiry: tokenExpiry, lockExpiry: lock, eventLoopGroup: eventLoopGroup)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
