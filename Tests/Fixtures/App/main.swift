// The app the browser tests drive: one page per feature (commands, forms, inputs…), memory state.

import Rill
import RillServer

try await App.serve(
    pages: [
        commandsPage, elsewherePage, formsPage, inputsPage, routesPage, postPage, newPostPage, guardedPage, triggersPage,
        everythingPage, clientPage, prefsPage,
    ],
    routes: [HTTPRoute("/plain") { "a plain route" }])
