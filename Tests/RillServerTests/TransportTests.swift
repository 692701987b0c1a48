// The WebSocket transport over a real socket: hydrate, events and deltas, bad input, tokens, reconnects.

import NIOWebSocket
import Rill
import RillClient
import RillServer
@testable import SeedExamples
import Testing

@Suite struct TransportTests {
    @Test func hydrateCarriesFrontendVarsOnlyThenEventsGetDeltas() async throws {
        let server = try await RunningServer.start(App(states: [WireState.self, MyTaskState.self]))
        defer { Task { await server.stop() } }
        let tab = try await server.socket(token: "tab-00000001")
        let (token, state) = try await tab.hydrate()
        #expect(token == "tab-00000001")
        #expect(state["wire_state"] == ["count": 0, "step": 0, "label": ""])
        #expect(state["my_task_state"] == ["counter": 0, "max_counter": 10, "running": false])

        try await tab.event("wire_state.increment")
        #expect(try await tab.delta() == ["wire_state": ["count": 1]])
        try await tab.event("my_task_state.set_max_counter", ["value": 3])
        #expect(try await tab.delta() == ["my_task_state": ["max_counter": 3]])
        try await tab.event("wire_state.set_both", ["count": 5, "label": "five"])
        #expect(try await tab.delta() == ["wire_state": ["count": 5, "label": "five"]])
    }

    @Test func intermediateUpdatesAndChainedEventsArriveInOrder() async throws {
        let server = try await RunningServer.start(App(states: [WireState.self]))
        defer { Task { await server.stop() } }
        let tab = try await server.socket()
        _ = try await tab.hydrate()
        try await tab.event("wire_state.steps")
        for step in 1...3 {
            #expect(try await tab.delta() == ["wire_state": ["step": .int(step)]])
        }
        try await tab.event("wire_state.increment_later")
        #expect(try await tab.delta() == ["wire_state": ["count": 1]])
    }

    @Test func theSeedCounterRunsInTheBackgroundOverTheSocket() async throws {
        let server = try await RunningServer.start(App(states: [MyTaskState.self]))
        defer { Task { await server.stop() } }
        let tab = try await server.socket()
        _ = try await tab.hydrate()
        try await tab.event("my_task_state.set_max_counter", ["value": 2])
        _ = try await tab.delta()
        try await tab.event("my_task_state.toggle_running")
        #expect(try await tab.delta() == ["my_task_state": ["running": true]])
        #expect(try await tab.delta() == ["my_task_state": ["counter": 1]])
        // While the task sleeps, the tab's other events run.
        try await tab.event("my_task_state.clear_counter")
        #expect(try await tab.delta() == ["my_task_state": ["counter": 0]])
        #expect(try await tab.delta() == ["my_task_state": ["counter": 1]])
        #expect(try await tab.delta() == ["my_task_state": ["counter": 2]])
        #expect(try await tab.delta() == ["my_task_state": ["running": false]])
    }

    @Test func eachBadMessageGetsAClearErrorAndChangesNothing() async throws {
        let server = try await RunningServer.start(App(states: [WireState.self]))
        defer { Task { await server.stop() } }
        let tab = try await server.socket()
        _ = try await tab.hydrate()

        try await tab.client.send("{not json")
        #expect(try await tab.error().hasPrefix("message is not JSON"))
        try await tab.client.send("[1, 2]")
        #expect(try await tab.error() == "message must be a JSON object, got array")
        try await tab.send(["type": "subscribe"])
        #expect(try await tab.error() == "unknown message type 'subscribe'; a tab sends \"event\", \"navigate\", \"storage\", \"resync\" and \"ping\"")
        try await tab.send(["type": "navigate"])
        #expect(try await tab.error() == "navigate message needs a 'path' starting with '/', at most 4096 bytes")
        try await tab.send(["type": "navigate", "path": "javascript:x"])
        #expect(try await tab.error() == "navigate message needs a 'path' starting with '/', at most 4096 bytes")
        try await tab.send(["type": "event", "name": "wire_state.increment", "id": -1])
        #expect(try await tab.error() == "event 'wire_state.increment': 'id' must be a whole number from 0 to 2^53")
        try await tab.send(["type": "event", "name": "wire_state.increment", "id": "7"])
        #expect(try await tab.error() == "event 'wire_state.increment': 'id' must be a whole number from 0 to 2^53")
        try await tab.send(["type": "event"])
        #expect(try await tab.error().hasPrefix("event message has no string 'name'"))
        try await tab.send(["type": "event", "name": "wire_state.increment", "payload": 3])
        #expect(try await tab.error() == "event 'wire_state.increment': 'payload' must be an object of arguments, got integer")
        try await tab.event("wire_state.nope")
        #expect(try await tab.error().hasPrefix("no event 'wire_state.nope'"))
        try await tab.event("wire_state.set_count", ["value": "ten"])
        #expect(try await tab.error() == "event 'wire_state.set_count': field 'value' must be Int, found string")
        try await tab.event("wire_state.set_both", ["count": 1])
        #expect(try await tab.error() == "event 'wire_state.set_both': field 'label' must be String, found nothing (the field is missing)")
        try await tab.event("wire_state.fail")
        #expect(try await tab.error() == "the handler failed on purpose")

        // The socket still works and nothing changed.
        try await tab.event("wire_state.increment")
        #expect(try await tab.delta() == ["wire_state": ["count": 1]])
    }

    @Test func anOversizedMessageClosesWithCode1009() async throws {
        var configuration = ServerConfiguration(port: 0, logLevel: .warning)
        configuration.maxMessageSize = 4096
        let server = try await RunningServer.start(App(states: [WireState.self]), configuration: configuration)
        defer { Task { await server.stop() } }
        let bystander = try await server.socket()
        _ = try await bystander.hydrate()
        let tab = try await server.socket()
        _ = try await tab.hydrate()
        try await tab.event("wire_state.set_label", ["value": .string(String(repeating: "x", count: 10_000))])
        await tab.client.waitClosed()
        #expect(tab.client.closeCode == .messageTooLarge)
        try await bystander.event("wire_state.increment")
        #expect(try await bystander.delta() == ["wire_state": ["count": 1]])
    }

    @Test func aBinaryFrameClosesWithCode1003() async throws {
        let server = try await RunningServer.start(App(states: [WireState.self]))
        defer { Task { await server.stop() } }
        let tab = try await server.socket()
        _ = try await tab.hydrate()
        try await tab.client.send(binary: [1, 2, 3])
        await tab.client.waitClosed()
        #expect(tab.client.closeCode == .unacceptableData)
    }

    @Test func theSessionCookieReachesHandlers() async throws {
        let server = try await RunningServer.start(App(states: [WireState.self]))
        defer { Task { await server.stop() } }
        let tab = try await server.socket(headers: [("Cookie", "theme=dark; rill_session=s3ss10n; other=1")])
        _ = try await tab.hydrate()
        try await tab.event("wire_state.remember_session")
        #expect(try await tab.delta() == ["wire_state": ["label": "s3ss10n"]])
    }

    @Test func aPingIsAnsweredAtOnceWithItsId() async throws {
        let server = try await RunningServer.start(App(states: [WireState.self]))
        defer { Task { await server.stop() } }
        let tab = try await server.socket()
        _ = try await tab.hydrate()
        try await tab.send(["type": "ping", "id": 7])
        #expect(try await tab.next() == ["type": "pong", "id": 7])
        try await tab.send(["type": "ping", "id": "a"])
        #expect(try await tab.next() == ["type": "pong", "id": "a"])
        try await tab.send(["type": "ping"])
        #expect(try await tab.error() == "ping message needs a number or string 'id'")
    }

    @Test func pagesTellTheRuntimeHowOftenToCheckItsSocket() async throws {
        let page = Page("/", title: "Background task") { backgroundTaskExample() }
        var configuration = ServerConfiguration(port: 0, logLevel: .warning)
        configuration.heartbeatInterval = .milliseconds(1500)
        configuration.heartbeatTimeout = .seconds(4)
        let server = try await RunningServer.start(App(pages: [page]), configuration: configuration)
        defer { Task { await server.stop() } }
        let html = try await server.get("/").text
        #expect(html.contains(#""connection":{"heartbeat":1500,"timeout":4000}"#))
    }

    @Test func twoTabsAreIsolated() async throws {
        let server = try await RunningServer.start(App(states: [WireState.self]))
        defer { Task { await server.stop() } }
        let first = try await server.socket()
        let second = try await server.socket()
        let (firstToken, _) = try await first.hydrate()
        let (secondToken, _) = try await second.hydrate()
        #expect(firstToken != secondToken)
        try await first.event("wire_state.increment")
        try await first.event("wire_state.increment")
        #expect(try await first.delta() == ["wire_state": ["count": 1]])
        #expect(try await first.delta() == ["wire_state": ["count": 2]])
        try await second.event("wire_state.increment")
        #expect(try await second.delta() == ["wire_state": ["count": 1]])
    }

    @Test func aReconnectWithTheSameTokenKeepsTheState() async throws {
        let server = try await RunningServer.start(App(states: [WireState.self]))
        defer { Task { await server.stop() } }
        let tab = try await server.socket(token: "reconnect-1234")
        _ = try await tab.hydrate()
        try await tab.event("wire_state.set_count", ["value": 7])
        _ = try await tab.delta()
        try await tab.client.close()

        let again = try await server.socket(token: "reconnect-1234", resume: true)
        let (token, state) = try await again.hydrate()
        #expect(token == "reconnect-1234")
        #expect(state["wire_state"]?["count"] == 7)
    }

    @Test func aDuplicatedTabGetsItsOwnTokenAndAMalformedOneIsReplaced() async throws {
        let server = try await RunningServer.start(App(states: [WireState.self]))
        defer { Task { await server.stop() } }
        let original = try await server.socket(token: "duplicated-1")
        _ = try await original.hydrate()
        let duplicate = try await server.socket(token: "duplicated-1")
        let (token, _) = try await duplicate.hydrate()
        #expect(token != "duplicated-1")

        let malformed = try await server.socket(token: "bad%20token!")
        let (fresh, _) = try await malformed.hydrate()
        #expect(Token(fresh) != nil)
        #expect(try await malformed.error().hasPrefix("token 'bad token!' is not 8 to 64 letters"))
    }

    @Test func aResumingTabTakesOverItsStaleSocket() async throws {
        let server = try await RunningServer.start(App(states: [WireState.self]))
        defer { Task { await server.stop() } }
        let stale = try await server.socket(token: "takeover-12")
        _ = try await stale.hydrate()
        let fresh = try await server.socket(token: "takeover-12", resume: true)
        #expect(try await fresh.hydrate().token == "takeover-12")
        await stale.client.waitClosed()
        #expect(stale.client.closeCode == WebSocketErrorCode(codeNumber: 4001))
        try await fresh.event("wire_state.increment")
        #expect(try await fresh.delta() == ["wire_state": ["count": 1]])
    }

    @Test func socketsFromOtherOriginsAreRefused() async throws {
        let server = try await RunningServer.start(App(states: [WireState.self]))
        defer { Task { await server.stop() } }
        await #expect(throws: WebSocketClient.UpgradeFailed.self) {
            _ = try await server.socket(headers: [("Origin", "http://evil.example")])
        }
        let sameHost = try await server.socket(headers: [("Origin", "http://127.0.0.1:\(server.port)")])
        _ = try await sameHost.hydrate()
    }

    @Test func pagesAssetsAndHealthAreServedWithAStrictPolicy() async throws {
        let page = Page("/", title: "Background task") { backgroundTaskExample() }
        let server = try await RunningServer.start(App(pages: [page]))
        defer { Task { await server.stop() } }
        let html = try await server.get("/")
        #expect(html.status == 200)
        #expect(html.header("content-security-policy")?.contains("script-src 'self'") == true)
        #expect(html.text.contains("<script src=\"/_rill/rill.js\" defer></script>"))
        #expect(html.text.contains("id=\"rill-page\""))
        let script = try await server.get("/_rill/rill.js")
        #expect(script.status == 200 && script.header("content-type")?.hasPrefix("text/javascript") == true)
        #expect(!script.text.contains("eval("))
        let style = try await server.get("/_rill/rill.css")
        #expect(style.status == 200)
        let ping = try await server.get("/ping")
        #expect(ping.text == #"{"status":"ok"}"#)
        #expect(try await server.get("/nowhere").status == 404)
        #expect(try await server.get("/_rill/socket").status == 400)
    }

    @Test func shutdownClosesSocketsWithGoingAway() async throws {
        let app = App(states: [WireState.self])
        let server = try await RunningServer.start(app)
        let tab = try await server.socket()
        _ = try await tab.hydrate()
        await app.shutdown(gracePeriod: .seconds(1))
        await tab.client.waitClosed()
        #expect(tab.client.closeCode == .goingAway)
        await server.stop()
    }
}

/// Tests that hold a tab's queue with the shared ``WireGate``, one at a time.
@Suite(.serialized) struct QueueLimitTests {
    @Test func aFloodIsRefusedBeyondTheQueueLimit() async throws {
        let app = App(states: [WireState.self], maxQueuedEvents: 5)
        let server = try await RunningServer.start(app)
        defer { Task { await server.stop() } }
        let tab = try await server.socket()
        _ = try await tab.hydrate()
        try await tab.event("wire_state.hold")
        for _ in 0..<10 { try await tab.event("wire_state.increment") }
        for _ in 0..<6 {
            #expect(try await tab.error().hasPrefix("too many events waiting for this tab (limit 5)"))
        }
        WireGate.shared.open()
        for count in 1...4 {
            #expect(try await tab.delta() == ["wire_state": ["count": .int(count)]])
        }
    }

    @Test func aFloodIsRefusedBeyondTheQueuesByteLimit() async throws {
        let app = App(states: [WireState.self], maxQueuedBytes: 4096)
        let server = try await RunningServer.start(app)
        defer { Task { await server.stop() } }
        let tab = try await server.socket()
        _ = try await tab.hydrate()
        try await tab.event("wire_state.hold")
        let labels = (0..<6).map { "\($0)" + String(repeating: "x", count: 1000) }
        for label in labels { try await tab.event("wire_state.set_label", ["value": .string(label)]) }
        // About 1 KB each: three fit beside the held event, the other three are refused.
        for _ in 0..<3 {
            #expect(try await tab.error().hasPrefix("too many bytes of events waiting for this tab (limit 4096)"))
        }
        WireGate.shared.open()
        for label in labels.prefix(3) {
            #expect(try await tab.delta()["wire_state"]?["label"] == .string(label))
        }
    }
}
