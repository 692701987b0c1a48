// A typed reference to one var of a state, for components to bind to (`MyTaskState.$counter`).

/// A reference to a frontend or computed var, typed by its value: what a component shows or
/// binds to. The macro generates one as `State.$name` for each var the browser sees.
///
/// `Var` is not `Equatable`: `==` between vars builds an ``Expr`` the browser evaluates
/// (`MyTaskState.$counter == MyTaskState.$maxCounter`), which a Boolean `==` would shadow.
public struct Var<Value>: Sendable {
    /// The state's full name.
    public let state: String
    /// The var's wire name.
    public let name: String
    /// The state type the var belongs to, so a page can list the states it shows.
    public let stateType: any LiveState.Type

    /// A var of `state`; used by the macro's expansion.
    public init<S: LiveState>(_ state: S.Type, _ path: KeyPath<S, Value>, _ name: String) {
        self.state = S.fullName
        self.name = name
        self.stateType = S.self
    }

    /// A var the framework adds to `state`, with no Swift property behind it.
    init<S: LiveState>(_ state: S.Type, name: String) {
        self.state = S.fullName
        self.name = name
        self.stateType = S.self
    }

    /// `state_full_name.var_name`, as ``TabState/value(_:)`` takes it.
    public var path: String { state + "." + name }
}
