// Checks how @Computed deps are found in getters: direct reads, self., transitive, and the method-call fallback.

import Testing

@Suite("Computed deps")
struct ComputedDepsTests {
    @Test("bare and self.-qualified reads of stored vars, sorted and deduplicated, backend vars included")
    func directAndSelfQualified() {
        assertRillExpansion(
            #"""
            @LiveState
            struct CartState {
                @Backend var quantity = 1
                @Computed var total: Int {
                    get { self.quantity * price + quantity }
                }
                var price = 0
            }
            """#,
            expandedSource: #"""
            struct CartState {
                var quantity = 1
                var total: Int {
                    get { self.quantity * price + quantity }
                }
                var price = 0

                static let $total = Var(CartState.self, \.total, "total")

                static let $price = Var(CartState.self, \.price, "price")

                static let stateInfo = StateInfo<CartState>(
                    name: "cart_state",
                    parent: nil,
                    vars: [
                        .backend("quantity", \.quantity),
                        .computed("total", \.total, deps: ["price", "quantity"]),
                        .frontend("price", \.price),
                    ],
                    handlers: [
                        "set_price": .setter(\.price),
                    ]
                )

                enum Events {
                    static let setPrice = EventRef(CartState.self, "set_price", setting: \.price)
                }

                static var event: Events.Type { Events.self }
            }

            extension CartState: LiveState {}
            """#
        )
    }

    @Test("deps follow other computed vars, marked or plain helpers, and ignore other values' members")
    func transitive() {
        assertRillExpansion(
            #"""
            @LiveState
            struct NameState {
                @Backend var first = ""
                @Backend var last = ""
                @Backend var title = ""
                @Computed var full: String { first + " " + helper }
                @Computed var greeting: String { "Hello, \(self.full)!" + other.title }
                var helper: String { last }
                @Computed var constant: Int { 42 }
            }
            """#,
            expandedSource: #"""
            struct NameState {
                var first = ""
                var last = ""
                var title = ""
                var full: String { first + " " + helper }
                var greeting: String { "Hello, \(self.full)!" + other.title }
                var helper: String { last }
                var constant: Int { 42 }

                static let $full = Var(NameState.self, \.full, "full")

                static let $greeting = Var(NameState.self, \.greeting, "greeting")

                static let $constant = Var(NameState.self, \.constant, "constant")

                static let stateInfo = StateInfo<NameState>(
                    name: "name_state",
                    parent: nil,
                    vars: [
                        .backend("first", \.first),
                        .backend("last", \.last),
                        .backend("title", \.title),
                        .computed("full", \.full, deps: ["first", "last"]),
                        .computed("greeting", \.greeting, deps: ["first", "last"]),
                        .computed("constant", \.constant, deps: []),
                    ],
                    handlers: [:]
                )

                enum Events {}

                static var event: Events.Type { Events.self }
            }

            extension NameState: LiveState {}
            """#
        )
    }

    @Test("calling a method of the state, directly or through another computed var, gives deps: nil")
    func methodCallFallsBackToNil() {
        assertRillExpansion(
            #"""
            @LiveState
            struct ReportState {
                @Backend var rows = 0
                @Computed var summary: String { describe() }
                @Computed var qualified: String { self.describe() }
                @Computed var length: Int { summary.count + rows }
                @Computed var snapshot: String { String(describing: self) }
                func describe() -> String { "\(rows)" }
            }
            """#,
            expandedSource: #"""
            struct ReportState {
                var rows = 0
                var summary: String { describe() }
                var qualified: String { self.describe() }
                var length: Int { summary.count + rows }
                var snapshot: String { String(describing: self) }
                func describe() -> String { "\(rows)" }

                static let $summary = Var(ReportState.self, \.summary, "summary")

                static let $qualified = Var(ReportState.self, \.qualified, "qualified")

                static let $length = Var(ReportState.self, \.length, "length")

                static let $snapshot = Var(ReportState.self, \.snapshot, "snapshot")

                static let stateInfo = StateInfo<ReportState>(
                    name: "report_state",
                    parent: nil,
                    vars: [
                        .backend("rows", \.rows),
                        .computed("summary", \.summary, deps: nil),
                        .computed("qualified", \.qualified, deps: nil),
                        .computed("length", \.length, deps: nil),
                        .computed("snapshot", \.snapshot, deps: nil),
                    ],
                    handlers: [:]
                )

                enum Events {}

                static var event: Events.Type { Events.self }
            }

            extension ReportState: LiveState {}
            """#
        )
    }

    @Test("computed vars that read each other do not loop")
    func cycle() {
        assertRillExpansion(
            #"""
            @LiveState
            struct LoopState {
                @Backend var seed = 0
                @Computed var a: Int { seed > 0 ? b : 0 }
                @Computed var b: Int { seed > 1 ? a : 1 }
            }
            """#,
            expandedSource: #"""
            struct LoopState {
                var seed = 0
                var a: Int { seed > 0 ? b : 0 }
                var b: Int { seed > 1 ? a : 1 }

                static let $a = Var(LoopState.self, \.a, "a")

                static let $b = Var(LoopState.self, \.b, "b")

                static let stateInfo = StateInfo<LoopState>(
                    name: "loop_state",
                    parent: nil,
                    vars: [
                        .backend("seed", \.seed),
                        .computed("a", \.a, deps: ["seed"]),
                        .computed("b", \.b, deps: ["seed"]),
                    ],
                    handlers: [:]
                )

                enum Events {}

                static var event: Events.Type { Events.self }
            }

            extension LoopState: LiveState {}
            """#
        )
    }
}
