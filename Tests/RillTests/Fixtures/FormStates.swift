// A state with a form handler that validates, and vars for each bound input.

import Rill

struct Survey: Codable, Sendable, Equatable {
    var email: String
    var age: Int?
    var agree: Bool
}

@LiveState
struct SurveyState {
    var answers: [Survey] = []
    var color = "red"
    var colors = ["red", "blue"]
    var level = 3

    mutating func submit(_ survey: Survey) throws {
        var problems: [String: String] = [:]
        if !survey.email.contains("@") { problems["email"] = "Enter an email address" }
        if !survey.agree { problems["agree"] = "Agree to go on" }
        if !problems.isEmpty { throw FieldErrors(problems) }
        answers.append(survey)
    }
}
