// The forms page: a sign-up form with every named control, validation, a slow submit and a reset.

import Rill

struct SignUp: Codable, Sendable {
    var email: String
    var name: String
    var password: String
    var age: Int?
    var plan: String?
    var size: String
    var terms: Bool
    var news: Bool
    var bio: String
    var start: String
    var volume: Int
}

@LiveState
struct FormsState {
    var welcome = ""
    var submissions = 0

    mutating func signUp(_ form: SignUp) async throws {
        var problems: [String: String] = [:]
        if !form.email.contains("@") { problems["email"] = "Enter an email address" }
        if !form.terms { problems["terms"] = "Accept the terms" }
        if form.plan == nil { problems["plan"] = "Pick a plan" }
        if form.password.count < 4 { problems["password"] = "Use at least 4 characters" }
        if !problems.isEmpty { throw FieldErrors(problems) }
        // Holds the tab's lock a moment, so a test can see the form wait for its answer.
        if form.name == "slow" { try await Task.sleep(for: .seconds(1.5)) }
        submissions += 1
        welcome = [
            form.name, form.email, form.age.map(String.init) ?? "-", form.plan ?? "-", form.size,
            "\(form.terms)", "\(form.news)", form.bio, form.start, "\(form.volume)",
        ].joined(separator: "|")
    }
}

let formsPage = Page("/forms", title: "Forms") {
    VStack {
        Form(onSubmit: FormsState.event.signUp, resetOnSuccess: true) {
            Input(name: "email", label: "Email", placeholder: "you@example.com", autocomplete: "email").id("email")
            Input(name: "name", label: "Name", initial: "Ada").id("name")
            PasswordInput(name: "password", label: "Password").id("password")
            NumberInput(name: "age", label: "Age", as: Int.self, min: 0).id("age")
            RadioGroup(name: "plan", options: ["free", "pro"], labels: ["pro": "Pro (paid)"]).id("plan")
            Select(name: "size", label: "Size", options: ["small", "medium", "large"], initial: "medium").id("size")
            Checkbox(name: "terms", label: "I accept the terms").id("terms")
            Switch(name: "news", label: "Newsletter", initial: true).id("news")
            TextArea(name: "bio", label: "About you", rows: 2).id("bio")
            DateInput(name: "start", label: "Start").id("start")
            Slider(name: "volume", label: "Volume", min: 0, max: 10, initial: 5).id("volume")
            SubmitButton("Sign up").id("submit")
        }
        Text(FormsState.$welcome).id("welcome")
        Text(FormsState.$submissions).id("submissions")
    }
}
