// @Backend, @Computed and @Background only mark members for @LiveState; each checks the member it marks.

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
        if !function.modifiers.isPrivate {
            context.diagnose(
                Diagnostic(
                    node: function.name,
                    message: RillDiagnostic.backgroundNotPrivate(name),
                    fixIt: FixIt(
                        message: RillFixIt.makePrivate,
                        changes: [.replace(oldNode: Syntax(function), newNode: Syntax(function.madePrivate))]
                    )
                )
            )
        }
        if !function.isAsync {
            context.diagnose(Diagnostic(node: function.name, message: RillDiagnostic.backgroundNotAsync(name)))
        }
        return []
    }
}

extension FunctionDeclSyntax {
    /// Swaps an existing access level for `private`, or puts `private` first while keeping the line's indentation.
    fileprivate var madePrivate: FunctionDeclSyntax {
        let keyword = TokenSyntax.keyword(.private)
        if let access = modifiers.accessModifier, let index = modifiers.index(of: access) {
            var result = self
            result.modifiers[index].name = keyword.with(\.leadingTrivia, access.name.leadingTrivia)
                .with(\.trailingTrivia, access.name.trailingTrivia)
            return result
        }
        var result = self
        if let first = modifiers.first, let index = modifiers.index(of: first) {
            let trivia = first.leadingTrivia
            result.modifiers[index] = first.with(\.leadingTrivia, [])
            result.modifiers.insert(
                DeclModifierSyntax(name: keyword.with(\.leadingTrivia, trivia).with(\.trailingTrivia, .space)),
                at: result.modifiers.startIndex
            )
        } else {
            let trivia = funcKeyword.leadingTrivia
            result.funcKeyword = funcKeyword.with(\.leadingTrivia, [])
            result.modifiers = [
                DeclModifierSyntax(name: keyword.with(\.leadingTrivia, trivia).with(\.trailingTrivia, .space))
            ]
        }
        return result
    }
}
