// Runs the seed's second example: swift run LowLevel, then open http://127.0.0.1:8000.

import Rill
import RillServer
import SeedExamples

let page = Page("/", title: "Low-level API") { lowLevelExample() }
try await App.serve(pages: [page], routes: [HTTPRoute("/zen") { ZenLines.random() + "\n" }])
