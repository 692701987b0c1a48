// The commands page: one button per page command, for the browser tests.

import Rill

@LiveState
struct CommandsState {
    var note = "hello"
    var saves = 0

    mutating func save() {
        saves += 1
        emit(.toast("Saved \(saves)", kind: .success))
        emit(.focus("note"))
    }

    mutating func leave() { emit(.redirect(to: "/elsewhere?from=commands")) }
    mutating func leaveBadly() { emit(.redirect(to: "javascript:alert(1)")) }
    mutating func export() { emit(.download(data: Array(note.utf8), filename: "note.txt", mimeType: "text/plain")) }
    mutating func copy() { emit(.setClipboard(note)) }
    mutating func rename() { emit(.setTitle("Renamed: \(note)")) }
    mutating func bottom() { emit(.scrollTo("bottom")) }
}

let commandsPage = Page("/commands", title: "Commands") {
    VStack {
        Input(value: CommandsState.$note, onChange: CommandsState.event.setNote).id("note")
        HStack {
            Button("Save", onClick: CommandsState.event.save).id("save")
            Button("Leave", onClick: CommandsState.event.leave).id("leave")
            Button("Leave badly", onClick: CommandsState.event.leaveBadly).id("leave-badly")
            Button("Export", onClick: CommandsState.event.export).id("export")
            Button("Copy", onClick: CommandsState.event.copy).id("copy")
            Button("Rename", onClick: CommandsState.event.rename).id("rename")
            Button("Bottom", onClick: CommandsState.event.bottom).id("to-bottom")
        }
        Spacer().height("3000px")
        Text("The end").id("bottom")
    }
}

let elsewherePage = Page("/elsewhere", title: "Elsewhere") {
    Heading("Elsewhere", CommandsState.$note).id("elsewhere")
}
