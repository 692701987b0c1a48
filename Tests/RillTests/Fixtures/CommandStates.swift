// A state whose handlers and task ask the page to do things: toasts, focus, redirects, downloads.

import Rill

@LiveState
struct NoteState {
    var title = ""
    var saved = false

    mutating func save() {
        saved = true
        emit(.toast("Saved", kind: .success))
        emit(.focus("title"))
    }

    mutating func saveThenFail() throws {
        saved = true
        emit(.toast("Saved"))
        throw NoteError()
    }

    mutating func leave(to url: String) {
        title = "leaving"
        emit(.redirect(to: url))
    }

    mutating func export() {
        emit(.download(data: Array(title.utf8), filename: "\(title).txt", mimeType: "text/plain"))
    }

    @Background
    private func publish(_: BackgroundRun) async throws {
        emit(.toast("Publishing…"))
        try await withState { s in
            s.saved = true
            s.emit(.setTitle("Published"))
        }
    }
}

struct NoteError: Error, CustomStringConvertible {
    var description: String { "the note could not be saved" }
}
