// Starts a real Rill server on a free loopback port and speaks its protocol with a real WebSocket client.

import AsyncHTTPClient
import NIOHTTP1
import Rill
import RillClient
import RillServer
import Synchronization
import Testing

/// A server running for one test.
final class RunningServer: Sendable {
    let app: App
    let port: Int
    private let task: Task<Void, any Error>

    private init(app: App, port: Int, task: Task<Void, any Error>) {
        self.app = app
        self.port = port
        self.task = task
    }

    static func start(_ app: App, configuration: ServerConfiguration = ServerConfiguration(port: 0, logLevel: .warning), routes: [HTTPRoute] = []) async throws -> RunningServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let server = Server(app: app, routes: routes, configuration: configuration)
        let task = Task { try await server.run { port in continuation.yield(port) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HarnessError("the server did not start") }
        return RunningServer(app: app, port: port, task: task)
    }

    func socket(token: String? = nil, resume: Bool = false, headers: [(String, String)] = [], receiveBufferSize: Int? = nil) async throws -> Tab {
        var query = "path=/"
        if let token { query += "&token=\(token)" }
        if resume { query += "&resume=1" }
        let client = try await WebSocketClient.connect(
            host: "127.0.0.1", port: port, path: "/_rill/socket?\(query)", headers: headers, receiveBufferSize: receiveBufferSize)
        return Tab(client: client)
    }

    func get(_ path: String) async throws -> Fetched {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        return Fetched(status: Int(response.status.code), headers: response.headers, text: String(buffer: body))
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// A whole HTTP response.
struct Fetched {
    let status: Int
    let headers: HTTPHeaders
    let text: String

    func header(_ name: String) -> String? { headers.first(name: name) }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One tab's socket, reading protocol messages as JSON.
final class Tab: @unchecked Sendable {
    let client: WebSocketClient
    private var iterator: AsyncThrowingStream<String, any Error>.AsyncIterator

    init(client: WebSocketClient) {
        self.client = client
        self.iterator = client.messages.makeAsyncIterator()
    }

    /// The next message, failing after a generous timeout rather than hanging the suite.
    func next(timeout: Duration = .seconds(10)) async throws -> JSON {
        let box = IteratorBox(iterator)
        let text = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask { try await box.next() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw HarnessError("no message within \(timeout)")
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        iterator = box.iterator
        guard let text else { throw HarnessError("the socket closed") }
        return try JSON(parsing: text)
    }

    func hydrate() async throws -> (token: String, state: JSON) {
        let message = try await next()
        guard message["type"] == "hydrate", case .string(let token)? = message["token"], let state = message["state"] else {
            throw HarnessError("expected hydrate, got \(message)")
        }
        return (token, state)
    }

    func delta() async throws -> JSON {
        let message = try await next()
        guard message["type"] == "delta", let delta = message["delta"] else { throw HarnessError("expected delta, got \(message)") }
        return delta
    }

    func error() async throws -> String {
        let message = try await next()
        guard message["type"] == "error", case .string(let text)? = message["message"] else { throw HarnessError("expected error, got \(message)") }
        return text
    }

    func send(_ json: JSON) async throws {
        try await client.send(json.serialized())
    }

    func event(_ name: String, _ payload: [String: JSON] = [:]) async throws {
        try await send(["type": "event", "name": .string(name), "payload": .object(payload)])
    }

    private final class IteratorBox: @unchecked Sendable {
        var iterator: AsyncThrowingStream<String, any Error>.AsyncIterator
        init(_ iterator: AsyncThrowingStream<String, any Error>.AsyncIterator) { self.iterator = iterator }
        func next() async throws -> String? { try await iterator.next() }
    }
}
