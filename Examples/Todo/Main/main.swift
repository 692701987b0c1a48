// Runs the todo example: swift run Todo, then open http://127.0.0.1:8000.
// A form with validation, a table, an edit dialog, a detail page per task, and a background import.

import Rill
import RillServer
import TodoApp

try await App.serve(pages: [todoListPage, todoDetailPage])
