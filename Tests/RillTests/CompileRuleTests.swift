// What must not compile: calling a background task directly, and changing a state read with getState.
//
// Each case is type-checked by the real compiler against the Rill module and macro plugin of
// this build, so a rule that stops holding fails here.

import Foundation
import Testing

@Suite struct CompileRuleTests {
    /// A state with a background task, a second task and another state, that each case extends.
    private static let base = """
        import Rill

        @LiveState
        struct Other { var x = 0 }

        @LiveState
        struct Job {
            var count = 0

            @Background
            private func work(_: BackgroundRun) async throws {
                try await withState { $0.count += 1 }
            }

            mutating func start() -> EventSpec { Self.event.work }

        """

    @Test func theRulesAllowTheIntendedUse() throws {
        let result = try typecheck(Self.base + """
                mutating func readAndWrite() async throws {
                    let other = try await getState(Other.self)
                    count = other.x
                    try await modifyState(Other.self) { $0.x += 1 }
                }
            }
            """)
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func aBackgroundTaskCannotBeCalledInItsType() throws {
        try expectError(Self.base + """
                mutating func sneaky() async throws { try await work() }
            }
            """, "missing argument for parameter #1")
    }

    @Test func aBackgroundTaskCannotBeCalledFromAnExtensionInTheSameFile() throws {
        try expectError(Self.base + """
            }
            extension Job {
                mutating func sneaky() async throws { try await work() }
            }
            """, "missing argument for parameter #1")
    }

    @Test func aBackgroundTaskCannotBeCalledThroughAMethodReference() throws {
        try expectError(Self.base + """
                mutating func sneaky() async throws {
                    let f = self.work
                    try await f()
                }
            }
            """, "missing argument for parameter #1")
    }

    @Test func aBackgroundTaskCannotBeCalledFromAnotherTask() throws {
        try expectError(Self.base + """
                @Background
                private func other(_: BackgroundRun) async throws { try await work() }
            }
            """, "missing argument for parameter #1")
    }

    @Test func noCodeCanMakeABackgroundRun() throws {
        try expectError(Self.base + """
                @Background
                private func other(_: BackgroundRun) async throws { try await work(BackgroundRun()) }
            }
            """, "'BackgroundRun' initializer is inaccessible")
    }

    @Test func aTaskCannotNameItsRunToPassItOn() throws {
        try expectError(Self.base + """
                @Background
                private func other(_ run: BackgroundRun) async throws { try await work(run) }
            }
            """, "leave the BackgroundRun parameter of 'other' unnamed")
    }

    @Test func aStateReadWithGetStateCannotBeChanged() throws {
        try expectError(Self.base + """
                mutating func lost() async throws {
                    var other = try await getState(Other.self)
                    other.x += 1
                }
            }
            """, "immutable")
    }

    private func expectError(_ source: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try typecheck(source)
        #expect(result.status != 0, "compiled, but must not", sourceLocation: sourceLocation)
        #expect(result.output.contains("error: \(message)") || result.output.contains(message), "\(result.output)", sourceLocation: sourceLocation)
    }

    /// Runs `swiftc -typecheck` on `source` with this build's modules and macro plugin.
    private func typecheck(_ source: String) throws -> (status: Int32, output: String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let build = ProcessInfo.processInfo.environment["RILL_BUILD_DIR"].map { URL(fileURLWithPath: $0) }
            ?? root.appendingPathComponent(".build/debug")
        let modules = build.appendingPathComponent("Modules")
        let plugin = build.appendingPathComponent("RillMacros-tool")
        for needed in [modules.appendingPathComponent("Rill.swiftmodule"), plugin] {
            guard FileManager.default.fileExists(atPath: needed.path) else {
                throw MissingBuild(path: needed.path)
            }
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rill-compile-\(UUID().uuidString).swift")
        try source.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swiftc", "-typecheck", "-I", modules.path, "-load-plugin-executable", "\(plugin.path)#RillMacros", file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    struct MissingBuild: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) is missing: build with `swift build --build-tests` first, or set RILL_BUILD_DIR" }
    }
}
