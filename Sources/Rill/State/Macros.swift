// The macros a state type is written with; their expansions live in the RillMacros target.

/// Makes a struct a Rill state: every stored `var` becomes a var of the tab's state, every
/// non-private `mutating func` an event the browser may send, and `@Background` methods
/// background tasks.
///
/// ```swift
/// @LiveState
/// struct MyTaskState {
///     var counter = 0
///     @Backend var nTasks = 0
///     mutating func clearCounter() { counter = 0 }
/// }
/// ```
///
/// The macro generates `stateInfo` (names, vars, handlers), a `$name` ``Var`` for each frontend
/// and computed var, a setter event `set_name` for each frontend var, and the `event` namespace
/// (`MyTaskState.event.clearCounter`).
///
/// - Parameters:
///   - name: The state's name on the wire; defaults to the type name in snake_case.
///   - parent: The state this one is a substate of; its full name becomes `parent.name`.
@attached(member, names: arbitrary)
@attached(extension, conformances: LiveState)
public macro LiveState(name: String? = nil, parent: (any LiveState.Type)? = nil) =
    #externalMacro(module: "RillMacros", type: "LiveStateMacro")

/// Marks a stored var as a backend var: stored with the tab's state, never sent to the browser.
@attached(peer)
public macro Backend() = #externalMacro(module: "RillMacros", type: "BackendMacro")

/// Marks a computed property as a computed var: derived from other vars, recomputed only when
/// one of the vars it reads changed, and sent to the browser when its value changed.
@attached(peer)
public macro Computed() = #externalMacro(module: "RillMacros", type: "ComputedMacro")

/// Marks a `private func … async` as a background task: it starts at once when its event is
/// triggered, runs beside the tab's other events, and changes state only inside
/// ``LiveState/withState(_:)`` blocks.
///
/// - Parameters:
///   - cancelOnDisconnect: Cancel the task when its tab disconnects. By default a task keeps
///     running and its later changes are seen when the tab reconnects.
///   - durable: Keep the task running when its process stops: it is recorded with the commit
///     that started it, and another process runs it again for the same tab from its last
///     checkpoint (``LiveState/withState(checkpoint:_:)``). Needs a state manager that keeps
///     durable tasks (Redis); with memory state it runs as a normal task.
///   - afterCrash: For a durable task, whether another process resumes it (the default) or
///     only runs its clean-up and tells the tab it was interrupted.
@attached(peer)
public macro Background(cancelOnDisconnect: Bool = false, durable: Bool = false, afterCrash: AfterCrash = .resume) =
    #externalMacro(module: "RillMacros", type: "BackgroundMacro")

/// Makes a var a read-only view of the ``SharedState`` key the tab is linked to: its value when
/// linked, the shared state's defaults when not.
///
/// ```swift
/// @LiveState
/// struct Player {
///     var goal = 10
///     @Linked var room: Room
///     @Computed var progress: String { "\(room.count) of \(goal)" }
/// }
/// ```
///
/// Computed vars that read it are recomputed when the key changes, and reach the page like any
/// computed var. It is neither saved nor sent (the page shows `Room`'s own vars), and cannot be
/// assigned: change the key with ``LiveState/modifyState(_:_:)`` or `Room`'s handlers.
@attached(accessor)
public macro Linked() = #externalMacro(module: "RillMacros", type: "LinkedMacro")
