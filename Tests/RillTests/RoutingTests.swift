// Routing: patterns with parameters, the most literal page winning, RouteState and onLoad once per arrival.

@testable import Rill
import RillTesting
import Testing

@Suite struct RoutingTests {
    let app = App(pages: shopPages, notFound: shopNotFound)

    @Test(arguments: [
        ("/item/42", "/item/:sku", ["sku": "42"]),
        ("/item/new", "/item/new", [:]),
        ("/item/a%20b+c", "/item/:sku", ["sku": "a b+c"]),
        ("/", "/", [:]),
    ] as [(String, String, [String: String])])
    func aPathFindsTheMostLiteralPageAndItsParameters(path: String, pattern: String, params: [String: String]) {
        let match = app.page(at: path)
        #expect(match?.page.path == pattern)
        #expect(match?.params == params)
    }

    @Test(arguments: ["/item", "/item/1/2", "/items/1", "/nowhere"])
    func aPathNoPageMatchesFindsNone(path: String) {
        #expect(app.page(at: path) == nil)
    }

    @Test func arrivingSetsTheRouteThenRunsOnLoadOnce() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.navigate(to: "/item/42?color=red&color=blue&size=m%26l")
        await tab.settle()
        let route = try await tab.state(RouteState.self)
        #expect(route.path == "/item/42")
        #expect(route.params == ["sku": "42"])
        #expect(route.query == ["color": "red", "size": "m&l"])
        #expect(try await tab.state(ShopState.self).loads == ["item 42 red"])
        #expect(app.router(tab.token).params == ["sku": "42"])
        tab.navigate(to: "/item/new")
        await tab.settle()
        #expect(try await tab.state(ShopState.self).loads == ["item 42 red", "new"])
    }

    @Test func aReconnectGetsTheRoutersParametersBackWithoutRunningOnLoad() async throws {
        let tab = try await TestTab.connected(to: app)
        app.resume(tab.token, at: "/item/4?color=blue")
        #expect(app.router(tab.token).params == ["sku": "4"])
        #expect(app.router(tab.token).query == ["color": "blue"])
        await tab.settle()
        #expect(try await tab.state(ShopState.self).loads.isEmpty)
    }

    @Test func onLoadMayRedirect() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.navigate(to: "/closed")
        await tab.settle()
        let updates = tab.takePending()
        #expect(updates.flatMap(\.commands) == [.redirect(to: "/")])
    }

    @Test func anUnknownPathRunsTheNotFoundPagesOnLoad() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.navigate(to: "/nowhere?x=1")
        await tab.settle()
        #expect(try await tab.state(ShopState.self).loads == ["missing /nowhere"])
        #expect(try await tab.state(RouteState.self).params.isEmpty)
    }

    @Test func theRouteIsNotAnEventAPageMaySend() async throws {
        let tab = try await TestTab.connected(to: app)
        app.receive(EventSpec(name: "route_state.set_path", payload: ["value": "/admin"]), from: tab.token)
        let error = try await tab.receiveError()
        #expect(error.message.contains("no event 'route_state.set_path' that a page may send"))
    }
}

@Suite struct ConnectionHookTests {
    let app = makeApp(states: [PresenceState.self])

    @Test func connectingAndDisconnectingRunTheStatesHooks() async throws {
        let token = Token.random()
        let tab = try await TestTab.connected(to: app, token: token)
        await tab.settle()
        #expect(try await tab.state(PresenceState.self).log == ["connect"])
        // A second socket taking the tab over continues the connection: no hooks.
        let second = try await TestTab.connected(to: app, token: token)
        await second.settle()
        tab.disconnect()
        await second.settle()
        #expect(try await second.state(PresenceState.self).log == ["connect"])
        second.disconnect()
        await second.settle()
        #expect(try await second.state(PresenceState.self).log == ["connect", "disconnect"])
    }
}

@LiveState
struct KeptState {
    var theme = "light"
    var count = 0
    static let browserStorage = [BrowserStorage.local(Self.$theme, key: "theme"), BrowserStorage.cookie(Self.$count, name: "count")]
}

@Suite struct BrowserStorageTests {
    let app = makeApp(states: [KeptState.self])

    @Test func storedValuesAreSetTogetherOrNotAtAll() async throws {
        let tab = try await TestTab.connected(to: app)
        app.restore(["kept_state.theme": "dark", "kept_state.count": 3], from: tab.token)
        #expect(try await tab.receiveDelta() == ["kept_state": ["theme": "dark", "count": 3]])
        app.restore(["kept_state.theme": "blue", "kept_state.count": "three"], from: tab.token)
        let error = try await tab.receiveError()
        #expect(error.message.contains("'kept_state.count' does not fit the var"))
        #expect(try await tab.state(KeptState.self).theme == "dark")
    }

    @Test func unknownAndOversizedValuesAreRefused() async throws {
        let tab = try await TestTab.connected(to: app)
        app.restore(["kept_state.secret": "x"], from: tab.token)
        #expect(try await tab.receiveError().message.contains("'kept_state.secret' is not a var kept in the browser"))
        app.restore(["kept_state.theme": .string(String(repeating: "x", count: 70_000))], from: tab.token)
        #expect(try await tab.receiveError().message.contains("the most is 65536"))
        #expect(tab.takePending().isEmpty)
    }

    @Test func sizesCountThePlainJSONThePageMeasures() {
        #expect(BrowserStorage.size(of: "<a&b>") == 7)
        #expect(BrowserStorage.size(of: ["k": "é"]) == 10)
    }

    @Test func thePageListsWhereEachVarIsKept() {
        #expect(app.browserStorageJSON == [
            ["var": "kept_state.theme", "place": "local", "key": "theme", "max": 65536],
            ["var": "kept_state.count", "place": "cookie", "key": "count", "max": 3072, "maxAge": 31_536_000],
        ])
    }
}
