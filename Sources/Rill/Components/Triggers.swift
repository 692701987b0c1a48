// Triggers: sending an event from any component on focus, blur, a key, a double click, or its mounting.

/// What in the browser sends an event attached with `.on(_:_:debounce:throttle:)`
/// (``Component/on(_:_:debounce:throttle:)-(Trigger,EventAction,_,_)`` and its overloads).
public struct Trigger: Sendable, Hashable {
    /// The DOM event, with a key filter for key triggers (`keydown:Enter`).
    let name: String

    /// A click (or Enter or Space on a focused button).
    public static let click = Trigger(name: "click")
    /// A double click.
    public static let doubleClick = Trigger(name: "dblclick")
    /// The element gained keyboard focus.
    public static let focus = Trigger(name: "focus")
    /// The element lost keyboard focus.
    public static let blur = Trigger(name: "blur")
    /// The pointer entered the element.
    public static let pointerEnter = Trigger(name: "mouseenter")
    /// The pointer left the element.
    public static let pointerLeave = Trigger(name: "mouseleave")
    /// The element appeared on the page: rendered, or shown by a `Cond` or a new `ForEach` item.
    public static let mount = Trigger(name: "mount")
    /// The element left the page: hidden by a `Cond`, its `ForEach` item removed, or the tab moved to another page.
    public static let unmount = Trigger(name: "unmount")

    /// A key pressed while the element (or something inside it) has focus; with `key`, only
    /// that key, named as the browser's `KeyboardEvent.key` names it: `"Enter"`, `"Escape"`,
    /// `"ArrowDown"`, `"a"`. A key pressed while an input method composes text does not count.
    public static func keyDown(_ key: String? = nil) -> Trigger {
        Trigger(name: key.map { "keydown:\($0)" } ?? "keydown")
    }

    /// A key released; `key` as for ``keyDown(_:)``.
    public static func keyUp(_ key: String? = nil) -> Trigger {
        Trigger(name: key.map { "keyup:\($0)" } ?? "keyup")
    }
}

extension Component {
    /// Sends `action` when `trigger` happens on the component's element.
    ///
    /// ```swift
    /// Input(value: SearchState.$query, onChange: SearchState.event.setQuery)
    ///     .on(.keyDown("Escape"), SearchState.event.clear)
    ///     .on(.blur, SearchState.event.search, debounce: .milliseconds(200))
    /// Text("Welcome").on(.mount, StatsState.event.sawWelcome)
    /// ```
    ///
    /// - Parameters:
    ///   - trigger: What in the browser sends it.
    ///   - action: The event to send.
    ///   - debounce: Send only once the trigger has been quiet this long (the latest wins).
    ///   - throttle: Send at most once per this interval, and the latest once it has passed.
    public func on(_ trigger: Trigger, _ action: some EventAction, debounce: Duration? = nil, throttle: Duration? = nil) -> Node {
        attach(trigger, action.eventCall.handler(debounce: debounce), throttle: throttle)
    }

    /// Sends `event` with the element's value as text when `trigger` happens: an input's text
    /// on `.blur`, say.
    public func on(_ trigger: Trigger, _ event: EventRef<String>, debounce: Duration? = nil, throttle: Duration? = nil) -> Node {
        attach(trigger, event.handler(valueType: "string", debounce: debounce), throttle: throttle)
    }

    func attach(_ trigger: Trigger, _ handler: DOMHandler, throttle: Duration?) -> Node {
        var handler = handler
        handler.throttleMilliseconds = throttle.map { Int(($0 / .milliseconds(1)).rounded()) }
        // On a labelled control the trigger belongs to the control, as its id does.
        return compiled().modifyingElements { element in
            if element.tag == "label", let index = element.children.firstIndex(where: \.isControl) {
                element.children[index] = element.children[index].modifyingElements { $0.on[trigger.name] = handler }
            } else {
                element.on[trigger.name] = handler
            }
        }
    }
}
