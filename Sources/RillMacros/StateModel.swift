// Reads a @LiveState struct into the vars and events the runtime needs, reporting what it cannot accept.

import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxMacros

struct StateModel {
    struct Property {
        enum Kind: Equatable {
            case frontend
            case backend
            case computed(deps: [String]?)
            /// A `@Linked` view of a shared state's key; `type` is the shared state type.
            case linked(type: String)
        }

        let name: String
        let kind: Kind

        var wireName: String { name.snakeCased }

        /// Whether the page can show it, so it gets a `$name` handle: backend vars stay on the
        /// server, and a linked state is shown through its own handles.
        var hasHandle: Bool {
            switch kind {
            case .frontend, .computed: true
            case .backend, .linked: false
            }
        }
    }

    struct Parameter {
        /// The call-site label; `nil` when it is written `_`.
        let label: String?
        let internalName: String
        let type: String
        let defaultValue: String?

        /// The external label is what callers see, so it is the stabler name for the JSON field.
        var field: String { (label ?? internalName).strippingBackticks }

        /// Handler closures already bind `payload`, `state`, `scope` and `run`; a decoded value must not hide them.
        var localName: String {
            ["payload", "state", "scope", "run"].contains(internalName) ? internalName + "Argument" : internalName
        }

        var declaration: String {
            let head = label == internalName ? internalName : "\(label ?? "_") \(internalName)"
            return "\(head): \(type)" + (defaultValue.map { " = \($0)" } ?? "")
        }
    }

    struct Handler {
        let name: String
        let parameters: [Parameter]
        /// A background task's options, as the arguments of its `Handler.background` call;
        /// `nil` for an ordinary event.
        let background: String?
        let isMutating: Bool
        /// A background task's unnamed `BackgroundRun` first parameter is there.
        let hasRun: Bool
        let isAsync: Bool
        let isThrowing: Bool
        let returnsValue: Bool
    }

    enum Event {
        case handler(Handler)
        case setter(property: String)

        var name: String {
            switch self {
            case .handler(let handler): handler.name
            case .setter(let property): property.setterName
            }
        }

        var wireName: String {
            switch self {
            case .handler(let handler): handler.name.snakeCased
            case .setter(let property): "set_" + property.snakeCased
            }
        }
    }

    let typeName: String
    /// Prefix for every generated declaration, so a public state exposes its vars and events.
    let access: String
    let nameExpression: String
    let parentExpression: String
    let properties: [Property]
    let events: [Event]
}

extension StateModel {
    init(
        parsing declaration: StructDeclSyntax,
        attribute: AttributeSyntax,
        in context: some MacroExpansionContext
    ) {
        var reader = StateReader(context: context)
        reader.read(declaration.memberBlock)

        typeName = declaration.name.text
        access =
            declaration.modifiers.contains(.public) ? "public "
            : declaration.modifiers.contains(.package) ? "package " : ""

        let arguments = attribute.arguments?.as(LabeledExprListSyntax.self) ?? []
        func argument(_ label: String) -> ExprSyntax? {
            guard let expression = arguments.first(where: { $0.label?.text == label })?.expression,
                !expression.is(NilLiteralExprSyntax.self)
            else { return nil }
            return expression
        }
        nameExpression = argument("name")?.trimmedDescription ?? "\"\(declaration.name.text.snakeCased)\""
        parentExpression = argument("parent")?.trimmedDescription ?? "nil"

        properties = reader.properties()
        events = reader.events()
    }
}

/// Collects members in declaration order; kept apart from `StateModel` because it needs the expansion context.
private struct StateReader<Context: MacroExpansionContext> {
    let context: Context

    private var members: [Member] = []
    private var storedNames: Set<String> = []
    private var linkedNames: Set<String> = []
    private var methodNames: Set<String> = []
    /// Getters of every computed property, marked or not, so deps can follow helpers too.
    private var getters: [String: Syntax] = [:]

    private enum Member {
        case stored(name: String, isBackend: Bool, node: PatternSyntax)
        case computed(name: String)
        case linked(name: String, type: String)
        case handler(StateModel.Handler, node: FunctionDeclSyntax)
    }

    init(context: Context) {
        self.context = context
    }

    mutating func read(_ memberBlock: MemberBlockSyntax) {
        for member in memberBlock.members {
            if let variable = member.decl.as(VariableDeclSyntax.self) {
                read(variable)
            } else if let function = member.decl.as(FunctionDeclSyntax.self) {
                read(function)
            }
        }
    }

    private mutating func read(_ variable: VariableDeclSyntax) {
        guard !variable.modifiers.isStatic else { return }
        if variable.attributes.marker(.linked) != nil {
            // @Linked reports a var it cannot take.
            if let (name, type) = variable.linkedVar {
                linkedNames.insert(name)
                members.append(.linked(name: name, type: type))
            }
            return
        }
        let isMarkedComputed = variable.attributes.marker(.computed) != nil
        for binding in variable.bindings {
            guard let name = binding.name else { continue }
            if !binding.isStored {
                if let getter = binding.getterBody { getters[name] = getter }
                // An unmarked computed property is a plain Swift helper; a marked one without a type is reported by @Computed.
                if isMarkedComputed, binding.typeAnnotation != nil { members.append(.computed(name: name)) }
                continue
            }
            // @Computed reports its own misuse on a stored property.
            guard !isMarkedComputed else { continue }
            if variable.bindingSpecifier.tokenKind == .keyword(.let) {
                let specifier = variable.bindingSpecifier
                let useVar = FixIt.Change.replace(
                    oldNode: Syntax(specifier),
                    newNode: Syntax(specifier.with(\.tokenKind, .keyword(.var)))
                )
                context.diagnose(
                    Diagnostic(
                        node: specifier,
                        message: RillDiagnostic.constant(name),
                        fixIt: FixIt(message: RillFixIt.useVar, changes: [useVar])
                    )
                )
                continue
            }
            if binding.initializer == nil, !binding.hasImplicitDefault {
                context.diagnose(Diagnostic(node: binding.pattern, message: RillDiagnostic.missingDefault(name)))
            }
            storedNames.insert(name)
            members.append(
                .stored(name: name, isBackend: variable.attributes.marker(.backend) != nil, node: binding.pattern)
            )
        }
    }

    private mutating func read(_ function: FunctionDeclSyntax) {
        let name = function.name.text
        methodNames.insert(name)
        guard !function.modifiers.isStatic else { return }
        let background = function.attributes.marker(.background)
        let isMutating = function.modifiers.contains(.mutating)
        guard background != nil || (isMutating && !function.modifiers.isPrivate) else { return }

        if let generics = function.genericParameterClause {
            context.diagnose(Diagnostic(node: generics, message: RillDiagnostic.genericEvent(name)))
            return
        }
        // Every unusable parameter is reported, not just the first, so one build shows all the fixes needed.
        var parameters: [StateModel.Parameter] = []
        var isUsable = true
        var payloadParameters = Array(function.signature.parameterClause.parameters)
        var hasRun = false
        if background != nil, let first = payloadParameters.first, first.isBackgroundRun {
            hasRun = first.isUnnamedBackgroundRun
            payloadParameters.removeFirst()
        }
        for parameter in payloadParameters {
            let label = parameter.firstName.tokenKind == .wildcard ? nil : parameter.firstName.text
            guard let internalName = parameter.secondName?.text ?? label, internalName != "_" else {
                context.diagnose(Diagnostic(node: parameter, message: RillDiagnostic.unnamedParameter(event: name)))
                isUsable = false
                continue
            }
            if parameter.ellipsis != nil || parameter.type.isInout || parameter.type.isClosure {
                context.diagnose(
                    Diagnostic(
                        node: parameter,
                        message: RillDiagnostic.unsupportedParameter(event: name, parameter: internalName)
                    )
                )
                isUsable = false
                continue
            }
            parameters.append(
                StateModel.Parameter(
                    label: label,
                    internalName: internalName,
                    type: parameter.type.trimmedDescription,
                    defaultValue: parameter.defaultValue?.value.trimmedDescription
                )
            )
        }
        guard isUsable else { return }

        let options = background.map { attribute in
            let arguments = attribute.arguments?.as(LabeledExprListSyntax.self) ?? []
            func argument(_ label: String) -> String? {
                arguments.first { $0.label?.text == label }?.expression.trimmedDescription
            }
            let cancelOnDisconnect = "cancelOnDisconnect: " + (argument("cancelOnDisconnect") ?? "false")
            let durable = argument("durable").map { ", durable: \($0)" } ?? ""
            let afterCrash = argument("afterCrash").map { ", afterCrash: \($0)" } ?? ""
            return cancelOnDisconnect + durable + afterCrash
        }
        let handler = StateModel.Handler(
            name: name,
            parameters: parameters,
            background: options,
            isMutating: isMutating,
            hasRun: hasRun,
            isAsync: function.isAsync,
            isThrowing: function.isThrowing,
            returnsValue: function.returnsValue
        )
        members.append(.handler(handler, node: function))
    }

    func properties() -> [StateModel.Property] {
        members.compactMap { member in
            switch member {
            case .stored(let name, let isBackend, _):
                StateModel.Property(name: name, kind: isBackend ? .backend : .frontend)
            case .computed(let name):
                StateModel.Property(name: name, kind: .computed(deps: dependencies(of: name).map { $0.sorted() }))
            case .linked(let name, let type):
                StateModel.Property(name: name, kind: .linked(type: type))
            case .handler:
                nil
            }
        }
    }

    func events() -> [StateModel.Event] {
        var events: [StateModel.Event] = []
        var owners: [String: String] = [:]
        func add(_ event: StateModel.Event, at node: some SyntaxProtocol) {
            if let owner = owners[event.wireName] {
                context.diagnose(
                    Diagnostic(
                        node: node,
                        message: RillDiagnostic.duplicateEvent(wireName: event.wireName, first: owner, second: event.name)
                    )
                )
                return
            }
            owners[event.wireName] = event.name
            events.append(event)
        }
        for case .handler(let handler, let node) in members {
            add(.handler(handler), at: node.name)
        }
        for case .stored(let name, false, let node) in members where !methodNames.contains(name.setterName) {
            add(.setter(property: name), at: node)
        }
        return events
    }

    /// Returns the wire names the getter of `name` reads, or `nil` when they cannot be known syntactically.
    private func dependencies(of name: String, visiting: Set<String> = []) -> Set<String>? {
        guard let getter = getters[name] else { return [] }
        let reads = ReadCollector(viewMode: .sourceAccurate)
        reads.walk(getter)
        if reads.readsWholeSelf { return nil }
        var deps: Set<String> = []
        for read in reads.names {
            if methodNames.contains(read) { return nil }
            if storedNames.contains(read) || linkedNames.contains(read) {
                deps.insert(read.snakeCased)
            } else if getters[read] != nil, !visiting.contains(read), read != name {
                guard let inner = dependencies(of: read, visiting: visiting.union([name])) else { return nil }
                deps.formUnion(inner)
            }
        }
        return deps
    }
}

/// Names a getter reads: bare identifiers and `self.x`, the two ways a struct member reaches its own state.
private final class ReadCollector: SyntaxVisitor {
    var names: Set<String> = []
    var readsWholeSelf = false

    override func visit(_ node: DeclReferenceExprSyntax) -> SyntaxVisitorContinueKind {
        if node.baseName.tokenKind == .keyword(.self) {
            readsWholeSelf = true
        } else {
            names.insert(node.baseName.text)
        }
        return .skipChildren
    }

    override func visit(_ node: MemberAccessExprSyntax) -> SyntaxVisitorContinueKind {
        guard let base = node.base else { return .skipChildren }
        if base.as(DeclReferenceExprSyntax.self)?.baseName.tokenKind == .keyword(.self) {
            names.insert(node.declName.baseName.text)
        } else {
            walk(base)
        }
        return .skipChildren
    }
}
