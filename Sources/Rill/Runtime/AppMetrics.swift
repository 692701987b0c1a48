// The runtime's metrics (swift-metrics): made once per app, recorded on the event path at no more than an atomic add.

import CoreMetrics

/// What the app counts and times. Metrics go to whatever backend the process bootstrapped with
/// `MetricsSystem.bootstrap` before the app was made (a served app with `--metrics` exports them
/// as Prometheus text at `/metrics`); without one they cost a call that does nothing.
struct AppMetrics: Sendable {
    /// Events run from a tab's queue, by outcome: `ok`, `failed` or `replayed`.
    let eventsOK = Counter(label: "rill_events_total", dimensions: [("outcome", "ok")])
    let eventsFailed = Counter(label: "rill_events_total", dimensions: [("outcome", "failed")])
    /// Events the page sent again after they had been applied: acknowledged, not run.
    let eventsReplayed = Counter(label: "rill_events_total", dimensions: [("outcome", "replayed")])
    /// Events refused before running: unknown, not sendable from a page, a full queue, a bad payload.
    let eventsRefused = Counter(label: "rill_events_total", dimensions: [("outcome", "refused")])
    /// From an event joining its tab's queue to its handler starting.
    let queueWait = Timer(label: "rill_event_queue_seconds")
    /// Waiting for a tab's lock, and holding it (handlers, blocks, modifyState).
    let lockWait = Timer(label: "rill_lock_wait_seconds")
    let lockHold = Timer(label: "rill_lock_hold_seconds")
    /// Background tasks: started, and ended by outcome; and how many run now.
    let tasksStarted = Counter(label: "rill_background_tasks_started_total")
    let tasksOK = Counter(label: "rill_background_tasks_ended_total", dimensions: [("outcome", "ok")])
    let tasksFailed = Counter(label: "rill_background_tasks_ended_total", dimensions: [("outcome", "failed")])
    let tasksCancelled = Counter(label: "rill_background_tasks_ended_total", dimensions: [("outcome", "cancelled")])
    let tasksRunning = Meter(label: "rill_background_tasks_running")
    /// Durable tasks taken over from a process that stopped, by what was done with them; and
    /// handed over at shutdown.
    let durableResumed = Counter(label: "rill_durable_tasks_claimed_total", dimensions: [("after_crash", "resume")])
    let durableFailed = Counter(label: "rill_durable_tasks_claimed_total", dimensions: [("after_crash", "fail")])
    let durableHandedOver = Counter(label: "rill_durable_tasks_handed_over_total")
    /// Durable tasks running on this process (``App/durableTasks()`` lists the cluster's).
    let durableRunning = Meter(label: "rill_durable_tasks_running")
    /// Tabs connected to this process.
    let tabsConnected = Meter(label: "rill_tabs_connected")
    /// Changes of shared state keys committed by this process (its presence lists' included).
    let sharedChanges = Counter(label: "rill_shared_changes_total")
    /// Copies of shared keys' changes handed to this process's linked tabs, from here or elsewhere.
    let sharedDeliveries = Counter(label: "rill_shared_deliveries_total")
}

extension Timer {
    /// Records the time from `start` to `end` (now by default).
    func record(from start: ContinuousClock.Instant, to end: ContinuousClock.Instant = .now) {
        let (seconds, attoseconds) = (end - start).components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
