// Typed expressions compile to the operator JSON of docs/page-format.md, literals mixed in where Swift allows.

import Rill
import SeedExamples
import Testing

@LiveState
struct ExprState {
    var a = 1
    var b = 2
    var x = 1.5
    var y = 2.5
    var s = "hi"
    var p = true
    var q = false
    var list: [Int] = [1, 2]
    var map: [String: Int] = [:]
    var maybe: Int? = nil
}

private let a: JSON = ["var": "expr_state.a"]
private let b: JSON = ["var": "expr_state.b"]
private let x: JSON = ["var": "expr_state.x"]
private let y: JSON = ["var": "expr_state.y"]
private let s: JSON = ["var": "expr_state.s"]
private let p: JSON = ["var": "expr_state.p"]
private let q: JSON = ["var": "expr_state.q"]

private func op(_ name: String, _ args: JSON...) -> JSON {
    ["op": .string(name), "args": .array(args)]
}

@Suite struct ExpressionTests {
    @Test func varsAndConstants() {
        #expect(ExprState.$a.expr.json == a)
        #expect(Expr(3).json == 3)
        #expect(Expr("text").json == "text")
        // Arrays and objects are wrapped so they cannot be read as expression forms.
        #expect(Expr([1, 2]).json == ["lit": [1, 2]])
        #expect(Expr(["var": 1]).json == ["lit": ["var": 1]])
    }

    @Test func arithmetic() {
        #expect((ExprState.$a + ExprState.$b).json == op("add", a, b))
        #expect((ExprState.$a - ExprState.$b).json == op("sub", a, b))
        #expect((ExprState.$a * ExprState.$b).json == op("mul", a, b))
        #expect((ExprState.$x / ExprState.$y).json == op("div", x, y))
        #expect((ExprState.$a % ExprState.$b).json == op("mod", a, b))
        #expect((-ExprState.$a).json == op("neg", a))
    }

    @Test func integerDivisionTruncatesLikeSwift() {
        // (a - a % b) / b: JavaScript divides as doubles, so the remainder is taken off first.
        #expect((ExprState.$a / ExprState.$b).json == op("div", op("sub", a, op("mod", a, b)), b))
        #expect((ExprState.$a / 2).json == op("div", op("sub", a, op("mod", a, 2)), 2))
    }

    @Test func stringsJoinWithPlus() {
        #expect((ExprState.$s + "!").json == op("add", s, "!"))
        #expect(("Hello, " + ExprState.$s).json == op("add", "Hello, ", s))
        #expect((ExprState.$s + ExprState.$s).json == op("add", s, s))
    }

    @Test func comparisons() {
        #expect((ExprState.$a == ExprState.$b).json == op("eq", a, b))
        #expect((ExprState.$a != ExprState.$b).json == op("ne", a, b))
        #expect((ExprState.$a < ExprState.$b).json == op("lt", a, b))
        #expect((ExprState.$a <= ExprState.$b).json == op("le", a, b))
        #expect((ExprState.$a > ExprState.$b).json == op("gt", a, b))
        #expect((ExprState.$a >= ExprState.$b).json == op("ge", a, b))
        #expect((ExprState.$s == "hi").json == op("eq", s, "hi"))
        #expect((ExprState.$maybe == nil).json == op("eq", ["var": "expr_state.maybe"], nil))
    }

    @Test func logic() {
        #expect((!ExprState.$p).json == op("not", p))
        #expect((ExprState.$p && ExprState.$q).json == op("and", p, q))
        #expect((ExprState.$p || !ExprState.$q).json == op("or", p, op("not", q)))
    }

    @Test func literalsMixWithVarsOnEitherSide() {
        #expect((ExprState.$a + 1).json == op("add", a, 1))
        #expect((1 + ExprState.$a).json == op("add", 1, a))
        #expect((10 - ExprState.$a).json == op("sub", 10, a))
        #expect((ExprState.$a * 3).json == op("mul", a, 3))
        #expect((ExprState.$a % 2 == 0).json == op("eq", op("mod", a, 2), 0))
        #expect((5 < ExprState.$a).json == op("lt", 5, a))
        // An integer literal next to a Double var is a Double.
        #expect((ExprState.$x + 1).json == op("add", x, .double(1)))
        #expect((MyTaskState.$counter + 1).json == op("add", ["var": "my_task_state.counter"], 1))
        #expect((MyTaskState.$counter >= MyTaskState.$maxCounter).json
            == op("ge", ["var": "my_task_state.counter"], ["var": "my_task_state.max_counter"]))
    }

    @Test func precedenceFollowsSwift() {
        let expr = ExprState.$a + 1 >= ExprState.$b * 2 && !ExprState.$p
        #expect(expr.json == op("and", op("ge", op("add", a, 1), op("mul", b, 2)), op("not", p)))
    }

    @Test func operatorsComposeOnExpressions() {
        let doubled: Expr<Int> = ExprState.$a * 2
        #expect((doubled + ExprState.$b).json == op("add", op("mul", a, 2), b))
        #expect((doubled == doubled).json == op("eq", op("mul", a, 2), op("mul", a, 2)))
    }

    @Test func condExpressions() {
        #expect(Cond(ExprState.$p, "yes", "no").json == op("cond", p, "yes", "no"))
        #expect(Cond(ExprState.$p, ExprState.$a, 0).json == op("cond", p, a, 0))
        #expect(Cond(ExprState.$p, 0, ExprState.$b).json == op("cond", p, 0, b))
        #expect(Cond(ExprState.$a > 1, ExprState.$a, ExprState.$b).json == op("cond", op("gt", a, 1), a, b))
        // A Cond is an expression like any other.
        #expect((Cond(ExprState.$p, 1, 2) + ExprState.$a).json == op("add", op("cond", p, 1, 2), a))
    }

    @Test func conversionsAndAccess() {
        #expect(ExprState.$list.count.json == op("len", ["var": "expr_state.list"]))
        #expect(ExprState.$s.count.json == op("len", s))
        #expect(ExprState.$a.description.json == op("str", a))
        #expect(ExprState.$list[0].json == op("get", ["var": "expr_state.list"], 0))
        #expect(ExprState.$list[ExprState.$a].json == op("get", ["var": "expr_state.list"], a))
        #expect(ExprState.$map["k"].json == op("get", ["var": "expr_state.map"], "k"))
        #expect(concat("a = ", ExprState.$a, ", x = ", ExprState.$x, 3).json == op("concat", "a = ", a, ", x = ", x, 3))
    }
}

extension ExprConvertible {
    /// Shorthand for the tests: the expression's JSON.
    var json: JSON { expr.json }
}
