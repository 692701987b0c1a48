// What a tab's state remembers about the wire: the version its page is at, and the event ids already applied.

/// The bookkeeping saved with each tab's state, in the same commit as its changes, that makes
/// the path between a page and its state exactly-once and gap-free.
///
/// - ``version`` counts the deltas the tab was sent. Each delta names the version it applies on
///   and the one it leads to; a page that is not at the first applies nothing and asks for its
///   whole state again.
/// - ``applied`` holds the ids of the page's events that ran to a commit, so an event the page
///   sends again (it did not see the acknowledgement) is acknowledged and not run twice.
public struct Delivery: Sendable, Equatable {
    /// The version of the state the tab was last sent.
    public internal(set) var version = 0
    /// The ids of the page's events applied to this tab.
    public internal(set) var applied = AppliedEvents()

    /// The bookkeeping as stored: `{"v": version, "ids": [[first, last], …], "below": id}`.
    public var json: JSON {
        var object: [String: JSON] = ["v": .int(version)]
        if !applied.ranges.isEmpty { object["ids"] = .array(applied.ranges.map { [.int($0.lowerBound), .int($0.upperBound)] }) }
        if applied.below > 0 { object["below"] = .int(applied.below) }
        return .object(object)
    }

    /// The bookkeeping from its stored form; anything unreadable starts from nothing.
    public init(json: JSON) {
        if case .int(let version)? = json["v"], version >= 0 { self.version = version }
        var below = 0
        if case .int(let mark)? = json["below"], mark >= 0 { below = mark }
        var ranges: [ClosedRange<Int>] = []
        if case .array(let stored)? = json["ids"] {
            for range in stored {
                guard case .array(let bounds) = range, bounds.count == 2,
                      case .int(let first) = bounds[0], case .int(let last) = bounds[1], first <= last
                else { continue }
                ranges.append(first...last)
            }
        }
        applied = AppliedEvents(ranges: ranges, below: below)
    }

    /// Nothing sent, nothing applied: a new tab.
    public init() {}
}

/// The ids of a tab's events that ran to a commit: the most recent ones as ranges, and a mark
/// below which every id counts as applied.
///
/// A page numbers its events in increasing order, so the ids applied form a few runs and the
/// window costs a few numbers, not one per event. When it holds more ids than its capacity, or
/// more than ``maxRanges`` runs (ids sent out of order, as only a hostile page would), the oldest
/// are forgotten and ``below`` rises past them: an id that old is never run again, as a page
/// keeps far fewer events waiting than the window holds.
public struct AppliedEvents: Sendable, Equatable {
    /// The most runs kept, so the window saved with each commit stays small whatever ids come.
    public static let maxRanges = 64

    /// The runs before the latest, ascending and apart.
    private var older: [ClosedRange<Int>] = []
    /// The run with the highest ids: kept apart from the array, so the usual insert (the next id
    /// of a page that numbers its events in order) writes no array, and copies none on write.
    private var latest: ClosedRange<Int>?
    /// How many ids the runs hold.
    private var count = 0
    /// Every id under this counts as applied.
    public private(set) var below = 0

    /// No id applied yet.
    public init() {}

    /// The window as stored: `ranges` ascending and apart, every id under `below` applied.
    init(ranges: [ClosedRange<Int>], below: Int) {
        self.below = below
        set(ranges.sorted { $0.lowerBound < $1.lowerBound })
    }

    /// Runs of applied ids, ascending and apart.
    public var ranges: [ClosedRange<Int>] {
        guard let latest else { return older }
        return older + [latest]
    }

    /// Whether the event with this id was applied (or is too old to run again).
    public func contains(_ id: Int) -> Bool {
        if id < below { return true }
        if let latest, latest.contains(id) { return true }
        return older.contains { $0.contains(id) }
    }

    /// Records `id`, keeping at most `capacity` ids in the ranges.
    public mutating func insert(_ id: Int, capacity: Int) {
        let capacity = max(capacity, 1)
        if let run = latest, id == run.upperBound + 1 {
            // The usual case: the page's next event.
            latest = run.lowerBound...id
            count += 1
            if count > capacity, older.isEmpty {
                latest = (run.lowerBound + 1)...id
                below = run.lowerBound + 1
                count -= 1
                return
            }
        } else {
            guard !contains(id) else { return }
            var all = ranges
            let index = all.firstIndex { $0.lowerBound > id } ?? all.endIndex
            var merged = id...id
            var start = index
            if index > 0, all[index - 1].upperBound == id - 1 {
                merged = all[index - 1].lowerBound...id
                start = index - 1
            }
            var end = index
            if index < all.endIndex, all[index].lowerBound == id + 1 {
                merged = merged.lowerBound...all[index].upperBound
                end = index + 1
            }
            all.replaceSubrange(start..<end, with: [merged])
            count += 1
            set(all)
        }
        guard count > capacity || older.count + 1 > Self.maxRanges else { return }
        var all = ranges
        while all.count > Self.maxRanges {
            let first = all.removeFirst()
            count -= first.count
            below = first.upperBound + 1
        }
        while count > capacity, let first = all.first {
            let excess = count - capacity
            if first.count <= excess {
                all.removeFirst()
                count -= first.count
                below = first.upperBound + 1
            } else {
                all[0] = (first.lowerBound + excess)...first.upperBound
                count -= excess
                below = first.lowerBound + excess
            }
        }
        set(all)
    }

    private mutating func set(_ all: [ClosedRange<Int>]) {
        latest = all.last
        older = Array(all.dropLast())
        count = all.reduce(0) { $0 + $1.count }
    }
}
