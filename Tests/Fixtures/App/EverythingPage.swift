// A page with every component, for the check that it renders under the strict CSP with no console errors.

import Rill

struct Order: Codable, Sendable, Equatable {
    var id: Int
    var customer: String
    var total: Double
    var shipped: Bool
}

@LiveState
struct ShowcaseState {
    var orders = [
        Order(id: 1, customer: "Ada", total: 12.5, shipped: false),
        Order(id: 2, customer: "Grace", total: 40, shipped: true),
    ]
    var editing = false
    var closes = 0
    var tab = "one"
    var notes = "**bold** and a [link](/routes)"
    var name = ""
    var agree = false
    var series = [1.0, 3.0, 2.0]
    @Computed var rendered: MarkdownDocument { MarkdownDocument(notes) }

    mutating func ship(_ id: Int) {
        if let index = orders.firstIndex(where: { $0.id == id }) { orders[index].shipped = true }
    }
    mutating func addOrder() { orders.insert(Order(id: orders.count + 1, customer: "Linus", total: 7, shipped: false), at: 0) }
    mutating func openDialog() { editing = true }
    mutating func closeDialog() {
        editing = false
        closes += 1
    }
    mutating func note(_ form: [String: JSON]) {}
}

let everythingPage = Page("/everything", title: "Everything") {
    VStack {
        Heading(level: 1, "Everything")
        HStack {
            Text("Plain text")
            Badge("new", tone: .success).id("badge")
        }
        Link("A link", href: "/routes")
        Image("/assets/dot.svg", alt: "A blue dot").id("dot")
        Spinner(label: "Working")
        Callout("Note", tone: .warning) { Text("Callouts hold any components.") }
        Tooltip("More about this") { Button("Hover me", onClick: ShowcaseState.event.addOrder) }
        Code("let answer = 42\nprint(answer)", language: "swift")
        Markdown("# Static\nSome *emphasis*, `code`, a <script>alert(1)</script> and <b>raw</b> HTML.\n\n- one\n- two")
            .id("static-markdown")
        Markdown(ShowcaseState.$rendered).id("live-markdown")
        TextArea(value: ShowcaseState.$notes, onChange: ShowcaseState.event.setNotes).id("notes")
        Table(rows: ShowcaseState.$orders, id: \.id, columns: [
            Column("Order", \.id),
            Column("Customer", \.customer),
            Column("Total") { order in Text("$", order.total) },
            Column("") { order in Button("Ship", onClick: ShowcaseState.event.ship(order.id)).disabled(order.shipped) },
        ]).id("orders")
        Button("Add order", onClick: ShowcaseState.event.addOrder).id("add-order")
        Tabs(selection: ShowcaseState.$tab, onChange: ShowcaseState.event.setTab, tabs: [
            Tab("One", id: "one") { Text("First panel").id("panel-one") },
            Tab("Two", id: "two") { Text("Second panel").id("panel-two") },
        ])
        Button("Edit", onClick: ShowcaseState.event.openDialog).id("open-dialog")
        Dialog(isOpen: ShowcaseState.$editing, title: "Edit", onClose: ShowcaseState.event.closeDialog) {
            Input(value: ShowcaseState.$name, onChange: ShowcaseState.event.setName).id("dialog-name")
            Button("Done", onClick: ShowcaseState.event.closeDialog).id("dialog-done")
        }
        Form(onSubmit: ShowcaseState.event.note) {
            Input(name: "a", label: "A")
            PasswordInput(name: "b", label: "B")
            NumberInput(name: "c", label: "C", as: Double.self)
            TextArea(name: "d", label: "D")
            Select(name: "e", label: "E", options: ["x", "y"])
            RadioGroup(name: "f", options: ["p", "q"])
            Checkbox(name: "g", label: "G")
            Switch(name: "h", label: "H")
            Slider(name: "i", label: "I", min: 0.0, max: 1.0)
            DateInput(name: "j", label: "J")
            SubmitButton("Send")
        }
        Checkbox(checked: ShowcaseState.$agree, label: "Agree", onChange: ShowcaseState.event.setAgree)
        Progress(value: ShowcaseState.$closes, max: 10)
        Chart(.bar, data: ShowcaseState.$series)
        Divider()
        Cond(ShowcaseState.$agree) { Text("Agreed") } else: { Text("Not yet") }
        ForEach(items: ShowcaseState.$orders, id: \.id) { order in Text(order.customer) }
    }
}
