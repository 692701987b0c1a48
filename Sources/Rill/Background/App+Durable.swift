// How durable background tasks start, end, move to another process after a crash or at shutdown, and are listed.

import Foundation

extension App {
    /// How many runs of a durable task in a row may be lost (its process died, or its blocks
    /// could not be saved) before it saves a block: the next claim runs only its clean-up and
    /// tells the tab, so a task that takes every process it lands on down stops doing so.
    public static let maxLostRuns = 5

    // MARK: Starting and ending

    /// Records for the durable tasks among a commit's chained events, by their index there;
    /// empty when the state manager keeps no durable tasks.
    func recordDurable(_ chained: [EventSpec], _ token: Token) -> [Int: DurableRecord] {
        guard manager.durable != nil else { return [:] }
        var records: [Int: DurableRecord] = [:]
        for (index, event) in chained.enumerated() {
            guard case .background(_, let afterCrash?, _)? = registry.handler(event.name)?.kind else { continue }
            records[index] = DurableRecord(
                id: Token.random().rawValue, token: token, event: event.name, payload: event.payload, afterCrash: afterCrash,
                since: Int64(Date().timeIntervalSince1970 * 1000), cancelID: event.cancelID)
        }
        return records
    }

    /// Starts a durable task recorded by the commit that just ran, or claimed from a process that
    /// stopped. One that cannot start (its tab runs too many tasks) is forgotten, and the tab told.
    func startDurable(_ record: DurableRecord, checkpoint: JSON? = nil, resumed: Bool = false, lostRuns: Int = 0) {
        if closing.withLock({ $0 }), let durable = manager.durable {
            // Started by an event that ran during shutdown: another process runs it.
            Task { try? await durable.release([record.id], .handover) }
            return
        }
        var interruption: TaskInterruptedError?
        if resumed, lostRuns > Self.maxLostRuns {
            interruption = TaskInterruptedError(event: record.event, lostRuns: lostRuns)
        } else if resumed, record.afterCrash == .fail {
            interruption = TaskInterruptedError(event: record.event)
        }
        let interrupted = interruption != nil
        let run = TaskRun(record: record, checkpoint: checkpoint, resumed: resumed, interruption: interruption)
        do {
            guard case .background(let cancelOnDisconnect, _, let decode)? = registry.handler(record.event)?.kind else {
                throw UnknownEventError(event: record.event)
            }
            let body = try decode(Payload(event: record.event, fields: record.payload))
            try start(record.token, name: record.event, id: record.cancelID, cancelOnDisconnect: cancelOnDisconnect, run: run, body)
            if resumed { (interrupted ? metrics.durableFailed : metrics.durableResumed).increment() }
        } catch {
            report(record.token, event: record.event, error)
            Task { await ended(run) }
        }
    }

    /// A task's run ended: a durable one that ended here (returned, failed, cancelled) is
    /// forgotten; one handed over or lost stays recorded for its next owner.
    /// The store may be down (which may be why the task ended): it is retried with backoff
    /// for about half a minute, as this process keeps owning the task meanwhile.
    /// A suspended one (the store failed) is given up for any process to claim and resume,
    /// retried until the store answers.
    func ended(_ run: TaskRun) async {
        guard let record = run.record, let durable = manager.durable else { return }
        switch run.ending {
        case .running:
            for attempt in 0..<8 {
                do {
                    return try await durable.finish(record)
                } catch {
                    if attempt == 7 {
                        logger.warning("an ended durable task could not be forgotten; it runs again after this process stops", metadata: ["task": "\(record.id)", "error": "\(error)"])
                    }
                    try? await Task.sleep(for: .milliseconds(250) * (1 << attempt))
                }
            }
        case .suspended:
            // Detached: the task's slot is free meanwhile, and this process may claim it back.
            Task.detached { [weak self] in
                var wait = Duration.milliseconds(250)
                while let durable = self?.manager.durable {
                    do {
                        return try await durable.release([record.id], .lost)
                    } catch {
                        try? await Task.sleep(for: wait)
                        wait = min(wait * 2, .seconds(5))
                    }
                }
            }
        case .handover, .lost:
            return
        }
    }

    // MARK: Moving between processes

    /// Takes over what other processes left and runs it: each task by its `afterCrash`.
    func claimOnce() async {
        guard let durable = manager.durable, !closing.withLock({ $0 }) else { return }
        do {
            while true {
                let claimed = try await durable.claim(limit: 32, events: registry.durableEvents)
                for task in claimed {
                    let (record, lostRuns) = (task.record, task.lostRuns)
                    if lostRuns > Self.maxLostRuns + 1 {
                        // The run of its clean-up was lost too: nothing of it runs again.
                        logger.error("a durable task was forgotten: its runs kept being lost, its clean-up's too", metadata: ["task": "\(record.id)", "event": "\(record.event)", "lost_runs": "\(lostRuns)"])
                        report(record.token, event: record.event, TaskInterruptedError(event: record.event, lostRuns: lostRuns, cleanedUp: false))
                        metrics.durableFailed.increment()
                        try? await durable.finish(record)
                        continue
                    }
                    let checkpoint: JSON?
                    do {
                        checkpoint = try await manager.snapshot(record.token, registry: registry).checkpoints[record.id]
                    } catch {
                        // Without its checkpoint it would redo committed steps: give it back for later.
                        try? await durable.release([record.id], .retry)
                        throw error
                    }
                    logger.notice("resuming a durable task its process left", metadata: ["task": "\(record.id)", "event": "\(record.event)", "after_crash": "\(record.afterCrash.rawValue)", "lost_runs": "\(lostRuns)"])
                    startDurable(record, checkpoint: checkpoint, resumed: true, lostRuns: lostRuns)
                }
                if claimed.count < 32 { return }
            }
        } catch {
            logger.debug("claiming durable tasks failed; trying again", metadata: ["error": "\(error)"])
        }
    }

    /// Stops this process's durable tasks without their clean-up and gives them up, so other
    /// processes run them at once: what a graceful shutdown does before anything else.
    func handOver(until deadline: ContinuousClock.Instant) async {
        guard let durable = manager.durable, !registry.durableEvents.isEmpty else { return }
        let running = tasks.durable
        guard !running.isEmpty else {
            // It leaves the processes a claim shares tasks with.
            try? await durable.release([], .handover)
            return
        }
        for (handle, run) in running {
            run.end(.handover)
            tasks.cancel(handle)
        }
        // A block under way ends (commits or not) before the task is given up.
        while ContinuousClock.now < deadline, !tasks.durable.isEmpty {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let ids = running.compactMap { $0.1.record?.id }
        do {
            try await durable.release(ids, .handover)
            metrics.durableHandedOver.increment(by: ids.count)
            logger.notice("durable tasks handed over to other processes", metadata: ["tasks": "\(ids.count)"])
        } catch {
            logger.warning("durable tasks could not be handed over; other processes take them when this one's alive mark expires", metadata: ["error": "\(error)"])
        }
    }

    /// Hears other processes: handed-over tasks are claimed at once, and a cancelled task
    /// running here stops.
    func bindDurable() {
        guard let durable = manager.durable else {
            if registry.hasDurableTasks {
                logger.notice("durable background tasks run as normal tasks: the memory state manager keeps no task past its process (use Redis)")
            }
            return
        }
        durable.bind(
            released: { [weak self] in
                guard let self else { return }
                Task { await self.claimOnce() }
            },
            cancel: { [weak self] id in self?.tasks.cancel(durableID: id) })
        // Every second, and whenever a process hands some over, for as long as the app lives.
        Task.detached { [weak self] in
            while true {
                guard let app = self else { return }
                await app.claimOnce()
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    // MARK: From anywhere

    /// Cancels a durable task wherever it runs: the process running it stops it as
    /// ``cancel(_:)`` would (its clean-up runs), and it is not run again.
    public func cancelDurable(_ id: String) async throws {
        guard let durable = manager.durable else {
            tasks.cancel(durableID: id)
            return
        }
        try await durable.cancel(id)
    }

    /// Every durable task of the app, on every process: which runs it, since when, and its last
    /// checkpoint. ``backgroundTasks`` stays this process's list. Empty with a state manager
    /// that keeps no durable tasks.
    public func durableTasks() async throws -> [DurableTaskInfo] {
        try await manager.durable?.list() ?? []
    }
}

extension StateRegistry {
    /// The full event names of the app's durable background tasks: the ones it may claim.
    var durableEvents: Set<String> {
        Set(handlers.compactMap { name, handler in
            if case .background(_, _?, _) = handler.kind { name } else { nil }
        })
    }

    var hasDurableTasks: Bool { !durableEvents.isEmpty }
}
