// Runs the seed's first example: swift run BackgroundTask, then open http://127.0.0.1:8000.
// States live in memory; with --redis redis://HOST:PORT they live in Redis and several processes share tabs.

import Rill
import RillRedis
import RillServer
import SeedExamples

let page = Page("/", title: "Background task") { backgroundTaskExample() }
try await App.serve(pages: [page], store: RedisStore.self)
