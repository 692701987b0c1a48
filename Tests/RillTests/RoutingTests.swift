// Routing: patterns with parameters, the most literal page winning, RouteState and onLoad once per arrival.

import Rill
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
