// The app the browser tests drive: one page per feature (commands, forms, inputs…); memory
// state, or Redis with `--redis`.

import Rill
import RillRedis
import RillServer

try await App.serve(
    pages: [
        commandsPage, elsewherePage, formsPage, inputsPage, routesPage, postPage, newPostPage, guardedPage, triggersPage,
        everythingPage, clientPage, prefsPage, tallyPage,
    ],
    routes: [HTTPRoute("/plain") { "a plain route" }],
    store: RedisStore.self)
