// The `rill-bench` command: drives one server with many tabs and prints one JSON line of figures per run.

import ArgumentParser
import Foundation
import Histogram
import NIOCore
import NIOPosix
import RillClient
import RillServer
import Synchronization

@main
struct RillBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rill-bench",
        abstract: "Load generator for Rill's BenchServer, the echo server and Reflex; prints one JSON line.",
        subcommands: [Events.self, Background.self, IdleTabs.self, Fanout.self]
    )
}

extension Target: ExpressibleByArgument {}

/// What every scenario needs to reach and observe a server.
struct ServerOptions: ParsableArguments {
    @Option(help: "The server: rill, echo or reflex.")
    var target: Target

    @Option(help: "The name the figures are reported under (default: the target), e.g. rill-redis.")
    var label: String?

    /// What the output's `target` field says.
    var name: String { label ?? target.rawValue }

    @Option(help: "The server's port on 127.0.0.1.")
    var port: Int

    @Option(help: "The server's process id: its CPU time and memory, with its children's, are read from /proc.")
    var serverPid: Int32

    @Option(help: "Client event-loop threads; one is cheapest when the client has one core.")
    var threads = 1

    @Option(help: "Tabs connecting at once.")
    var connectWindow = 64
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "K tabs each send M events one after another, each waiting for its delta.")

    @OptionGroup var server: ServerOptions

    @Option(help: "Tabs (K).")
    var tabs = 10

    @Option(help: "Measured events per tab (M).")
    var events = 1000

    @Option(help: "Unmeasured events per tab first, so connections, caches and the allocator are warm.")
    var warmup = 50

    func run() async throws {
        let bench = Bench(self.server)
        let tabs = try await bench.open(self.tabs)
        let (target, warmup, events) = (self.server.target, self.warmup, self.events)
        _ = try await bench.each(tabs) { tab in
            for _ in 0..<warmup { try await tab.client.send(target.incrementMessage(id: tab.nextEventID())); _ = try await tab.nextReply() }
        }
        let before = bench.sample()
        let start = ContinuousClock.now
        let histograms = try await bench.each(tabs) { tab in
            var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000)
            for _ in 0..<events {
                let sent = ContinuousClock.now
                try await tab.client.send(target.incrementMessage(id: tab.nextEventID()))
                _ = try await tab.nextReply()
                _ = histogram.record(nanoseconds(ContinuousClock.now - sent))
            }
            return histogram
        }
        let seconds = Double(nanoseconds(ContinuousClock.now - start)) / 1e9
        let after = bench.sample()
        var all = Histogram<UInt64>(highestTrackableValue: 60_000_000_000)
        for histogram in histograms { all.add(histogram) }
        let count = Double(self.tabs * self.events)
        report([
            "scenario": "events", "target": self.server.name, "tabs": self.tabs, "events": Int(count),
            "seconds": seconds, "events_per_s": count / seconds,
            "p50_ms": Double(all.valueAtPercentile(50)) / 1e6,
            "p99_ms": Double(all.valueAtPercentile(99)) / 1e6,
            "p999_ms": Double(all.valueAtPercentile(99.9)) / 1e6,
            "server_cpu_us_per_event": (after.server - before.server) * 1e6 / count,
            "client_cpu_us_per_event": (after.client - before.client) * 1e6 / count,
        ])
    }
}

struct Background: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "K tabs each start a background task of N locked increments; time until each tab has seen N.")

    @OptionGroup var server: ServerOptions

    @Option(help: "Tabs (K).")
    var tabs = 1

    @Option(help: "Increments per task (N).")
    var count = 1000

    @Flag(help: "Start the durable variant of the task (each block also commits a checkpoint); Rill only.")
    var durable = false

    func run() async throws {
        let bench = Bench(self.server)
        let durable = self.durable
        let tabs = try await bench.open(self.tabs)
        let target = self.server.target
        let count = self.count
        let before = bench.sample()
        let start = ContinuousClock.now
        let results = try await bench.each(tabs) { tab in
            if target == .echo {
                // The echo server has no task to start: it is sent the deltas and sends them back.
                for value in 1...count { try await tab.client.send(Target.echoDelta(value)) }
            } else {
                try await tab.client.send(target.backgroundMessage(count: count, id: tab.nextEventID(), durable: durable))
            }
            try await tab.waitForCounter(count)
            return (seconds: Double(nanoseconds(ContinuousClock.now - start)) / 1e9, messages: tab.received)
        }
        let after = bench.sample()
        let times = results.map(\.seconds).sorted()
        report([
            "scenario": durable ? "background_durable" : "background", "target": self.server.name, "tabs": self.tabs, "count": count,
            "tabs_done": results.count,
            "seconds_all": times.last ?? 0, "seconds_median": times[times.count / 2],
            "messages_min": results.map(\.messages).min() ?? 0, "messages_max": results.map(\.messages).max() ?? 0,
            "server_cpu_ms": (after.server - before.server) * 1e3,
        ])
    }
}

struct IdleTabs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tabs", abstract: "Open N idle tabs; server memory per tab.")

    @OptionGroup var server: ServerOptions

    @Option(help: "Tabs (N).")
    var tabs = 1000

    @Option(help: "Seconds to let the server settle before each memory reading.")
    var settle = 1.0

    func run() async throws {
        let bench = Bench(self.server)
        try await Task.sleep(for: .seconds(self.settle))
        let before = bench.process.residentBytes()
        let start = ContinuousClock.now
        let tabs = try await bench.open(self.tabs)
        let openSeconds = Double(nanoseconds(ContinuousClock.now - start)) / 1e9
        // Reflex pings every 25 s and drops tabs that do not answer, so idle tabs still read.
        await withTaskGroup(of: Void.self) { group in
            for tab in tabs {
                group.addTask(executorPreference: LoopExecutor(tab.eventLoop)) { await tab.drain() }
            }
            try? await Task.sleep(for: .seconds(self.settle))
            let after = bench.process.residentBytes()
            report([
                "scenario": "tabs", "target": self.server.name, "tabs": self.tabs,
                "open_seconds": openSeconds,
                "rss_before_mb": Double(before) / 1_048_576, "rss_after_mb": Double(after) / 1_048_576,
                "kb_per_tab": Double(after - before) / 1024 / Double(self.tabs),
            ])
            group.cancelAll()
        }
    }
}

struct Fanout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "N idle tabs linked to one shared room, one more tab changing it M times, each change after the last reached it; time until every tab has seen change k.")

    @OptionGroup var server: ServerOptions

    @Option(help: "Idle linked tabs (N).")
    var tabs = 100

    @Option(help: "Changes the writer makes (M).")
    var changes = 200

    func run() async throws {
        let bench = Bench(self.server)
        let all = try await bench.open(self.tabs + 1)
        let target = self.server.target
        let starts = try await bench.each(all) { tab in
            try await tab.client.send(target.joinMessage(id: tab.nextEventID()))
            return try await tab.waitForRoom()
        }
        // Leftovers of an earlier run on the same server: every tab reads the same room.
        let base = starts.max() ?? 0
        let changes = self.changes
        let sent = Mutex([ContinuousClock.Instant?](repeating: nil, count: changes + 1))
        let writer = ObjectIdentifier(all[0])
        let before = bench.sample()
        let start = ContinuousClock.now
        let seen = try await bench.each(all) { tab -> (at: [ContinuousClock.Instant], messages: Int) in
            var seenAt = [ContinuousClock.Instant](repeating: start, count: changes + 1)
            var shown = 0
            var delivered = 0
            let isWriter = ObjectIdentifier(tab) == writer
            if isWriter {
                sent.withLock { $0[1] = .now }
                try await tab.client.send(target.roomIncrementMessage(id: tab.nextEventID()))
            }
            while shown < changes {
                let message = try await tab.next()
                guard let total = counter(in: message, key: target.totalKey), total - base > shown else { continue }
                delivered += 1
                let now = ContinuousClock.now
                for k in (shown + 1)...min(changes, total - base) { seenAt[k] = now }
                shown = min(changes, total - base)
                if isWriter, shown < changes {
                    sent.withLock { $0[shown + 1] = .now }
                    try await tab.client.send(target.roomIncrementMessage(id: tab.nextEventID()))
                }
            }
            return (seenAt, delivered)
        }
        let seconds = Double(nanoseconds(ContinuousClock.now - start)) / 1e9
        let after = bench.sample()
        let times = sent.withLock { $0 }
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000)
        for k in 1...changes {
            guard let sentAt = times[k] else { continue }
            let last = seen.map { $0.at[k] }.max() ?? sentAt
            _ = latency.record(nanoseconds(last - sentAt))
        }
        let delivered = seen.reduce(0) { $0 + $1.messages }
        report([
            "scenario": "fanout", "target": self.server.name, "tabs": self.tabs, "changes": changes,
            "seconds": seconds, "changes_per_s": Double(changes) / seconds,
            "deltas_per_s": Double(delivered) / seconds,
            "p50_ms": Double(latency.valueAtPercentile(50)) / 1e6,
            "p99_ms": Double(latency.valueAtPercentile(99)) / 1e6,
            "server_cpu_us_per_change": (after.server - before.server) * 1e6 / Double(changes),
        ])
    }
}

/// The client side of a run: event loops, and the server's process tree.
struct Bench {
    let options: ServerOptions
    let loops: MultiThreadedEventLoopGroup
    let process: ProcessTree

    init(_ options: ServerOptions) {
        self.options = options
        self.loops = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
        self.process = ProcessTree(root: options.serverPid)
    }

    /// Opens `count` hydrated tabs, at most `connectWindow` connecting at once so the server's
    /// accept backlog does not overflow.
    func open(_ count: Int) async throws -> [Tab] {
        try await withThrowingTaskGroup(of: Tab.self) { group in
            var tabs: [Tab] = []
            tabs.reserveCapacity(count)
            for index in 0..<count {
                if index >= self.options.connectWindow, let tab = try await group.next() { tabs.append(tab) }
                let loop = self.loops.next()
                let (target, port) = (self.options.target, self.options.port)
                group.addTask(executorPreference: LoopExecutor(loop)) {
                    try await Tab.open(target, port: port, on: loop)
                }
            }
            for try await tab in group { tabs.append(tab) }
            return tabs
        }
    }

    /// Runs `body` for every tab at once, each on its connection's event loop.
    func each<R: Sendable>(_ tabs: [Tab], _ body: @escaping @Sendable (Tab) async throws -> R) async throws -> [R] {
        try await withThrowingTaskGroup(of: R.self) { group in
            for tab in tabs {
                group.addTask(executorPreference: LoopExecutor(tab.eventLoop)) { try await body(tab) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// CPU seconds used so far by the server's process tree and by this process.
    func sample() -> (server: Double, client: Double) {
        (self.process.cpuSeconds(), ProcessTree(root: getpid()).cpuSeconds())
    }
}

func nanoseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
}

/// Prints the run's figures as one JSON object on one line, for `bench/run` to collect.
func report(_ figures: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
