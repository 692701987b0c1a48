// Runs the seed's first example: swift run BackgroundTask, then open http://127.0.0.1:8000.

import Rill
import RillServer
import SeedExamples

let page = Page("/", title: "Background task") { backgroundTaskExample() }
try await App.serve(pages: [page])
