// The compiler plugin entry point that lists Rill's macros.

import SwiftCompilerPlugin
import SwiftSyntaxMacros

@main
struct RillMacrosPlugin: CompilerPlugin {
    let providingMacros: [Macro.Type] = [
        LiveStateMacro.self,
        BackendMacro.self,
        ComputedMacro.self,
        BackgroundMacro.self,
        LinkedMacro.self,
    ]
}
