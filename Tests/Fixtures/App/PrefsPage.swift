// The preferences page: vars kept in localStorage and in a cookie, restored into a new tab.

import Rill

@LiveState
struct PrefsState {
    var theme = "light"
    var language = "en"
    var visits = 0

    static let browserStorage = [
        BrowserStorage.local(Self.$theme, key: "theme"),
        BrowserStorage.cookie(Self.$language, name: "lang"),
        BrowserStorage.local(Self.$visits, key: "visits"),
    ]

    mutating func french() { language = "fr" }
    mutating func visit() { visits += 1 }
}

let prefsPage = Page("/prefs", title: "Preferences") {
    VStack {
        Input(value: PrefsState.$theme, onChange: PrefsState.event.setTheme).id("theme")
        Button("French", onClick: PrefsState.event.french).id("french")
        Button("Visit", onClick: PrefsState.event.visit).id("visit")
        Text(PrefsState.$theme, " ", PrefsState.$language, " ", PrefsState.$visits).id("shown")
    }
}
