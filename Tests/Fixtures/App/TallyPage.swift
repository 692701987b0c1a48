// The tally page: a counter, a note and a form, for the tests of events sent while cut off.

import Rill

struct Entry: Codable, Sendable {
    var label: String
}

@LiveState
struct TallyState {
    var count = 0
    var note = ""
    var entries: [String] = []

    mutating func add() { count += 1 }

    mutating func record(_ entry: Entry) throws {
        guard !entry.label.isEmpty else { throw FieldErrors(["label": "Write a label."]) }
        entries.append(entry.label)
    }
}

let tallyPage = Page("/tally", title: "Tally") {
    VStack {
        Heading(TallyState.$count).id("count")
        Button("Add", onClick: TallyState.event.add).id("add")
        Input(value: TallyState.$note, onChange: TallyState.event.setNote).id("note")
        Text(TallyState.$note).id("note-shown")
        Form(onSubmit: TallyState.event.record) {
            Input(name: "label").id("label")
            SubmitButton("Record").id("record")
        }
        VStack { ForEach(items: TallyState.$entries) { entry in Text(entry) } }.id("entries")
    }
}
