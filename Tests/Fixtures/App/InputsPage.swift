// The inputs page: each bound control beside the var it sets, for the browser tests.

import Rill

enum Size: String, Codable, CaseIterable, Sendable {
    case small, medium, large
}

@LiveState
struct InputsState {
    var bio = ""
    var secret = ""
    var day = ""
    var color = "red"
    var cities = ["Oslo", "Lima"]
    var city = "Lima"
    var size = Size.medium
    var answer = "no"
    var dark = false
    var volume = 30
    var slides = 0

    mutating func addCity() { cities.append("Kyoto") }

    mutating func slide(to value: Int) {
        volume = value
        slides += 1
    }
}

let inputsPage = Page("/inputs", title: "Inputs") {
    VStack {
        TextArea(value: InputsState.$bio, rows: 3, onChange: InputsState.event.setBio).id("bio")
        PasswordInput(value: InputsState.$secret, onChange: InputsState.event.setSecret).id("secret")
        DateInput(value: InputsState.$day, onChange: InputsState.event.setDay).id("day")
        Select(value: InputsState.$color, options: ["red", "green", "blue"], labels: ["blue": "Blue!"], onChange: InputsState.event.setColor).id("color")
        HStack {
            Select(value: InputsState.$city, options: InputsState.$cities, onChange: InputsState.event.setCity).id("city")
            Button("Add city", onClick: InputsState.event.addCity).id("add-city")
        }
        Select(value: InputsState.$size, label: { $0.rawValue.uppercased() }, onChange: InputsState.event.setSize).id("size")
        RadioGroup(value: InputsState.$answer, options: ["yes", "no", "maybe"], onChange: InputsState.event.setAnswer).id("answer")
        Switch(isOn: InputsState.$dark, label: "Dark", onChange: InputsState.event.setDark).id("dark")
        Slider(value: InputsState.$volume, min: 0, max: 100, throttle: .milliseconds(200), onChange: InputsState.event.slide).id("volume")
        Text(InputsState.$volume).id("volume-shown")
    }
}
