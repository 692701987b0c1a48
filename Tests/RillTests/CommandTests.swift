// Page commands: sent after the changes they come with, dropped with a failed event, refused when malformed.

import Rill
import RillTesting
import Testing

@Suite struct CommandTests {
    let app = makeApp(states: [NoteState.self])

    @Test func aHandlersCommandsLeaveWithItsChangesInOrder() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(NoteState.event.save)
        let update = try await tab.receive()
        #expect(update.delta == ["note_state": ["saved": true]])
        #expect(update.commands == [.toast("Saved", kind: .success), .focus("title")])
        #expect(tab.takePending().isEmpty)
    }

    @Test func aFailedHandlersCommandsAreDroppedWithItsChanges() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(NoteState.event.saveThenFail)
        let update = try await tab.receive()
        #expect(update.error?.message == "the note could not be saved")
        #expect(update.commands.isEmpty)
        #expect(try await tab.state(NoteState.self).saved == false)
        #expect(tab.takePending().isEmpty)
    }

    @Test(arguments: ["javascript:alert(1)", "//evil.example/x", "/\\evil.example", "data:text/html,hi", "ftp://x", ""])
    func aRedirectOffTheSiteOrToScriptFailsTheEvent(url: String) async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(NoteState.event.leave(url))
        let error = try await tab.receiveError()
        #expect(error.message.contains("cannot redirect"))
        #expect(error.message.contains("write a path of the app"))
        #expect(try await tab.state(NoteState.self).title == "", "the failed event changed the state")
    }

    @Test(arguments: ["/done", "/post/7?tab=2#top", "https://example.com/a", "HTTP://example.com"])
    func aRedirectToAPathOrAnHTTPURLIsSent(url: String) async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(NoteState.event.leave(url))
        let update = try await tab.receive()
        #expect(update.commands == [.redirect(to: url)])
        #expect(update.delta == ["note_state": ["title": "leaving"]])
    }

    @Test func aDownloadWithAPathInItsNameFailsTheEvent() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(NoteState.event.setTitle("../etc/passwd"))
        _ = try await tab.receive()
        tab.send(NoteState.event.export)
        let error = try await tab.receiveError()
        #expect(error.message.contains("no slash"))
    }

    @Test func aTasksCommandsLeaveAtOnceOutsideABlockAndWithTheBlocksChangesInside() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(NoteState.event.publish)
        let first = try await tab.receive()
        #expect(first.commands == [.toast("Publishing…")])
        #expect(first.delta.isEmpty)
        let second = try await tab.receive()
        #expect(second.delta == ["note_state": ["saved": true]])
        #expect(second.commands == [.setTitle("Published")])
    }

    @Test func theAppSendsACommandToATabAndRefusesAMalformedOne() async throws {
        let tab = try await TestTab.connected(to: app)
        try await app.send(.scrollTo("results"), to: tab.token)
        #expect(try await tab.receive().commands == [.scrollTo("results")])
        await #expect(throws: InvalidCommandError.self) { try await app.send(.focus(""), to: tab.token) }
        #expect(tab.takePending().isEmpty)
    }

    @Test func mergedUpdatesKeepEveryCommandInOrderAcrossAHydration() {
        var update = StateUpdate(delta: ["s": ["a": 1]], commands: [.toast("one")])
        update.merge(StateUpdate(delta: ["s": ["a": 2]], isHydration: true, commands: [.focus("x")]))
        update.merge(StateUpdate(delta: ["s": ["b": 3]], commands: [.setTitle("t")]))
        #expect(update.isHydration)
        #expect(update.delta == ["s": ["a": 2, "b": 3]])
        #expect(update.commands == [.toast("one"), .focus("x"), .setTitle("t")])
    }

    @Test func everyCommandSurvivesItsWireForm() throws {
        let bytes = (0..<300).map { UInt8($0 % 256) }
        let commands: [PageCommand] = [
            .redirect(to: "/a?b=c"), .toast("hi", kind: .error), .focus("f"), .scrollTo("s"),
            .setClipboard("copy me"), .setTitle("T"), .download(data: [], filename: "empty.bin"),
        ] + (0..<4).map { .download(data: Array(bytes.prefix(297 + $0)), filename: "n\($0).bin", mimeType: "application/x-test") }
        for command in commands {
            #expect(PageCommand(json: command.json) == command)
            #expect(PageCommand(json: try JSON(parsing: command.json.serialized())) == command)
        }
        #expect(PageCommand(json: ["command": "download", "filename": "x", "mime": "a/b", "base64": "abc"]) == nil)
        #expect(PageCommand(json: ["command": "eval", "code": "1"]) == nil)
    }

    @Test func base64MatchesTheStandardVectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            let command = PageCommand.download(data: Array(plain.utf8), filename: "v")
            #expect(command.json["base64"] == .string(encoded))
        }
    }
}

/// What a form's handler does with what it was sent: a typed value, or field messages.
@Suite struct FormHandlerTests {
    let app = makeApp(states: [SurveyState.self])

    @Test func aValidSubmitChangesTheStateAndARefusedOneNamesEachField() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(SurveyState.event.submit(Survey(email: "nope", age: nil, agree: false)))
        let refused = try await tab.receiveError()
        #expect(refused.fields == ["email": "Enter an email address", "agree": "Agree to go on"])
        #expect(refused.message == "check the form: agree: Agree to go on; email: Enter an email address")
        #expect(try await tab.state(SurveyState.self).answers.isEmpty)
        let good = Survey(email: "a@b.c", age: 40, agree: true)
        tab.send(SurveyState.event.submit(good))
        _ = try await tab.receiveDelta()
        #expect(try await tab.state(SurveyState.self).answers == [good])
    }

    @Test func aFormValueOfTheWrongShapeIsRefusedNamingTheField() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(name: "survey_state.submit", payload: ["survey": ["email": "a@b.c", "age": "forty", "agree": true]])
        let error = try await tab.receiveError()
        #expect(error.message.contains("survey.age"), "\(error.message)")
    }

    @Test func anEventsIdIsAnsweredWhenItFinishesOrFails() async throws {
        let tab = try await TestTab.connected(to: app)
        app.receive(SurveyState.event.submit(Survey(email: "x", age: nil, agree: true)), from: tab.token, id: 7)
        let refused = try await tab.receiveError()
        #expect(refused.id == 7)
        app.receive(SurveyState.event.submit(Survey(email: "a@b.c", age: nil, agree: true)), from: tab.token, id: 8)
        let answered = try await tab.receive()
        #expect(answered.acks == [8], "the id comes with the event's changes")
        #expect(answered.delta["survey_state"]?["answers"] != nil)
        app.receive(SurveyState.event.setColor("red"), from: tab.token, id: 10)
        #expect(try await tab.receive() == StateUpdate(acks: [10]), "an event that changed nothing is answered alone")
        app.receive(EventSpec(name: "survey_state.nope"), from: tab.token, id: 9)
        #expect(try await tab.receiveError().id == 9)
        #expect(tab.takePending().isEmpty)
    }
}
