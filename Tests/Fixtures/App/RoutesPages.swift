// Pages with a dynamic route, on-load events (one chaining a task, one redirecting) and links between them.

import Rill

@LiveState
struct RoutesState {
    var visits = 0
    var heading = ""
    var comments = ""

    mutating func openPost() -> EventSpec {
        visits += 1
        heading = "Post \(router.params["id"] ?? "?") on tab \(router.query["tab"] ?? "-")"
        return Self.event.loadComments
    }

    mutating func guardPage() { emit(.redirect(to: "/routes?from=guarded")) }

    @Background
    private func loadComments(_: BackgroundRun) async throws {
        let id = try await getState(RouteState.self).params["id"] ?? "?"
        try await withState { $0.comments = "comments of \(id)" }
    }
}

let routesPage = Page("/routes", title: "Routes") {
    VStack {
        Heading("Routes").id("routes")
        Link("Post 7", href: "/post/7?tab=2").id("to-post")
        Link("New post", href: "/post/new").id("to-new")
        Link("Nowhere", href: "/nowhere").id("to-nowhere")
        Link("Guarded", href: "/guarded").id("to-guarded")
        Link("Plain", href: "/plain").id("to-plain")
        Text("from ", RouteState.$query["from"]).id("from")
    }
}

let postPage = Page("/post/:id", title: "Post", onLoad: [RoutesState.event.openPost]) {
    VStack {
        Heading(RoutesState.$heading).id("heading")
        Text(RouteState.$params["id"]).id("post-id")
        Text(RoutesState.$comments).id("comments")
        Text(RoutesState.$visits).id("visits")
        Link("Back to routes", href: "/routes").id("to-routes")
    }
}

let newPostPage = Page("/post/new", title: "New post") {
    Heading("Write a post").id("new-post")
}

let guardedPage = Page("/guarded", title: "Guarded", onLoad: [RoutesState.event.guardPage]) {
    Heading("You should not stay here").id("guarded")
}
