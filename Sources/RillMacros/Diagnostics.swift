// The errors and fix-its Rill's macros report, worded to say what to change and why.

import SwiftDiagnostics

enum RillDiagnostic: DiagnosticMessage {
    case notAStruct
    case missingDefault(String)
    case constant(String)
    case backgroundNotAsync(String)
    case backgroundMutating(String)
    case backgroundWithoutRun(String)
    case backgroundRunNamed(String)
    case computedNeedsTypeAndGetter(String)
    case linkedForm(String)
    case unsupportedParameter(event: String, parameter: String)
    case unnamedParameter(event: String)
    case genericEvent(String)
    case duplicateEvent(wireName: String, first: String, second: String)
    case misplacedMarker(Marker)

    var message: String {
        switch self {
        case .notAStruct:
            "@LiveState applies to a struct: Rill states are values, so they cannot change outside a lock"
        case .missingDefault(let name):
            "give '\(name)' a default value: every tab's state starts from its defaults"
        case .constant(let name):
            "'\(name)' is a constant; state vars must be 'var'"
        case .backgroundNotAsync(let name):
            "background task '\(name)' must be 'async'"
        case .backgroundMutating(let name):
            "background task '\(name)' cannot be 'mutating': it changes state only inside 'withState { … }' blocks"
        case .backgroundWithoutRun(let name):
            "background task '\(name)' must take '_: BackgroundRun' first: only Rill has one, so only its event can start the task"
        case .backgroundRunNamed(let name):
            "leave the BackgroundRun parameter of '\(name)' unnamed ('_: BackgroundRun'): a named one could be passed on to call a task directly"
        case .computedNeedsTypeAndGetter(let name):
            "computed var '\(name)' needs an explicit type and a getter"
        case .linkedForm(let name):
            "write '@Linked var \(name): SomeSharedState' with a type and no value: the framework gives it the linked key's value"
        case .unsupportedParameter(let event, let parameter):
            "event '\(event)' cannot take parameter '\(parameter)': event payloads come from JSON"
        case .unnamedParameter(let event):
            "give every parameter of event '\(event)' a name: it names the parameter's JSON field"
        case .genericEvent(let name):
            "event '\(name)' cannot be generic: its payload types must be known"
        case .duplicateEvent(let wireName, let first, let second) where first == second:
            "'\(first)' is overloaded, but events are looked up by name alone; rename one of the overloads of '\(wireName)'"
        case .duplicateEvent(let wireName, let first, let second):
            "'\(first)' and '\(second)' both become event '\(wireName)'; rename one of them"
        case .misplacedMarker(.background):
            "@Background applies to an instance method of a @LiveState struct"
        case .misplacedMarker(.backend):
            "@Backend applies to a stored instance 'var' of a @LiveState struct"
        case .misplacedMarker(.computed):
            "@Computed applies to an instance 'var' of a @LiveState struct"
        case .misplacedMarker(.linked):
            "@Linked applies to an instance 'var' of a @LiveState struct"
        }
    }

    var diagnosticID: MessageID {
        let id: String =
            switch self {
            case .notAStruct: "notAStruct"
            case .missingDefault: "missingDefault"
            case .constant: "constant"
            case .backgroundNotAsync: "backgroundNotAsync"
            case .backgroundMutating: "backgroundMutating"
            case .backgroundWithoutRun: "backgroundWithoutRun"
            case .backgroundRunNamed: "backgroundRunNamed"
            case .computedNeedsTypeAndGetter: "computedNeedsTypeAndGetter"
            case .linkedForm: "linkedForm"
            case .unsupportedParameter: "unsupportedParameter"
            case .unnamedParameter: "unnamedParameter"
            case .genericEvent: "genericEvent"
            case .duplicateEvent: "duplicateEvent"
            case .misplacedMarker: "misplacedMarker"
            }
        return MessageID(domain: "RillMacros", id: id)
    }

    var severity: DiagnosticSeverity { .error }
}

struct RillFixIt: FixItMessage {
    let message: String

    var fixItID: MessageID { MessageID(domain: "RillMacros", id: message) }

    static let useVar = RillFixIt(message: "replace 'let' with 'var'")
    static let addRun = RillFixIt(message: "insert '_: BackgroundRun' as the first parameter")
    static let unnameRun = RillFixIt(message: "write '_: BackgroundRun'")
}
