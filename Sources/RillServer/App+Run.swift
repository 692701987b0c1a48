// The one call an app's `main` makes: parse options, serve the pages, stop on a signal.

import ArgumentParser
import Foundation
import Rill

extension App {
    /// Serves `pages` with options from the command line and the environment (see
    /// ``ServerOptions``) until SIGINT or SIGTERM.
    ///
    /// ```swift
    /// @main struct Main {
    ///     static func main() async throws {
    ///         let page = Page("/", title: "Background task") { backgroundTaskExample() }
    ///         try await App(pages: [page]).run()
    ///     }
    /// }
    /// ```
    /// - Parameter routes: Plain HTTP routes served beside the pages.
    public func run(routes: [HTTPRoute] = [], arguments: [String] = Array(CommandLine.arguments.dropFirst())) async throws {
        let configuration: ServerConfiguration
        do {
            configuration = try ServerOptions.parse(arguments).configuration(environment: ProcessInfo.processInfo.environment)
        } catch {
            ServerOptions.exit(withError: error)
        }
        try await Server(app: self, routes: routes, configuration: configuration).run()
    }
}
