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
        if case .int(let below)? = json["below"], below >= 0 { applied.below = below }
        if case .array(let ranges)? = json["ids"] {
            for range in ranges {
                guard case .array(let bounds) = range, bounds.count == 2,
                      case .int(let first) = bounds[0], case .int(let last) = bounds[1], first <= last
                else { continue }
                applied.ranges.append(first...last)
            }
            applied.ranges.sort { $0.lowerBound < $1.lowerBound }
        }
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

    /// Runs of applied ids, ascending and apart.
    public internal(set) var ranges: [ClosedRange<Int>] = []
    /// Every id under this counts as applied.
    public internal(set) var below = 0

    /// No id applied yet.
    public init() {}

    /// Whether the event with this id was applied (or is too old to run again).
    public func contains(_ id: Int) -> Bool {
        if id < below { return true }
        return ranges.contains { $0.contains(id) }
    }

    /// Records `id`, keeping at most `capacity` ids in the ranges.
    public mutating func insert(_ id: Int, capacity: Int) {
        guard !contains(id) else { return }
        let index = ranges.firstIndex { $0.lowerBound > id } ?? ranges.endIndex
        var merged = id...id
        var start = index
        if index > 0, ranges[index - 1].upperBound == id - 1 {
            merged = ranges[index - 1].lowerBound...id
            start = index - 1
        }
        var end = index
        if index < ranges.endIndex, ranges[index].lowerBound == id + 1 {
            merged = merged.lowerBound...ranges[index].upperBound
            end = index + 1
        }
        ranges.replaceSubrange(start..<end, with: [merged])
        while ranges.count > Self.maxRanges {
            below = ranges.removeFirst().upperBound + 1
        }
        var count = ranges.reduce(0) { $0 + $1.count }
        while count > max(capacity, 1), let first = ranges.first {
            let excess = count - max(capacity, 1)
            if first.count <= excess {
                ranges.removeFirst()
                count -= first.count
                below = first.upperBound + 1
            } else {
                ranges[0] = (first.lowerBound + excess)...first.upperBound
                count -= excess
                below = first.lowerBound + excess
            }
        }
    }
}
