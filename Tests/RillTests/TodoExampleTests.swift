// The todo example's handlers, driven without a browser: the form, the dialog, the detail page, the import.

import Rill
import RillTesting
import Testing
@testable import TodoApp

// The test fixtures have a `TodoState` and a `Todo` of their own: the example's are qualified.

@Suite struct TodoExampleTests {
    let app = App(pages: [todoListPage, todoDetailPage])

    @Test func theFormRefusesAShortTitleAndAddsAGoodOne() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(TodoApp.TodoState.event.add(NewTodo(title: " x ")))
        #expect(try await tab.receiveError().fields == ["title": "Give the task a title of at least 3 characters"])
        tab.send(TodoApp.TodoState.event.add(NewTodo(title: "  Buy milk ", due: "2027-01-02")))
        let added = try await tab.receive()
        #expect(added.commands == [.toast("Added “Buy milk”", kind: .success)])
        let todos = try await tab.state(TodoApp.TodoState.self).todos
        #expect(todos == [TodoApp.Todo(id: 1, title: "Buy milk", notes: "", due: "2027-01-02", done: false)])
        tab.send(TodoApp.TodoState.event.add(NewTodo(title: "Buy milk")))
        #expect(try await tab.receiveError().fields["title"] == "There is a task with this title already")
    }

    @Test func theDialogEditsATitleAndFocusesItsField() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(TodoApp.TodoState.event.add(NewTodo(title: "Call mum")))
        _ = try await tab.receive()
        tab.send(TodoApp.TodoState.event.edit(1))
        let opened = try await tab.receive()
        #expect(opened.delta["todo_state"]?["editing"] == true)
        #expect(opened.commands == [.focus("edit-title")])
        tab.send(TodoApp.TodoState.event.setDraftTitle("Call dad"))
        tab.send(TodoApp.TodoState.event.saveEdit)
        await tab.settle()
        let state = try await tab.state(TodoApp.TodoState.self)
        #expect(state.todos.map(\.title) == ["Call dad"])
        #expect(state.editing == false)
    }

    @Test func theDetailPageFindsItsTaskByTheRoute() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(TodoApp.TodoState.event.add(NewTodo(title: "Read *docs*", notes: "See **the guide**")))
        tab.navigate(to: "/todo/1")
        await tab.settle()
        var state = try await tab.state(TodoApp.TodoState.self)
        #expect(state.found && state.detailTitle == "Read *docs*" && state.detailDue == "not set")
        tab.navigate(to: "/todo/99")
        await tab.settle()
        state = try await tab.state(TodoApp.TodoState.self)
        #expect(!state.found)
    }

    @Test func theImportAddsTheSamplesAndCanBeStopped() async throws {
        let tab = try await TestTab.connected(to: app)
        tab.send(TodoApp.TodoState.event.startImport)
        await tab.settle()
        let state = try await tab.state(TodoApp.TodoState.self)
        #expect(state.todos.map(\.title) == TodoApp.TodoState.samples)
        #expect(state.imported == 5 && !state.importing)
        tab.send(TodoApp.TodoState.event.startImport)
        tab.send(TodoApp.TodoState.event.stopImport)
        await tab.settle()
        #expect(try await tab.state(TodoApp.TodoState.self).importing == false)
    }
}
