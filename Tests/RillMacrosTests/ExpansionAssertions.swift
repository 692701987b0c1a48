// Runs every Rill macro over a source snippet and reports mismatches as Swift Testing issues.

import RillMacros
import SwiftSyntaxMacroExpansion
import SwiftSyntaxMacrosGenericTestSupport
import Testing

let rillMacros: [String: MacroSpec] = [
    "LiveState": MacroSpec(type: LiveStateMacro.self, conformances: ["LiveState"]),
    "Backend": MacroSpec(type: BackendMacro.self),
    "Computed": MacroSpec(type: ComputedMacro.self),
    "Background": MacroSpec(type: BackgroundMacro.self),
    "Linked": MacroSpec(type: LinkedMacro.self),
]

func assertRillExpansion(
    _ source: String,
    expandedSource: String,
    diagnostics: [DiagnosticSpec] = [],
    fixedSource: String? = nil,
    macros: [String: MacroSpec] = rillMacros,
    fileID: StaticString = #fileID,
    filePath: StaticString = #filePath,
    line: UInt = #line,
    column: UInt = #column
) {
    assertMacroExpansion(
        source,
        expandedSource: expandedSource,
        diagnostics: diagnostics,
        macroSpecs: macros,
        fixedSource: fixedSource,
        failureHandler: { failure in
            Issue.record(
                Comment(rawValue: failure.message),
                sourceLocation: SourceLocation(
                    fileID: failure.location.fileID,
                    filePath: failure.location.filePath,
                    line: failure.location.line,
                    column: failure.location.column
                )
            )
        },
        fileID: fileID,
        filePath: filePath,
        line: line,
        column: column
    )
}
