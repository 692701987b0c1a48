// Where states live and how tabs may use them, from the command line: memory by default, or a store an app plugs in.

import ArgumentParser
import NIOCore
import Rill

/// A place an app's states may live other than this process's memory, chosen on the command
/// line: its options join the app's (`RedisStore` from RillRedis adds `--redis`). An app that
/// names none keeps states in memory and links no store's code.
///
/// ```swift
/// import RillRedis
/// try await App.serve(pages: [page], store: RedisStore.self)   // --redis redis://127.0.0.1:6379
/// ```
public protocol StateStore: ParsableArguments {
    /// The manager the parsed options ask for, or `nil` to keep states in memory. Its
    /// connections should run on `eventLoopGroup`, the sockets' threads.
    func manager(tokenExpiry: Duration, environment: [String: String], eventLoopGroup: any EventLoopGroup) throws -> (any StateManager)?
}

/// No store: states live in this process's memory.
public struct MemoryStore: StateStore {
    public init() {}

    public func manager(tokenExpiry: Duration, environment: [String: String], eventLoopGroup: any EventLoopGroup) throws -> (any StateManager)? {
        nil
    }
}

/// How long tabs' states are kept, how long a lock may be held before a warning, and how many
/// background tasks a tab may run.
public struct StateOptions: ParsableArguments {
    @Option(help: "Seconds a disconnected tab's state is kept (env RILL_TOKEN_EXPIRY).")
    var tokenExpiry: Int?

    @Option(help: "Milliseconds a lock may be held before a warning is logged (env RILL_LOCK_WARNING).")
    var lockWarning: Int?

    @Option(help: "Background tasks a tab may run at once (env RILL_MAX_TASKS).")
    var maxTasks: Int?

    public init() {}

    /// The manager for these options: `store`'s, or the memory manager when it names none.
    public func manager(store: some StateStore, environment: [String: String], eventLoopGroup: any EventLoopGroup) throws -> any StateManager {
        let expiry = Duration.seconds(try Self.number(tokenExpiry, environment, "RILL_TOKEN_EXPIRY") ?? 3600)
        return try store.manager(tokenExpiry: expiry, environment: environment, eventLoopGroup: eventLoopGroup)
            ?? MemoryStateManager(expiry: expiry)
    }

    /// How long a tab's lock may be held before a warning is logged.
    public func slowLockWarning(environment: [String: String]) throws -> Duration {
        .milliseconds(try Self.number(lockWarning, environment, "RILL_LOCK_WARNING") ?? 1000)
    }

    /// How many background tasks a tab may run at once.
    public func maxTasksPerTab(environment: [String: String]) throws -> Int {
        let limit = try Self.number(maxTasks, environment, "RILL_MAX_TASKS") ?? 16
        guard limit >= 1 else { throw ValidationError("max tasks must be at least 1, got \(limit)") }
        return limit
    }

    /// An option's value, else its environment variable's, which must be a whole number.
    public static func number(_ option: Int?, _ environment: [String: String], _ name: String) throws -> Int? {
        if let option { return option }
        guard let text = environment[name] else { return nil }
        guard let value = Int(text) else { throw ValidationError("\(name)='\(text)' is not a number") }
        return value
    }
}
