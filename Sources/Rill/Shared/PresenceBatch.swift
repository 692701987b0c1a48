// Joins and leaves of a key's presence list, gathered so that many tabs arriving at once cost one commit.

import Synchronization

/// The joins and leaves waiting to be written to each key's presence list.
///
/// The first caller for a key writes; callers that come while it holds the key's lock add their
/// change and wait: when the lock is free again, all the changes that gathered go in one commit
/// and one delta. A thousand tabs opening a room at once cost a few commits, not a thousand, and
/// the linked pages get a few presence lists, not a thousand growing ones.
final class PresenceBatch: Sendable {
    /// One tab's change, in the order it was asked.
    enum Change: Sendable {
        /// The tab is present under `label`; its page gets the key's whole value through `sink`.
        case join(Token, label: String, sink: any UpdateSink)
        /// The tab left, unless it is linked here again by the time the change is written.
        case leave(Token)
    }

    private struct Waiting {
        var changes: [(Change, CheckedContinuation<Void, Never>)] = []
        var writing = false
        /// Changes taken by the writer and not written yet.
        var taken = 0
    }

    private let waiting = Mutex<[SharedKey: Waiting]>([:])

    /// Adds `change` for `key` and returns once it is written: by `write`, started here when no
    /// one writes the key's changes, else by the one who does.
    func add(_ change: Change, to key: SharedKey, write: @escaping @Sendable ([Change]) async -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let writer = waiting.withLock { waiting -> Bool in
                waiting[key, default: Waiting()].changes.append((change, continuation))
                guard !waiting[key]!.writing else { return false }
                waiting[key]!.writing = true
                return true
            }
            guard writer else { return }
            Task {
                while let batch = self.take(key) {
                    await write(batch.map(\.0))
                    for (_, waiter) in batch { waiter.resume() }
                }
            }
        }
    }

    /// How many of `key`'s changes are not written yet.
    func count(_ key: SharedKey) -> Int {
        waiting.withLock { ($0[key]?.changes.count ?? 0) + ($0[key]?.taken ?? 0) }
    }

    /// The changes gathered for `key`, or `nil` (and the key has no writer) when there are none.
    private func take(_ key: SharedKey) -> [(Change, CheckedContinuation<Void, Never>)]? {
        waiting.withLock { waiting in
            guard let changes = waiting[key]?.changes, !changes.isEmpty else {
                waiting[key] = nil
                return nil
            }
            waiting[key]!.changes = []
            waiting[key]!.taken = changes.count
            return changes
        }
    }
}
