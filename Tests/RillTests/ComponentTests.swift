// Components compile to the node JSON of docs/page-format.md, and pages to their JSON and HTML shell.

import Rill
import SeedExamples
import Synchronization
import Testing

struct Owner: Codable, Equatable, Sendable {
    var name: String
}

struct Todo: Codable, Equatable, Sendable {
    var id: Int
    var title: String
    var done: Bool
    var owner: Owner
    var tags: [String]
}

struct Month: Codable, Equatable, Sendable {
    var name: String
    var total: Double
}

@LiveState
struct TodoState {
    var todos: [Todo] = []
    var draft = ""
    var months: [Month] = []
    var readings: [Double] = [1, 2.5]
    var note = "</script><b>bold</b>"
    var busy = false
    var progress = 0.25

    mutating func remove(_ id: Int) { todos.removeAll { $0.id == id } }
    mutating func toggle(_ id: Int) {
        for index in todos.indices where todos[index].id == id { todos[index].done.toggle() }
    }
    mutating func add() { draft = "" }
    mutating func rename(title: String) { draft = title }
}

@LiveState
struct PriceState {
    var price = 2
    var quantity = 3

    @Computed var total: Int { price * quantity }
}

@LiveState
struct ThemeState {
    var accent = "blue"
}

@LiveState
struct PingState {
    var pings = 0
    mutating func ping() { pings += 1 }
}

/// The root node of a page made of `content`.
private func root(@ComponentBuilder _ content: () -> some Component) -> JSON {
    Page("/", title: "Test") { content() }.json["root"] ?? nil
}

private func parse(_ text: String) -> JSON {
    do {
        return try JSON(parsing: text)
    } catch {
        Issue.record("the expected JSON does not parse: \(error)")
        return nil
    }
}

private func text(_ value: JSON) -> JSON {
    ["kind": "text", "value": value]
}

private func span(_ children: JSON...) -> JSON {
    ["kind": "element", "tag": "span", "class": "rill-text", "children": .array(children)]
}

private func item(_ path: String..., depth: Int = 0) -> JSON {
    ["item": .array(path.map(JSON.string)), "depth": .int(depth)]
}

private let bodyCalls = Atomic(0)

/// Counts how often its body is compiled.
private struct Counted: Component {
    var body: some Component {
        bodyCalls.add(1, ordering: .relaxed)
        return Text("counted")
    }
}

/// A component of two nodes, to see modifiers reach each.
private struct Pair: Component {
    var body: some Component {
        Text("one")
        Text("two")
    }
}

@Suite struct ComponentTests {
    @Test func seedExampleCompilesToTheDocumentedTree() {
        let page = Page("/", title: "Background task") { backgroundTaskExample() }
        let expected = parse(#"""
            {"kind": "element", "tag": "div", "class": "rill-hstack", "children": [
              {"kind": "element", "tag": "h2", "class": "rill-heading", "children": [
                {"kind": "text", "value": {"var": "my_task_state.counter"}},
                {"kind": "text", "value": " /"}]},
              {"kind": "element", "tag": "input", "class": "rill-number-input",
               "attrs": {"type": "number"},
               "props": {"value": {"var": "my_task_state.max_counter"}},
               "style": {"width": "8em"},
               "on": {"change": {"event": "my_task_state.set_max_counter", "payload": {}, "field": "value", "valueType": "int"}}},
              {"kind": "element", "tag": "button", "class": "rill-button", "attrs": {"type": "button"},
               "on": {"click": {"event": "my_task_state.toggle_running", "payload": {}}},
               "children": [{"kind": "text", "value":
                 {"op": "cond", "args": [{"op": "not", "args": [{"var": "my_task_state.running"}]}, "Start", "Stop"]}}]},
              {"kind": "element", "tag": "button", "class": "rill-button", "attrs": {"type": "button"},
               "on": {"click": {"event": "my_task_state.clear_counter", "payload": {}}},
               "children": [{"kind": "text", "value": "Reset"}]}
            ]}
            """#)
        #expect(page.json["root"] == expected)
        #expect(page.json["title"] == "Background task")
        #expect(page.json["path"] == "/")
        #expect(page.json["socket"] == "/_rill/socket")
        #expect(page.json["initial"] == ["my_task_state": ["counter": 0, "max_counter": 10, "running": false]])
        #expect(page.states.map { $0.fullName } == ["my_task_state"])
        #expect(page.states.first == MyTaskState.self)
    }

    @Test func pageIsCompiledOnce() {
        let before = bodyCalls.load(ordering: .relaxed)
        let page = Page("/", title: "Once") { Counted() }
        _ = page.html()
        _ = page.html(nonce: "n")
        _ = page.json
        #expect(bodyCalls.load(ordering: .relaxed) - before == 1)
    }

    @Test func textHeadingLinkAndLayout() {
        let json = root {
            VStack {
                Heading(level: 1, "Todos: ", TodoState.$todos.count)
                Text("Pi is ", 3.5, ", answer ", 42)
                Link("Docs", href: "/docs")
                Link("Mine", href: "/u/" + TodoState.$draft)
                Spacer()
                Divider()
            }
        }
        let expected = parse(#"""
            {"kind": "element", "tag": "div", "class": "rill-vstack", "children": [
              {"kind": "element", "tag": "h1", "class": "rill-heading", "children": [
                {"kind": "text", "value": "Todos: "},
                {"kind": "text", "value": {"op": "len", "args": [{"var": "todo_state.todos"}]}}]},
              {"kind": "element", "tag": "span", "class": "rill-text", "children": [
                {"kind": "text", "value": "Pi is "}, {"kind": "text", "value": 3.5},
                {"kind": "text", "value": ", answer "}, {"kind": "text", "value": 42}]},
              {"kind": "element", "tag": "a", "class": "rill-link", "attrs": {"href": "/docs"},
               "children": [{"kind": "text", "value": "Docs"}]},
              {"kind": "element", "tag": "a", "class": "rill-link",
               "attrs": {"href": {"op": "add", "args": ["/u/", {"var": "todo_state.draft"}]}},
               "children": [{"kind": "text", "value": "Mine"}]},
              {"kind": "element", "tag": "div", "class": "rill-spacer"},
              {"kind": "element", "tag": "hr", "class": "rill-divider"}
            ]}
            """#)
        #expect(json == expected)
    }

    @Test func inputsAndTheirHandlers() {
        let json = root {
            Input(
                value: TodoState.$draft, placeholder: "What needs doing?", debounce: .milliseconds(300),
                onChange: TodoState.event.setDraft, onSubmit: TodoState.event.add)
            Input(value: TodoState.$draft, onChange: TodoState.event.rename)
            Checkbox(checked: TodoState.$busy, label: "Busy", onChange: TodoState.event.setBusy)
            NumberInput(value: TodoState.$progress, min: 0, max: 1, onChange: TodoState.event.setProgress)
            Progress(value: TodoState.$progress, max: 1)
            Progress(value: MyTaskState.$counter, max: MyTaskState.$maxCounter)
        }
        let expected = parse(#"""
            {"kind": "element", "tag": "div", "style": {"display": "contents"}, "children": [
              {"kind": "element", "tag": "input", "class": "rill-input",
               "attrs": {"type": "text", "placeholder": "What needs doing?"},
               "props": {"value": {"var": "todo_state.draft"}},
               "on": {
                 "input": {"event": "todo_state.set_draft", "payload": {}, "field": "value", "valueType": "string", "debounce": 300},
                 "submit": {"event": "todo_state.add", "payload": {}}}},
              {"kind": "element", "tag": "input", "class": "rill-input",
               "attrs": {"type": "text"},
               "props": {"value": {"var": "todo_state.draft"}},
               "on": {"input": {"event": "todo_state.rename", "payload": {}, "field": "title", "valueType": "string"}}},
              {"kind": "element", "tag": "label", "class": "rill-checkbox", "children": [
                {"kind": "element", "tag": "input", "attrs": {"type": "checkbox"},
                 "props": {"checked": {"var": "todo_state.busy"}},
                 "on": {"change": {"event": "todo_state.set_busy", "payload": {}, "field": "value", "valueType": "bool"}}},
                {"kind": "text", "value": "Busy"}]},
              {"kind": "element", "tag": "input", "class": "rill-number-input",
               "attrs": {"type": "number", "min": 0.0, "max": 1.0, "step": "any"},
               "props": {"value": {"var": "todo_state.progress"}},
               "on": {"change": {"event": "todo_state.set_progress", "payload": {}, "field": "value", "valueType": "double"}}},
              {"kind": "element", "tag": "progress", "class": "rill-progress",
               "attrs": {"max": 1.0}, "props": {"value": {"var": "todo_state.progress"}}},
              {"kind": "element", "tag": "progress", "class": "rill-progress",
               "attrs": {"max": {"var": "my_task_state.max_counter"}}, "props": {"value": {"var": "my_task_state.counter"}}}
            ]}
            """#)
        #expect(json == expected)
    }

    @Test func aFormSendsItsNamedFieldsAsOneArgumentAndIdsReachTheControls() {
        let json = root {
            Form(onSubmit: SurveyState.event.submit, resetOnSuccess: true) {
                Input(name: "email", label: "Email").id("email")
                NumberInput(name: "age", as: Int.self)
                Checkbox(name: "agree", label: "I agree", initial: true).id("agree")
                SubmitButton("Send")
            }
        }
        let expected = parse(#"""
            {"kind": "element", "tag": "form", "class": "rill-form", "attrs": {"data-rill-reset": true},
             "on": {"submit": {"event": "survey_state.submit", "payload": {}, "field": "survey", "valueType": "form"}},
             "children": [{"kind": "element", "tag": "fieldset", "class": "rill-form-body", "children": [
               {"kind": "element", "tag": "label", "class": "rill-field", "children": [
                 {"kind": "element", "tag": "span", "class": "rill-field-label", "children": [{"kind": "text", "value": "Email"}]},
                 {"kind": "element", "tag": "input", "class": "rill-input",
                  "attrs": {"type": "text", "name": "email", "data-rill-type": "string", "id": "email"}}]},
               {"kind": "element", "tag": "input", "class": "rill-number-input",
                "attrs": {"type": "number", "name": "age", "data-rill-type": "int"}},
               {"kind": "element", "tag": "label", "class": "rill-checkbox", "children": [
                 {"kind": "element", "tag": "input",
                  "attrs": {"type": "checkbox", "name": "agree", "data-rill-type": "bool", "checked": true, "id": "agree"}},
                 {"kind": "text", "value": "I agree"}]},
               {"kind": "element", "tag": "button", "class": "rill-button", "attrs": {"type": "submit"},
                "children": [{"kind": "text", "value": "Send"}]}
             ]}]}
            """#)
        #expect(json == expected)
    }

    @Test func boundChoicesFollowTheirVarsAndSlidersThrottle() {
        let json = root {
            RadioGroup(value: SurveyState.$color, options: ["red", "blue"], onChange: SurveyState.event.setColor)
            Select(value: SurveyState.$color, options: SurveyState.$colors, onChange: SurveyState.event.setColor)
            Slider(value: SurveyState.$level, min: 0, max: 5, throttle: .milliseconds(50), onChange: SurveyState.event.setLevel)
        }
        let setColor = #"{"event": "survey_state.set_color", "payload": {}, "field": "value", "valueType": "string"}"#
        let radio = { (option: String) in
            #"""
            {"kind": "element", "tag": "label", "class": "rill-radio", "children": [
              {"kind": "element", "tag": "input", "attrs": {"type": "radio", "value": "\#(option)", "name": "survey_state.set_color.value"},
               "props": {"checked": {"op": "eq", "args": [{"var": "survey_state.color"}, "\#(option)"]}},
               "on": {"change": \#(setColor)}},
              {"kind": "text", "value": "\#(option)"}]}
            """#
        }
        let expected = parse(#"""
            {"kind": "element", "tag": "div", "style": {"display": "contents"}, "children": [
              {"kind": "element", "tag": "div", "class": "rill-radio-group", "attrs": {"role": "radiogroup"},
               "children": [\#(radio("red")), \#(radio("blue"))]},
              {"kind": "element", "tag": "select", "class": "rill-select",
               "props": {"value": {"var": "survey_state.color"}}, "on": {"change": \#(setColor)},
               "children": [{"kind": "foreach", "each": {"var": "survey_state.colors"}, "item":
                 {"kind": "element", "tag": "option", "attrs": {"value": {"item": [], "depth": 0}},
                  "children": [{"kind": "text", "value": {"item": [], "depth": 0}}]}}]},
              {"kind": "element", "tag": "input", "class": "rill-slider",
               "attrs": {"type": "range", "min": 0, "max": 5}, "props": {"value": {"var": "survey_state.level"}},
               "on": {"input": {"event": "survey_state.set_level", "payload": {}, "field": "value", "valueType": "int", "throttle": 50},
                      "change": {"event": "survey_state.set_level", "payload": {}, "field": "value", "valueType": "int"}}}
            ]}
            """#)
        #expect(json == expected)
    }

    @Test func clientActionsAreStepsBeforeAnOptionalEvent() {
        let json = root {
            Button("Open", onClick: ClientAction.show("panel").then(.addClass("open", to: "panel")).then(SurveyState.event.setColor("blue")))
            Text("Tip").on(.keyDown("Escape"), .hide("panel"))
        }
        let expected = parse(#"""
            {"kind": "element", "tag": "div", "style": {"display": "contents"}, "children": [
              {"kind": "element", "tag": "button", "class": "rill-button", "attrs": {"type": "button"},
               "on": {"click": {"event": "survey_state.set_color", "payload": {"value": "blue"},
                                "client": [{"op": "show", "id": "panel"}, {"op": "add_class", "id": "panel", "class": "open"}]}},
               "children": [{"kind": "text", "value": "Open"}]},
              {"kind": "element", "tag": "span", "class": "rill-text",
               "on": {"keydown:Escape": {"payload": {}, "client": [{"op": "hide", "id": "panel"}]}},
               "children": [{"kind": "text", "value": "Tip"}]}
            ]}
            """#)
        #expect(json == expected)
    }

    @Test func buttonsSendFixedPayloadsAndTakeAnyLabel() {
        let json = root {
            Button("Remove 3", onClick: TodoState.event.remove(3))
            Button(onClick: PingState.event.ping) {
                Text("Ping")
                Text(PingState.$pings)
            }
        }
        let expected = parse(#"""
            {"kind": "element", "tag": "div", "style": {"display": "contents"}, "children": [
              {"kind": "element", "tag": "button", "class": "rill-button", "attrs": {"type": "button"},
               "on": {"click": {"event": "todo_state.remove", "payload": {"id": 3}}},
               "children": [{"kind": "text", "value": "Remove 3"}]},
              {"kind": "element", "tag": "button", "class": "rill-button", "attrs": {"type": "button"},
               "on": {"click": {"event": "ping_state.ping", "payload": {}}},
               "children": [
                 {"kind": "element", "tag": "span", "class": "rill-text", "children": [{"kind": "text", "value": "Ping"}]},
                 {"kind": "element", "tag": "span", "class": "rill-text", "children": [{"kind": "text", "value": {"var": "ping_state.pings"}}]}]}
            ]}
            """#)
        #expect(json == expected)
    }

    @Test func condAsComponent() {
        let withElse = root {
            Cond(TodoState.$todos.count == 0) {
                Text("Nothing to do")
            } else: {
                Text("Left: ")
                Text(TodoState.$todos.count)
            }
        }
        let expected = parse(#"""
            {"kind": "cond",
             "test": {"op": "eq", "args": [{"op": "len", "args": [{"var": "todo_state.todos"}]}, 0]},
             "then": {"kind": "element", "tag": "span", "class": "rill-text", "children": [{"kind": "text", "value": "Nothing to do"}]},
             "else": {"kind": "element", "tag": "div", "style": {"display": "contents"}, "children": [
               {"kind": "element", "tag": "span", "class": "rill-text", "children": [{"kind": "text", "value": "Left: "}]},
               {"kind": "element", "tag": "span", "class": "rill-text", "children": [
                 {"kind": "text", "value": {"op": "len", "args": [{"var": "todo_state.todos"}]}}]}]}}
            """#)
        #expect(withElse == expected)

        let withoutElse = root {
            Cond(TodoState.$busy) { Text("Busy") }
        }
        #expect(withoutElse == ["kind": "cond", "test": ["var": "todo_state.busy"], "then": span(text("Busy"))])
    }

    @Test func forEachWithKeyItemFieldsIndexAndItemPayloads() {
        let json = root {
            ForEach(items: TodoState.$todos, id: \.id) { todo, index in
                HStack {
                    Text(index + 1, ". ", todo.title, " by ", todo.owner.name)
                    Checkbox(checked: todo.done, label: todo.title, onChange: TodoState.event.toggle(todo.id))
                    Button("Delete", onClick: TodoState.event.remove(todo.id))
                        .disabled(todo.done || TodoState.$busy)
                }
            }
        }
        let expected = parse(#"""
            {"kind": "element", "tag": "div", "class": "rill-foreach", "children": [
              {"kind": "foreach", "each": {"var": "todo_state.todos"}, "key": "id", "item":
                {"kind": "element", "tag": "div", "class": "rill-hstack", "children": [
                  {"kind": "element", "tag": "span", "class": "rill-text", "children": [
                    {"kind": "text", "value": {"op": "add", "args": [{"index": 0, "depth": 0}, 1]}},
                    {"kind": "text", "value": ". "},
                    {"kind": "text", "value": {"item": ["title"], "depth": 0}},
                    {"kind": "text", "value": " by "},
                    {"kind": "text", "value": {"item": ["owner", "name"], "depth": 0}}]},
                  {"kind": "element", "tag": "label", "class": "rill-checkbox", "children": [
                    {"kind": "element", "tag": "input", "attrs": {"type": "checkbox"},
                     "props": {"checked": {"item": ["done"], "depth": 0}},
                     "on": {"change": {"event": "todo_state.toggle", "payload": {"id": {"item": ["id"], "depth": 0}}}}},
                    {"kind": "text", "value": {"item": ["title"], "depth": 0}}]},
                  {"kind": "element", "tag": "button", "class": "rill-button", "attrs": {"type": "button"},
                   "props": {"disabled": {"op": "or", "args": [{"item": ["done"], "depth": 0}, {"var": "todo_state.busy"}]}},
                   "on": {"click": {"event": "todo_state.remove", "payload": {"id": {"item": ["id"], "depth": 0}}}},
                   "children": [{"kind": "text", "value": "Delete"}]}
                ]}}
            ]}
            """#)
        #expect(json == expected)
    }

    @Test func nestedForEachRefersToOuterItemsByDepth() {
        let json = root {
            ForEach(items: TodoState.$todos) { todo, outerIndex in
                // Built in the outer template, used in the inner one: its depth is where it is used.
                let title = todo.title
                ForEach(items: todo.tags, id: \.self) { tag, innerIndex in
                    Text(tag, title, innerIndex, outerIndex)
                }
            }
        }
        let inner: JSON = [
            "kind": "element", "tag": "div", "class": "rill-foreach",
            "children": [[
                "kind": "foreach", "each": item("tags"),
                "item": span(
                    text(item()), text(item("title", depth: 1)),
                    text(["index": 0, "depth": 0]), text(["index": 1, "depth": 1])),
            ]],
        ]
        let expected: JSON = [
            "kind": "element", "tag": "div", "class": "rill-foreach",
            "children": [["kind": "foreach", "each": ["var": "todo_state.todos"], "item": inner]],
        ]
        #expect(json == expected)
    }

    @Test func builderHandlesIfElseOptionalsAndLoops() {
        let show = true
        let hide = false
        let names: [String?] = ["a", nil, "b"]
        let footer: Text? = Text("footer")
        let missing: Text? = nil
        let json = root {
            VStack {
                if show { Text("shown") }
                if hide { Text("hidden") }
                if hide { Text("then") } else { Text("else") }
                for name in names {
                    if let name { Text(name) }
                }
                Pair()
                footer
                missing
            }
        }
        let expected: JSON = [
            "kind": "element", "tag": "div", "class": "rill-vstack",
            "children": [
                span(text("shown")), span(text("else")), span(text("a")), span(text("b")),
                span(text("one")), span(text("two")), span(text("footer")),
            ],
        ]
        #expect(json == expected)
    }

    @Test func modifiersSetStylesClassesAndIds() {
        let json = root {
            Text("x")
                .width("8em").height("2em").padding("1em").margin("0")
                .color("red").background("#fff").fontSize("2rem").fontWeight("bold")
                .gap("4px").align(.center)
                .style("border", "1px solid")
                .style("color", Cond(TodoState.$busy, "gray", "black"))
                .class("a").class("b")
                .id("main")
        }
        let expected = parse(#"""
            {"kind": "element", "tag": "span", "class": "rill-text a b", "attrs": {"id": "main"},
             "style": {"width": "8em", "height": "2em", "padding": "1em", "margin": "0",
                       "color": {"op": "cond", "args": [{"var": "todo_state.busy"}, "gray", "black"]},
                       "background": "#fff", "font-size": "2rem", "font-weight": "bold",
                       "gap": "4px", "align-items": "center", "border": "1px solid"},
             "children": [{"kind": "text", "value": "x"}]}
            """#)
        #expect(json == expected)
        #expect(root { Text("x").width(TodoState.$draft) }["style"] == ["width": ["var": "todo_state.draft"]])
    }

    @Test func modifiersReachEveryNodeOfAGroupAndBothBranchesOfACond() {
        let red: JSON = ["color": "red"]
        let group = root { Pair().color("red") }
        #expect(group["children"]?[0]?["style"] == red)
        #expect(group["children"]?[1]?["style"] == red)

        let cond = root {
            Cond(TodoState.$busy) { Text("a") } else: { Text("b") }
                .color("red")
        }
        #expect(cond["then"]?["style"] == red)
        #expect(cond["else"]?["style"] == red)
    }

    @Test func disabledReachesTheControlsInside() {
        let json = root {
            HStack {
                Button("Save", onClick: TodoState.event.add)
                Input(value: TodoState.$draft, onChange: TodoState.event.setDraft)
                Text("label")
            }
            .disabled(TodoState.$busy)
            Button("Never", onClick: TodoState.event.add).disabled()
        }
        let busy: JSON = ["var": "todo_state.busy"]
        let stack = json["children"]?[0]
        #expect(stack?["props"] == nil)
        #expect(stack?["children"]?[0]?["props"] == ["disabled": busy])
        #expect(stack?["children"]?[1]?["props"] == ["value": ["var": "todo_state.draft"], "disabled": busy])
        #expect(stack?["children"]?[2]?["props"] == nil)
        #expect(json["children"]?[1]?["props"] == ["disabled": true])
    }

    @Test func charts() {
        let json = root {
            Chart(.line, data: TodoState.$readings)
            Chart(.bar, data: TodoState.$months, x: \.name, y: \.total, width: 480, height: 200, color: "#3b82f6")
        }
        let expected = parse(#"""
            {"kind": "element", "tag": "div", "style": {"display": "contents"}, "children": [
              {"kind": "element", "tag": "div", "class": "rill-chart", "children": [
                {"kind": "chart", "chartKind": "line", "data": {"var": "todo_state.readings"}, "width": 300, "height": 150}]},
              {"kind": "element", "tag": "div", "class": "rill-chart", "children": [
                {"kind": "chart", "chartKind": "bar", "data": {"var": "todo_state.months"}, "x": "name", "y": "total",
                 "width": 480, "height": 200, "color": "#3b82f6"}]}
            ]}
            """#)
        #expect(json == expected)
    }

    @Test func pageListsEveryStateItUsesWithItsDefaults() {
        let page = Page("/all", title: "All") {
            Text("Accent").color(ThemeState.$accent)             // a var in a style only
            Button("Ping", onClick: PingState.event.ping)          // an event only
            Text(ChildState.$value)                              // a substate
            Text(PriceState.$total)                              // a computed var
            ForEach(items: TodoState.$readings) { reading in
                Text(reading)
            }
        }
        #expect(page.states.map { $0.fullName } == [
            "parent_state.child_state", "ping_state", "price_state", "theme_state", "todo_state",
        ])
        let initial = page.json["initial"]
        #expect(initial?["theme_state"] == ["accent": "blue"])
        #expect(initial?["ping_state"] == ["pings": 0])
        #expect(initial?["parent_state.child_state"] == ["value": 0])
        #expect(initial?["price_state"] == ["price": 2, "quantity": 3, "total": 6])
        #expect(initial?["todo_state"]?["readings"] == [1.0, 2.5])
        #expect(initial?["parent_state"] == nil)
    }

    @Test func htmlShellEscapesTheTitleAndKeepsTheJSONInsideItsScript() throws {
        let page = Page("/", title: "</script><b>Tom & \"Jerry\"</b>") { Text(TodoState.$note) }
        let html = page.html()
        #expect(html.contains("<title>&lt;/script&gt;&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;</title>"))
        #expect(!html.contains("<b>"))
        // One closing tag per script element: nothing in the JSON closes the data block early.
        #expect(html.split(separator: "</script>", omittingEmptySubsequences: false).count == 3)

        let opening = #"<script type="application/json" id="rill-page">"#
        let start = try #require(html.firstRange(of: opening)).upperBound
        let end = try #require(html[start...].firstRange(of: "</script>")).lowerBound
        let embedded = try JSON(parsing: String(html[start..<end]))
        #expect(embedded == page.json)
        #expect(embedded["initial"]?["todo_state"]?["note"] == "</script><b>bold</b>")

        #expect(html.hasPrefix("<!doctype html>\n<html lang=\"en\">\n<head>\n"))
        #expect(html.contains(#"<link rel="stylesheet" href="/_rill/rill.css">"#))
        #expect(html.contains(#"<script src="/_rill/rill.js" defer></script>"#))
        #expect(html.contains(#"<body><div id="rill-root"></div></body>"#))
    }

    @Test func htmlShellCarriesAnEscapedNonce() {
        let html = Page("/", title: "T") { Text("x") }.html(nonce: "abc\"><x")
        #expect(html.split(separator: #" nonce="abc&quot;&gt;&lt;x""#, omittingEmptySubsequences: false).count == 4)
        #expect(!html.contains("<x"))
    }
}
