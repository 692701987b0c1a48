// The triggers page: keys, focus, blur, hovering, double clicks, mounting and debouncing, each counted.

import Rill

@LiveState
struct TriggerState {
    var draft = ""
    var log: [String] = []
    var keys = 0
    var showPanel = false

    mutating func commit() { log.append("commit \(draft)") }
    mutating func clear() {
        draft = ""
        log.append("clear")
    }
    mutating func focused() { log.append("focus") }
    mutating func blurred(_ text: String) { log.append("blur \(text)") }
    mutating func hovered() { log.append("hover") }
    mutating func doubled() { log.append("double") }
    mutating func togglePanel() { showPanel.toggle() }
    mutating func panelShown() { log.append("mount") }
    mutating func panelHidden() { log.append("unmount") }
    mutating func loaded() { log.append("loaded") }
    mutating func keyed() { keys += 1 }
}

let triggersPage = Page("/triggers", title: "Triggers") {
    VStack {
        Text("ready").id("ready").on(.mount, TriggerState.event.loaded)
        Input(value: TriggerState.$draft, onChange: TriggerState.event.setDraft).id("draft")
            .on(.keyDown("Enter"), TriggerState.event.commit)
            .on(.keyDown("Escape"), TriggerState.event.clear)
            .on(.focus, TriggerState.event.focused)
            .on(.blur, TriggerState.event.blurred)
        Input(name: "typing").id("typing")
            .on(.keyDown(), TriggerState.event.keyed, debounce: .milliseconds(400))
        Text("hover me").id("hover").on(.pointerEnter, TriggerState.event.hovered)
        Button("Double", onClick: TriggerState.event.togglePanel).id("double").on(.doubleClick, TriggerState.event.doubled)
        Cond(TriggerState.$showPanel) {
            Text("Panel").id("panel").on(.mount, TriggerState.event.panelShown).on(.unmount, TriggerState.event.panelHidden)
        }
    }
}
