// The client-actions page: steps the page runs by itself, alone or before an event.

import Rill

@LiveState
struct ClientState {
    var events = 0
    var ticks = 0

    mutating func noted() { events += 1 }
    mutating func tick() { ticks += 1 }
}

let clientPage = Page("/client", title: "Client actions") {
    VStack {
        Button("Menu", onClick: .toggle("menu")).id("menu-button")
        VStack {
            Text("Ticks: ", ClientState.$ticks).id("ticks")
        }.id("menu").hidden()
        Button("Tick", onClick: ClientState.event.tick).id("tick")
        Button("Details", onClick: ClientAction.show("details").then(.focus("details-input"))).id("details-button")
        VStack {
            Input(name: "details-input").id("details-input")
        }.id("details").hidden()
        Text("Box").id("box")
        Button("Mark", onClick: ClientAction.addClass("marked", to: "box").then(.setAttribute("title", "marked", on: "box"))
            .then(ClientState.event.noted)).id("mark")
        Link("Link", href: "/routes").id("link")
        Button("Spoil", onClick: .setAttribute("href", "javascript:alert(1)", on: "link")).id("spoil")
        Text("Hover").id("hover").on(.pointerEnter, .addClass("hovered", to: "hover")).on(.pointerLeave, .removeClass("hovered", from: "hover"))
    }
}
