// The one call an app's `main` makes: parse options, pick the state manager, serve the pages, stop on a signal.

import ArgumentParser
import CoreMetrics
import Foundation
import Prometheus
import Rill

/// Every command-line option of a Rill app: where it listens, how tabs' states are kept, and
/// the options of the store it plugs in.
struct RunOptions<Store: StateStore>: ParsableArguments {
    @OptionGroup var server: ServerOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var store: Store
}

extension App {
    /// Builds the app with the state manager the options choose (memory, unless `store` is
    /// given and its options ask for it) and serves it until SIGINT or SIGTERM.
    ///
    /// ```swift
    /// let page = Page("/", title: "Background task") { backgroundTaskExample() }
    /// try await App.serve(pages: [page])
    /// ```
    /// - Parameters:
    ///   - pages: The pages; their states are registered.
    ///   - notFound: The page shown at paths no page matches (with status 404).
    ///   - states: More state types, e.g. ones only reached with `app.modifyState(token)`.
    ///   - routes: Plain HTTP routes served beside the pages.
    ///   - publicEvents: Events a tab may send although no page's component does (see `App.publicEvents`).
    ///   - store: Where states may live besides memory, with its options (`RedisStore.self`
    ///     from RillRedis adds `--redis`); memory only by default.
    ///   - arguments: The command line, without the program name.
    public static func serve<Store: StateStore>(
        pages: [Page],
        notFound: Page = .notFound,
        states: [any LiveState.Type] = [],
        routes: [HTTPRoute] = [],
        publicEvents: Set<String> = [],
        store: Store.Type = MemoryStore.self,
        arguments: [String] = Array(CommandLine.arguments.dropFirst())
    ) async throws {
        let environment = ProcessInfo.processInfo.environment
        var configuration: ServerConfiguration
        let options: RunOptions<Store>
        do {
            options = try RunOptions.parse(arguments)
            configuration = try options.server.configuration(environment: environment)
        } catch {
            RunOptions<Store>.exit(withError: error)
        }
        if options.server.metricsEnabled(environment: environment) {
            // Before the app and its state manager make their metrics.
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            configuration.metrics = registry
        }
        // Redis connections run on the sockets' threads: a command and the event waiting for it
        // then share a thread.
        try await configuration.withEventLoops { loops in
            let manager: any StateManager
            let slowLockWarning: Duration
            let maxTasksPerTab: Int
            do {
                manager = try options.state.manager(store: options.store, environment: environment, eventLoopGroup: loops)
                slowLockWarning = try options.state.slowLockWarning(environment: environment)
                maxTasksPerTab = try options.state.maxTasksPerTab(environment: environment)
            } catch {
                RunOptions<Store>.exit(withError: error)
            }
            let app = App(
                pages: pages, notFound: notFound, states: states, manager: manager, maxTasksPerTab: maxTasksPerTab,
                publicEvents: publicEvents, slowLockWarning: slowLockWarning)
            try await Server(app: app, routes: routes, configuration: configuration, eventLoopGroup: loops).run()
        }
    }

    /// Serves this app (its state manager already chosen) with the server options of the
    /// command line until SIGINT or SIGTERM.
    public func run(routes: [HTTPRoute] = [], arguments: [String] = Array(CommandLine.arguments.dropFirst())) async throws {
        let configuration: ServerConfiguration
        do {
            configuration = try ServerOptions.parse(arguments).configuration(environment: ProcessInfo.processInfo.environment)
        } catch {
            ServerOptions.exit(withError: error)
        }
        // This app made its metrics already: a `/metrics` here needs the backend bootstrapped
        // before the app was made, and `configuration.metrics` set, with `Server` directly.
        try await Server(app: self, routes: routes, configuration: configuration).run()
    }
}
