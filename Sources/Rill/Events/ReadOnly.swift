// Another state of the tab, handed out to read: its vars cannot be assigned.

/// A state to read but not to change: what ``LiveState/getState(_:)`` returns. Its vars read
/// like the state's own (`other.count`); assigning one does not compile.
@dynamicMemberLookup
public struct ReadOnly<S: LiveState>: Sendable {
    private let state: S

    init(_ state: S) { self.state = state }

    /// A var or computed property of the state.
    public subscript<V>(dynamicMember path: KeyPath<S, V>) -> V {
        state[keyPath: path]
    }
}
