// Answers the questions the macros ask of declarations (storage, modifiers, effects, marker attributes).

import SwiftSyntax

enum Marker: String {
    case backend = "Backend"
    case computed = "Computed"
    case background = "Background"
    case linked = "Linked"
}

extension AttributeListSyntax {
    /// Matches both `@Backend` and the module-qualified `@Rill.Backend`.
    func marker(_ marker: Marker) -> AttributeSyntax? {
        for element in self {
            guard case .attribute(let attribute) = element else { continue }
            let name =
                attribute.attributeName.as(IdentifierTypeSyntax.self)?.name.text
                ?? attribute.attributeName.as(MemberTypeSyntax.self)?.name.text
            if name == marker.rawValue { return attribute }
        }
        return nil
    }
}

extension DeclModifierListSyntax {
    func contains(_ keyword: Keyword) -> Bool {
        contains { $0.name.tokenKind == .keyword(keyword) }
    }

    var isStatic: Bool { contains(.static) || contains(.class) }

    var isPrivate: Bool { contains(.private) || contains(.fileprivate) }
}

extension VariableDeclSyntax {
    /// The name and shared state type of a well-formed `@Linked var name: Type`: one `var`
    /// binding with a type, no value and no accessors.
    var linkedVar: (name: String, type: String)? {
        guard bindingSpecifier.tokenKind == .keyword(.var), bindings.count == 1, let binding = bindings.first,
            let name = binding.name, let type = binding.typeAnnotation?.type, binding.initializer == nil,
            binding.accessorBlock == nil
        else { return nil }
        return (name, type.trimmedDescription)
    }
}

extension PatternBindingSyntax {
    var name: String? {
        pattern.as(IdentifierPatternSyntax.self)?.identifier.text
    }

    /// Observers (`willSet`/`didSet`) keep a property stored; any other accessor makes it computed.
    var isStored: Bool {
        switch accessorBlock?.accessors {
        case nil:
            true
        case .getter:
            false
        case .accessors(let accessors):
            accessors.allSatisfy {
                [.keyword(.willSet), .keyword(.didSet)].contains($0.accessorSpecifier.tokenKind)
            }
        }
    }

    var getterBody: Syntax? {
        switch accessorBlock?.accessors {
        case nil:
            nil
        case .getter(let body):
            Syntax(body)
        case .accessors(let accessors):
            accessors.first { $0.accessorSpecifier.tokenKind == .keyword(.get) }?.body.map(Syntax.init)
        }
    }

    /// Swift gives optionals an implicit `nil`, so they need no written default.
    var hasImplicitDefault: Bool {
        guard let type = typeAnnotation?.type else { return false }
        if type.is(OptionalTypeSyntax.self) || type.is(ImplicitlyUnwrappedOptionalTypeSyntax.self) {
            return true
        }
        return type.as(IdentifierTypeSyntax.self)?.name.text == "Optional"
    }
}

extension FunctionDeclSyntax {
    var isAsync: Bool { signature.effectSpecifiers?.asyncSpecifier != nil }

    /// `throws(Never)` cannot throw, and a `try` in front of it would draw a warning.
    var isThrowing: Bool {
        guard let clause = signature.effectSpecifiers?.throwsClause else { return false }
        return clause.type?.as(IdentifierTypeSyntax.self)?.name.text != "Never"
    }

    var returnsValue: Bool {
        guard let type = signature.returnClause?.type else { return false }
        if let tuple = type.as(TupleTypeSyntax.self), tuple.elements.isEmpty { return false }
        return type.as(IdentifierTypeSyntax.self)?.name.text != "Void"
    }
}

extension TypeSyntax {
    /// Sees through `@escaping`, optionals and parentheses, which all still wrap a closure.
    var isClosure: Bool {
        if `is`(FunctionTypeSyntax.self) { return true }
        if let attributed = `as`(AttributedTypeSyntax.self) { return attributed.baseType.isClosure }
        if let optional = `as`(OptionalTypeSyntax.self) { return optional.wrappedType.isClosure }
        if let unwrapped = `as`(ImplicitlyUnwrappedOptionalTypeSyntax.self) { return unwrapped.wrappedType.isClosure }
        if let tuple = `as`(TupleTypeSyntax.self), tuple.elements.count == 1, let element = tuple.elements.first {
            return element.type.isClosure
        }
        return false
    }

    var isInout: Bool {
        guard let attributed = `as`(AttributedTypeSyntax.self) else { return false }
        return attributed.specifiers.contains { specifier in
            if case .simpleTypeSpecifier(let simple) = specifier {
                return simple.specifier.tokenKind == .keyword(.inout)
            }
            return false
        }
    }
}

extension FunctionParameterSyntax {
    /// Whether the type names Rill's `BackgroundRun`, qualified or not.
    var isBackgroundRun: Bool {
        ["BackgroundRun", "Rill.BackgroundRun"].contains(type.trimmedDescription)
    }

    /// `_: BackgroundRun` (or `_ _: BackgroundRun`): a task's body cannot name it, so cannot pass it on.
    var isUnnamedBackgroundRun: Bool {
        isBackgroundRun && firstName.tokenKind == .wildcard
            && (secondName == nil || secondName?.tokenKind == .wildcard)
    }
}
