// The seed's second example: a free-standing task fetches text and writes it into the tab with app.modifyState.

import AsyncHTTPClient
import Foundation
import Rill
import Synchronization

/// The fetched text, shown under the button.
@LiveState
public struct LowLevelState {
    var result = ""

    public init() {}

    /// Starts a plain Swift task (not a Rill background task) that fetches a line of text and
    /// then uses the low-level API to write it into this tab. It hands the task the app and the
    /// tab's token, never `self`: the state must only change under the tab's lock.
    mutating func fetchData() {
        let url = FetchTasks.url(host: router.headers["host"])
        FetchTasks.shared.start(app: app, token: router.token, url: url)
    }
}

/// The seed's page: the fetched text and a `Fetch Data` button.
public func lowLevelExample() -> some Component {
    VStack {
        Text(LowLevelState.$result)
        Button("Fetch Data", onClick: LowLevelState.event.fetchData)
    }
}

/// Keeps a reference to each fetch task until it is done, as the seed's `my_tasks` set does.
public final class FetchTasks: Sendable {
    /// The tasks of this process.
    public static let shared = FetchTasks()

    private let running = Mutex<[UInt64: Task<Void, Never>]>([:])
    private let nextID = Atomic<UInt64>(0)

    /// Where text is fetched from: `LOW_LEVEL_FETCH_URL`, or this server's own `/zen`.
    public static func url(host: String?) -> String {
        if let configured = ProcessInfo.processInfo.environment["LOW_LEVEL_FETCH_URL"] { return configured }
        return "http://\(host ?? "127.0.0.1:8000")/zen"
    }

    /// How many fetches are running.
    public var count: Int { running.withLock { $0.count } }

    func start(app: App, token: Token, url: String) {
        let id = nextID.add(1, ordering: .relaxed).newValue
        running.withLock { running in
            running[id] = Task.detached {
                let text: String
                do {
                    text = try await Self.fetch(url)
                } catch {
                    text = "fetch failed: \(error)"
                }
                do {
                    try await app.modifyState(token) { tab in
                        let path = LowLevelState.fullName.split(separator: ".").map(String.init)
                        guard var state = try tab.substate(path: path) as? LowLevelState else { return }
                        state.result = text
                        try tab.setSubstate(state)
                    }
                } catch {
                    app.logger.error("could not write the fetched text", metadata: ["error": "\(error)"])
                }
                self.finish(id)
            }
        }
    }

    private func finish(_ id: UInt64) {
        _ = running.withLock { $0.removeValue(forKey: id) }
    }

    /// Fetches a line of text, as the seed's `httpx.AsyncClient().get(...)` does.
    private static func fetch(_ url: String) async throws -> String {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        guard response.status == .ok else { throw BadStatus(status: Int(response.status.code)) }
        let body = try await response.body.collect(upTo: 1 << 20)
        return String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct BadStatus: Error, CustomStringConvertible {
        let status: Int
        var description: String { "the server answered \(status)" }
    }
}

/// Lines of text the example serves at `/zen` in place of an API on the internet.
public enum ZenLines {
    /// The lines.
    public static let all = [
        "Speak like a human.",
        "Design for failure.",
        "Keep it logically awesome.",
        "Half measures are as bad as nothing at all.",
        "Favor focus over features.",
        "Avoid administrative distraction.",
        "Approachable is better than simple.",
        "Mind your words, they are important.",
        "Non-blocking is better than blocking.",
        "Practicality beats purity.",
    ]

    /// One line at random.
    public static func random() -> String { all.randomElement()! }
}
