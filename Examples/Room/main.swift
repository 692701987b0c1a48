// Runs the shared room example: swift run Room, then open http://127.0.0.1:8000 in two windows.
// Every tab that enters a room shares its counter and its messages, and sees who else is there.
// States live in memory; with --redis redis://HOST:PORT several processes share the rooms.

import Foundation
import Rill
import RillRedis
import RillServer

/// One room: its counter, its last messages, and (from the framework) who is in it.
@LiveState
struct ChatRoom: SharedState {
    var count = 0
    var messages: [String] = []

    mutating func increment() { count += 1 }

    mutating func decrement() { count -= 1 }

    /// Room names are public here; an app with private rooms checks the tab's rights.
    static func authorizeLink(key: String, router: RouterData) async throws -> Bool {
        key.count <= 40 && key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
    }
}

/// One tab: the name it goes by, the room it is in, and the message it is typing.
@LiveState
struct Visitor {
    var name = ""
    var roomName = "lobby"
    var room = ""
    var draft = ""
    /// The room this tab is in, as this tab's own computed vars see it.
    @Linked var current: ChatRoom
    /// Messages that mention this tab's name: one tab's view of the shared room, recomputed
    /// when the room or the name changes.
    @Computed var mentions: Int {
        let tag = "@" + name.lowercased()
        return name.isEmpty ? 0 : current.messages.filter { $0.lowercased().contains(tag) }.count
    }

    mutating func enter() async throws {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw FieldErrors(field: "name", "Pick a name first") }
        guard name.count <= 40 else { throw FieldErrors(field: "name", "Keep the name under 40 characters") }
        try await link(ChatRoom.self, to: roomName, as: name)
        room = roomName
    }

    mutating func leave() async throws {
        try await unlink(ChatRoom.self)
        room = ""
    }

    mutating func send() async throws {
        let text = draft.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return }
        let line = "\(name): \(String(text.prefix(500)))"
        try await modifyState(ChatRoom.self) { room in
            room.messages = Array((room.messages + [line]).suffix(50))
        }
        draft = ""
    }
}

let page = Page("/", title: "Rooms") {
    VStack {
        Heading(level: 1, "Rooms")
        Cond(Visitor.$room == "") {
            HStack {
                Input(value: Visitor.$name, placeholder: "Your name", onChange: Visitor.event.setName).id("name")
                Input(value: Visitor.$roomName, placeholder: "Room", onChange: Visitor.event.setRoomName).id("room-name")
                Button("Enter", onClick: Visitor.event.enter).id("enter")
            }
        } else: {
            HStack {
                Text("Room ", Visitor.$room, " — ", ChatRoom.presence.count, " here").id("where")
                Button("Leave", onClick: Visitor.event.leave).id("leave")
            }
            HStack {
                Button("−", onClick: ChatRoom.event.decrement).id("minus")
                Text(ChatRoom.$count).id("count")
                Button("+", onClick: ChatRoom.event.increment).id("plus")
            }
            ForEach(items: ChatRoom.presence) { name in Badge(name, tone: .info) }.id("presence")
            Text(Visitor.$mentions, " mention you").id("mentions")
            ForEach(items: ChatRoom.$messages) { line in Text(line) }.id("messages")
            Input(value: Visitor.$draft, placeholder: "Say something", onChange: Visitor.event.setDraft, onSubmit: Visitor.event.send)
                .id("draft")
        }
    }
}

try await App.serve(pages: [page], store: RedisStore.self)
