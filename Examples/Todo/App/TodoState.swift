// The todo list's state: tasks, the form that adds them, the dialog that edits one, and a background import.

import Rill

/// One task.
public struct Todo: Codable, Sendable, Equatable {
    public var id: Int
    public var title: String
    public var notes: String
    public var due: String
    public var done: Bool
}

/// What the add form sends.
public struct NewTodo: Codable, Sendable {
    public var title: String
    public var notes: String
    public var due: String

    public init(title: String, notes: String = "", due: String = "") {
        self.title = title
        self.notes = notes
        self.due = due
    }
}

/// The list, the task being edited, the task a detail page shows, and the import's progress.
@LiveState
public struct TodoState {
    var todos: [Todo] = []
    @Backend var nextID = 1
    /// The task the edit dialog works on; the dialog shows while `editing` holds.
    var editing = false
    @Backend var editingID = 0
    var draftTitle = ""
    /// The task `/todo/:id` shows, set by the page's onLoad.
    var found = false
    var detailTitle = ""
    var detailDue = ""
    @Backend var detailNotesText = ""
    var imported = 0
    var importing = false

    @Computed var openCount: Int { todos.filter { !$0.done }.count }
    @Computed var detailNotes: MarkdownDocument { MarkdownDocument(detailNotesText) }

    public init() {}

    mutating func add(_ form: NewTodo) throws {
        let title = form.title.trimmed
        var problems: [String: String] = [:]
        if title.count < 3 { problems["title"] = "Give the task a title of at least 3 characters" }
        if todos.contains(where: { $0.title == title }) { problems["title"] = "There is a task with this title already" }
        if !form.due.isEmpty, !form.due.isISODate { problems["due"] = "Pick a date" }
        if !problems.isEmpty { throw FieldErrors(problems) }
        todos.append(Todo(id: nextID, title: title, notes: form.notes, due: form.due, done: false))
        nextID += 1
        emit(.toast("Added “\(title)”", kind: .success))
    }

    mutating func toggle(_ id: Int) {
        if let index = todos.firstIndex(where: { $0.id == id }) { todos[index].done.toggle() }
    }

    mutating func remove(_ id: Int) {
        todos.removeAll { $0.id == id }
    }

    mutating func edit(_ id: Int) {
        guard let todo = todos.first(where: { $0.id == id }) else { return }
        editingID = id
        draftTitle = todo.title
        editing = true
        emit(.focus("edit-title"))
    }

    mutating func saveEdit() throws {
        let title = draftTitle.trimmed
        guard title.count >= 3 else { throw FieldErrors(field: "title", "Give the task a title of at least 3 characters") }
        if let index = todos.firstIndex(where: { $0.id == editingID }) { todos[index].title = title }
        editing = false
    }

    mutating func cancelEdit() { editing = false }

    /// onLoad of `/todo/:id`.
    mutating func open() {
        let id = Int(router.params["id"] ?? "")
        let todo = todos.first { $0.id == id }
        found = todo != nil
        detailTitle = todo?.title ?? ""
        detailDue = todo.map { $0.due.isEmpty ? "not set" : $0.due } ?? ""
        detailNotesText = todo?.notes ?? ""
    }

    mutating func startImport() -> EventSpec? {
        guard !importing else { return nil }
        importing = true
        imported = 0
        return Self.event.importSamples.cancellable(id: "import")
    }

    mutating func stopImport() { cancelTasks(id: "import") }

    /// Adds the sample tasks one by one, as a slow source would deliver them.
    @Background
    private func importSamples(_: BackgroundRun) async throws {
        try await withCleanup {
            for (index, title) in Self.samples.enumerated() {
                try await sleep(for: .milliseconds(300))
                try await withState { s in
                    if !s.todos.contains(where: { $0.title == title }) {
                        s.todos.append(Todo(id: s.nextID, title: title, notes: "Imported *sample* task.", due: "", done: false))
                        s.nextID += 1
                    }
                    s.imported = index + 1
                }
            }
        } cleanup: { s in
            s.importing = false
        }
    }

    static let samples = ["Water the plants", "Call the bank", "Book the dentist", "Renew the passport", "Back up the laptop"]
}

extension String {
    fileprivate var trimmed: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }

    /// `yyyy-mm-dd`, as a date input sends it.
    fileprivate var isISODate: Bool {
        let parts = split(separator: "-")
        return parts.count == 3 && parts[0].count == 4 && parts[1].count == 2 && parts[2].count == 2
            && parts.allSatisfy { $0.allSatisfy(\.isNumber) }
    }
}
