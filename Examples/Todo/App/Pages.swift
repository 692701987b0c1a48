// The todo app's two pages: the list (with its form, table, dialog and import) and one task's details.

import Rill

/// The list at `/`.
public let todoListPage = Page("/", title: "Todos") {
    VStack {
        HStack {
            Heading(level: 1, "Todos")
            Badge(TodoState.$openCount, " open", tone: .info).id("open-count")
        }
        Form(onSubmit: TodoState.event.add, resetOnSuccess: true) {
            Input(name: "title", label: "Task", placeholder: "What needs doing?").id("new-title")
            DateInput(name: "due", label: "Due").id("new-due")
            TextArea(name: "notes", label: "Notes (Markdown)", rows: 2).id("new-notes")
            SubmitButton("Add").id("add")
        }
        Cond(TodoState.$todos.count == 0) {
            Text("Nothing to do.").id("empty")
        } else: {
            Table(rows: TodoState.$todos, id: \.id, columns: [
                Column("Done") { todo in Checkbox(checked: todo.done, onChange: TodoState.event.toggle(todo.id)) },
                Column("Task") { todo in Link(todo.title, href: concat("/todo/", todo.id)) },
                Column("Due", \.due),
                Column("") { todo in
                    HStack {
                        Button("Edit", onClick: TodoState.event.edit(todo.id))
                        Button("Delete", onClick: TodoState.event.remove(todo.id))
                    }
                },
            ]).id("todos")
        }
        HStack {
            Button(Cond(TodoState.$importing, "Importing…", "Import samples"), onClick: TodoState.event.startImport)
                .id("import").disabled(TodoState.$importing)
            Cond(TodoState.$importing) {
                Spinner(label: "Importing")
                Button("Stop", onClick: TodoState.event.stopImport).id("stop-import")
            }
            Progress(value: TodoState.$imported, max: 5).id("import-progress")
        }
        Dialog(isOpen: TodoState.$editing, title: "Edit task", onClose: TodoState.event.cancelEdit) {
            Input(value: TodoState.$draftTitle, onChange: TodoState.event.setDraftTitle, onSubmit: TodoState.event.saveEdit)
                .id("edit-title")
            HStack {
                Button("Save", onClick: TodoState.event.saveEdit).id("save-edit")
                Button("Cancel", onClick: TodoState.event.cancelEdit)
            }
        }
    }
}

/// One task at `/todo/:id`.
public let todoDetailPage = Page("/todo/:id", title: "Task", onLoad: [TodoState.event.open]) {
    VStack {
        Link("← All tasks", href: "/").id("back")
        Cond(TodoState.$found) {
            Heading(level: 1, TodoState.$detailTitle).id("detail-title")
            Text("Due: ", TodoState.$detailDue).id("detail-due")
            Markdown(TodoState.$detailNotes).id("detail-notes")
        } else: {
            Callout("No such task", tone: .warning) { Text("It may have been deleted.") }.id("missing")
        }
    }
}
