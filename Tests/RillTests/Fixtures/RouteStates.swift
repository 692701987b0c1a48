// Pages with parameters and on-load events, for the routing tests.

import Rill

@LiveState
struct ShopState {
    var loads: [String] = []

    mutating func openItem() { loads.append("item \(router.params["sku"] ?? "?") \(router.query["color"] ?? "-")") }
    mutating func openNew() { loads.append("new") }
    mutating func leave() { emit(.redirect(to: "/")) }
    mutating func missing() { loads.append("missing \(router.path)") }
}

let shopPages = [
    Page("/", title: "Shop") { Text("Shop") },
    Page("/item/:sku", title: "Item", onLoad: [ShopState.event.openItem]) { Text(RouteState.$params["sku"]) },
    Page("/item/new", title: "New item", onLoad: [ShopState.event.openNew]) { Text("New") },
    Page("/closed", title: "Closed", onLoad: [ShopState.event.leave]) { Text("Closed") },
]

let shopNotFound = Page("/404", title: "Lost", onLoad: [ShopState.event.missing]) { Text("Lost") }

/// Counts its tab's connections through the connect and disconnect hooks.
@LiveState
struct PresenceState {
    static let onConnect = [Self.event.arrive]
    static let onDisconnect = [Self.event.leave]

    var log: [String] = []

    mutating func arrive() { log.append("connect") }
    mutating func leave() { log.append("disconnect") }
}
