// @Backend, @Computed, @Background and @Linked mark members for @LiveState and check them; @Linked also writes its var's getter.

import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxMacros

public struct BackendMacro: PeerMacro {
    public static func expansion(
        of node: AttributeSyntax,
        providingPeersOf declaration: some DeclSyntaxProtocol,
        in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] {
        // A `let` is allowed here so that @LiveState can offer its let → var fix-it.
        guard let variable = declaration.as(VariableDeclSyntax.self), !variable.modifiers.isStatic,
            variable.bindings.allSatisfy(\.isStored)
        else {
            context.diagnose(Diagnostic(node: node, message: RillDiagnostic.misplacedMarker(.backend)))
            return []
        }
        return []
    }
}

public struct ComputedMacro: PeerMacro {
    public static func expansion(
        of node: AttributeSyntax,
        providingPeersOf declaration: some DeclSyntaxProtocol,
        in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] {
        guard let variable = declaration.as(VariableDeclSyntax.self), !variable.modifiers.isStatic else {
            context.diagnose(Diagnostic(node: node, message: RillDiagnostic.misplacedMarker(.computed)))
            return []
        }
        for binding in variable.bindings where binding.isStored || binding.typeAnnotation == nil {
            let name = binding.name ?? binding.pattern.trimmedDescription
            context.diagnose(
                Diagnostic(node: binding.pattern, message: RillDiagnostic.computedNeedsTypeAndGetter(name))
            )
        }
        return []
    }
}

public struct LinkedMacro: AccessorMacro {
    public static func expansion(
        of node: AttributeSyntax,
        providingAccessorsOf declaration: some DeclSyntaxProtocol,
        in context: some MacroExpansionContext
    ) throws -> [AccessorDeclSyntax] {
        guard let variable = declaration.as(VariableDeclSyntax.self), !variable.modifiers.isStatic else {
            context.diagnose(Diagnostic(node: node, message: RillDiagnostic.misplacedMarker(.linked)))
            return []
        }
        guard let (_, type) = variable.linkedVar else {
            let name = variable.bindings.first?.name ?? variable.bindings.trimmedDescription
            context.diagnose(Diagnostic(node: variable.bindings, message: RillDiagnostic.linkedForm(name)))
            return []
        }
        return ["get { _linked(\(raw: type).self) }"]
    }
}

public struct BackgroundMacro: PeerMacro {
    public static func expansion(
        of node: AttributeSyntax,
        providingPeersOf declaration: some DeclSyntaxProtocol,
        in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] {
        guard let function = declaration.as(FunctionDeclSyntax.self), !function.modifiers.isStatic else {
            context.diagnose(Diagnostic(node: node, message: RillDiagnostic.misplacedMarker(.background)))
            return []
        }
        let name = function.name.text
        if let mutating = function.modifiers.first(where: { $0.name.tokenKind == .keyword(.mutating) }) {
            context.diagnose(Diagnostic(node: mutating, message: RillDiagnostic.backgroundMutating(name)))
        }
        if !function.isAsync {
            context.diagnose(Diagnostic(node: function.name, message: RillDiagnostic.backgroundNotAsync(name)))
        }
        reportRunParameter(of: function, in: context)
        return []
    }

    /// The first parameter must be an unnamed `BackgroundRun`; a fix-it adds or unnames it.
    private static func reportRunParameter(of function: FunctionDeclSyntax, in context: some MacroExpansionContext) {
        let name = function.name.text
        let parameters = function.signature.parameterClause.parameters
        if let first = parameters.first, first.isBackgroundRun {
            guard !first.isUnnamedBackgroundRun else { return }
            let unnamed = first.with(\.firstName, .wildcardToken(trailingTrivia: []))
                .with(\.secondName, nil)
                .with(\.colon, .colonToken(trailingTrivia: .space))
            context.diagnose(
                Diagnostic(
                    node: first,
                    message: RillDiagnostic.backgroundRunNamed(name),
                    fixIt: FixIt(message: RillFixIt.unnameRun, changes: [.replace(oldNode: Syntax(first), newNode: Syntax(unnamed))])
                )
            )
            return
        }
        let run = FunctionParameterSyntax(
            firstName: .wildcardToken(),
            colon: .colonToken(trailingTrivia: .space),
            type: TypeSyntax(IdentifierTypeSyntax(name: .identifier("BackgroundRun"))),
            trailingComma: parameters.isEmpty ? nil : .commaToken(trailingTrivia: .space)
        )
        var clause = function.signature.parameterClause
        clause.parameters = FunctionParameterListSyntax([run] + Array(parameters))
        context.diagnose(
            Diagnostic(
                node: function.signature.parameterClause,
                message: RillDiagnostic.backgroundWithoutRun(name),
                fixIt: FixIt(
                    message: RillFixIt.addRun,
                    changes: [.replace(oldNode: Syntax(function.signature.parameterClause), newNode: Syntax(clause))]
                )
            )
        )
    }
}
