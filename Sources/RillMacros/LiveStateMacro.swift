// @LiveState: generates the var handles, StateInfo, Events and LiveState conformance of a state struct.

import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxMacros

public struct LiveStateMacro: MemberMacro, ExtensionMacro {
    /// BasicFormat would break the one-line handler closures apart, so the generated layout is kept as written.
    public static var formatMode: FormatMode { .disabled }

    public static func expansion(
        of node: AttributeSyntax,
        providingMembersOf declaration: some DeclGroupSyntax,
        conformingTo protocols: [TypeSyntax],
        in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] {
        guard let structDecl = declaration.as(StructDeclSyntax.self) else {
            context.diagnose(Diagnostic(node: node, message: RillDiagnostic.notAStruct))
            return []
        }
        let model = StateModel(parsing: structDecl, attribute: node, in: context)
        let source = StateSource(model: model)
        return source.varHandles + [source.stateInfo, source.eventsEnum, source.eventAccessor]
    }

    public static func expansion(
        of node: AttributeSyntax,
        attachedTo declaration: some DeclGroupSyntax,
        providingExtensionsOf type: some TypeSyntaxProtocol,
        conformingTo protocols: [TypeSyntax],
        in context: some MacroExpansionContext
    ) throws -> [ExtensionDeclSyntax] {
        // The member expansion reports a non-struct; reporting here too would say it twice.
        guard declaration.is(StructDeclSyntax.self), !protocols.isEmpty else { return [] }
        let conformances = protocols.map(\.trimmedDescription).joined(separator: ", ")
        return [try ExtensionDeclSyntax("extension \(type.trimmed): \(raw: conformances) {}")]
    }
}

/// Renders the model as Swift source; the layout is written out so the expansion reads like hand-written code.
private struct StateSource {
    let model: StateModel

    private var type: String { model.typeName }
    private var access: String { model.access }

    var varHandles: [DeclSyntax] {
        model.properties.filter(\.hasHandle).map { property in
            """
            \(raw: access)static let $\(raw: property.name.strippingBackticks) = Var(\(raw: type).self, \\.\(raw: property.name), "\(raw: property.wireName)")
            """
        }
    }

    var stateInfo: DeclSyntax {
        let vars = model.properties.map { property in
            switch property.kind {
            case .frontend:
                ".frontend(\"\(property.wireName)\", \\.\(property.name)),"
            case .backend:
                ".backend(\"\(property.wireName)\", \\.\(property.name)),"
            case .computed(let deps):
                ".computed(\"\(property.wireName)\", \\.\(property.name), deps: \(deps.map(stringArray) ?? "nil")),"
            case .linked(let type):
                ".linked(\"\(property.wireName)\", \(type).self),"
            }
        }
        let handlers = model.events.compactMap { event in
            handler(for: event).map { "\"\(event.wireName)\": \($0)," }
        }
        return """
            \(raw: access)static let stateInfo = StateInfo<\(raw: type)>(
                name: \(raw: model.nameExpression),
                parent: \(raw: model.parentExpression),
                vars: \(raw: block(vars, empty: "[]")),
                handlers: \(raw: block(handlers, empty: "[:]"))
            )
            """
    }

    var eventsEnum: DeclSyntax {
        let members = model.events.map(eventMember)
        guard !members.isEmpty else { return "\(raw: access)enum Events {}" }
        return """
            \(raw: access)enum Events {
            \(raw: members.map { indented($0, by: 1) }.joined(separator: "\n"))
            }
            """
    }

    var eventAccessor: DeclSyntax {
        "\(raw: access)static var event: Events.Type { Events.self }"
    }

    /// A mutating background task, or one without its `_: BackgroundRun`, gets no handler:
    /// @Background already reports it, and calling it would only add a confusing second error.
    private func handler(for event: StateModel.Event) -> String? {
        switch event {
        case .setter(let property):
            return ".setter(\\.\(property))"
        case .handler(let handler):
            if handler.background != nil, handler.isMutating || !handler.hasRun { return nil }
            let decoding = handler.parameters.map { parameter in
                let fallback = parameter.defaultValue.map { ", default: \($0)" } ?? ""
                return "let \(parameter.localName) = try payload.decode(\(parameter.type).self, \"\(parameter.field)\"\(fallback))"
            }
            let arguments = handler.parameters.map { parameter in
                (parameter.label.map { "\($0): " } ?? "") + parameter.localName
            }
            let call = "state.\(handler.name)(\(arguments.joined(separator: ", ")))"
            let effects = (handler.isThrowing ? "try " : "") + (handler.isAsync ? "await " : "")
            let kind: String
            let closure: String
            if let options = handler.background {
                kind = ".background(\(options))"
                let runCall = "state.\(handler.name)(\((["run"] + arguments).joined(separator: ", ")))"
                closure = "{ (state: \(type), run: BackgroundRun) in \(handler.returnsValue ? "_ = " : "")\(effects)\(runCall) }"
            } else {
                kind = ".event"
                let body = handler.returnsValue ? "\(effects)scope.chain(\(call))" : effects + call
                closure = "{ (state: inout \(type), scope: EventScope) in \(body) }"
            }
            let lines = decoding + ["return \(closure)"]
            return "\(kind) { (payload: Payload) in\n\(lines.map { indented($0, by: 1) }.joined(separator: "\n"))\n}"
        }
    }

    private func eventMember(_ event: StateModel.Event) -> String {
        let target = "\(type).self, \"\(event.wireName)\""
        switch event {
        case .setter(let property):
            return "\(access)static let \(event.name) = EventRef(\(target), setting: \\.\(property))"
        case .handler(let handler):
            switch handler.parameters.count {
            case 0:
                return "\(access)static let \(event.name) = EventSpec(\(target))"
            case 1:
                let parameter = handler.parameters[0]
                return "\(access)static let \(event.name) = EventRef<\(parameter.type)>(\(target), field: \"\(parameter.field)\")"
            default:
                let declarations = handler.parameters.map(\.declaration).joined(separator: ", ")
                let payload = handler.parameters.map { "\"\($0.field)\": JSON(argument: \($0.internalName))" }
                return """
                    \(access)static func \(event.name)(\(declarations)) -> EventSpec {
                        EventSpec(\(target), [\(payload.joined(separator: ", "))])
                    }
                    """
            }
        }
    }

    private func stringArray(_ strings: [String]) -> String {
        "[" + strings.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    }

    /// Lays out an argument of `StateInfo(...)` one entry per line, so diffs of expansions stay readable.
    private func block(_ entries: [String], empty: String) -> String {
        guard !entries.isEmpty else { return empty }
        return "[\n\(entries.map { indented($0, by: 2) }.joined(separator: "\n"))\n    ]"
    }

    private func indented(_ text: String, by levels: Int) -> String {
        let prefix = String(repeating: "    ", count: levels)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }.joined(separator: "\n")
    }
}
