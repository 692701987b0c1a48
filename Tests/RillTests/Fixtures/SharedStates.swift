// A shared room and the per-tab state that links to it, for the shared state tests.

import Rill

@LiveState
struct Room: SharedState {
    var count = 0
    var topic = ""
    @Backend var writes = 0
    @Computed var doubled: Int { count * 2 }

    mutating func increment() { count += 1 }

    mutating func incrementThenFail() throws {
        count += 100
        throw Boom()
    }

    mutating func note() { writes += 1 }

    @Background
    private func bump(_: BackgroundRun, times: Int) async throws {
        for _ in 0..<times {
            try await withState { $0.count += 1 }
        }
    }

    static func authorizeLink(key: String, router: RouterData) async throws -> Bool {
        !key.hasPrefix("secret-")
    }
}

@LiveState
struct Member {
    var name = ""
    var clicks = 0
    var seen = -1

    mutating func join(room: String, as name: String) async throws {
        self.name = name
        try await link(Room.self, to: room, as: name)
    }

    mutating func leave() async throws {
        try await unlink(Room.self)
    }

    /// Changes the tab and the room in one commit.
    mutating func clickBoth() async throws {
        clicks += 1
        try await modifyState(Room.self) { $0.count += 1 }
    }

    mutating func clickBothThenFail() async throws {
        clicks += 1
        try await modifyState(Room.self) { $0.count += 1 }
        throw Boom()
    }

    mutating func look() async throws {
        seen = try await getState(Room.self).count
    }

    mutating func lookDoubled() async throws {
        seen = try await getState(Room.self).doubled
    }

    mutating func useThenLink() async throws {
        _ = try await getState(Room.self).count
        try await link(Room.self, to: "other")
    }

    @Background
    private func hammer(_: BackgroundRun, times: Int) async throws {
        for _ in 0..<times {
            try await withState { _ in
                try await self.modifyState(Room.self) { $0.count += 1 }
            }
        }
    }
}

/// A tab's own state that reads the room it is linked to through a `@Linked` var.
@LiveState
struct Player {
    var goal = 10
    var seen = -1
    @Linked var room: Room
    @Computed var progress: String { "\(room.count) of \(goal)" }

    mutating func join(room key: String) async throws {
        try await link(Room.self, to: key)
    }

    mutating func leave() async throws {
        try await unlink(Room.self)
    }

    /// Changes the room, then reads it through the linked var.
    mutating func bumpAndLook() async throws {
        try await modifyState(Room.self) { $0.count += 1 }
        seen = room.count
    }
}

/// A state whose only computed var over the room changes rarely.
@LiveState
struct Watcher {
    var limit = 3
    @Linked var room: Room
    @Computed var full: Bool { room.count >= limit }

    mutating func watch(_ key: String) async throws {
        try await link(Room.self, to: key)
    }
}
