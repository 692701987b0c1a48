// The HTTP side: pages, the browser runtime's files, health, and the socket upgrade, run with graceful shutdown.

import Foundation
import Hummingbird
import HummingbirdCore
import NIOHTTP1
import NIOPosix
import Logging
import NIOCore
import Rill
import ServiceLifecycle

/// Serves an `App`'s pages and its WebSocket endpoint over HTTP.
///
/// Routes: each page at its path, `GET /_rill/rill.js` and `/_rill/rill.css` (the browser
/// runtime), `GET /ping` (health), and `GET /_rill/socket` (the WebSocket, see docs/protocol.md).
public struct Server: Sendable {
    /// The app whose tabs this server connects.
    public let app: App
    /// Plain HTTP routes served beside the app's pages.
    public let routes: [HTTPRoute]
    /// Where and how it listens.
    public let configuration: ServerConfiguration
    private let eventLoopGroup: (any EventLoopGroup)?
    private let logger: Logger

    /// The socket endpoint's path.
    public static let socketPath = "/_rill/socket"

    /// Creates a server for `app`'s pages; nothing listens until ``run(onListening:)``.
    /// - Parameters:
    ///   - app: The app whose pages and tabs it serves.
    ///   - routes: Plain HTTP routes served beside the pages.
    ///   - configuration: Where and how it listens.
    ///   - eventLoopGroup: The threads sockets run on; by default a group of
    ///     ``ServerConfiguration/threads`` threads made for the run, or NIO's shared one.
    public init(app: App, routes: [HTTPRoute] = [], configuration: ServerConfiguration = ServerConfiguration(), eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.app = app
        self.routes = routes
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        var logger = Logger(label: "rill.server")
        logger.logLevel = configuration.logLevel
        self.logger = logger
    }

    /// Listens until SIGINT or SIGTERM, then shuts down gracefully: no new sockets, events
    /// and tasks get ``ServerConfiguration/shutdownGracePeriod`` to finish, sockets close
    /// with code 1001.
    /// - Parameter onListening: Called with the bound port once the server accepts connections.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        if let eventLoopGroup {
            try await run(on: eventLoopGroup, onListening: onListening)
        } else {
            try await configuration.withEventLoops { try await run(on: $0, onListening: onListening) }
        }
    }

    private func run(on loops: any EventLoopGroup, onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let application = try makeApplication(loops: loops, onListening: onListening)
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: application),
                // Last in the list, so it is the first to shut down: sockets close before the
                // HTTP server waits for its connections to end.
                .init(service: Drain(app: app, gracePeriod: configuration.shutdownGracePeriod)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }

    private func makeApplication(loops: any EventLoopGroup, onListening: @escaping @Sendable (Int) async -> Void) throws -> some ApplicationProtocol {
        for source in configuration.imageSources where !ServerConfiguration.isImageSource(source) {
            throw ConfigurationError("image source '\(source.prefix(100))' is not https:, http: or an http(s) origin such as https://cdn.example.com")
        }
        let assets = try Assets.load()
        let router = Router()
        // First, so that it wraps every route and the not-found answer.
        router.add(middleware: GuardMiddleware(configuration: configuration))
        if let folder = configuration.assetsDirectory {
            // Files answer where no route does: the not-found page is a 404 response, not an error.
            router.add(middleware: FileMiddleware(folder, urlBasePath: "/assets", logger: logger).withServeOnNotFoundResponse())
        }
        let securityHeaders = Assets.securityHeaders(imageSources: configuration.imageSources)
        let connection = configuration.connectionSettings
        for page in app.pages {
            let html = ByteBuffer(string: page.html(connection: connection, storage: app.browserStorageJSON))
            router.get(RouterPath(page.path)) { _, _ in Self.htmlResponse(html, status: .ok, headers: securityHeaders) }
        }
        let routePaths = Set(routes.map(\.path))
        let servesFiles = configuration.assetsDirectory != nil
        // What the runtime fetches to move to another page without reloading: the page object
        // and the status its HTML would have. Always 200, so a missing page is no console error.
        let app = app
        router.get(RouterPath(Self.pagePath)) { request, _ in
            let target = request.uri.queryParameters.get("path") ?? "/"
            let path = String(target.prefix { $0 != "?" && $0 != "#" })
            let page = app.page(at: path)?.page
            var headers = securityHeaders
            headers[.contentType] = "application/json"
            headers[.cacheControl] = "no-cache"
            // A plain route or a file is no page: the runtime loads it as the browser would.
            let served = routePaths.contains(path) || (servesFiles && path.hasPrefix("/assets/"))
                || ["/ping", "/metrics", "/favicon.ico"].contains(path)
            let answer: JSON = page == nil && served
                ? ["load": true]
                : ["status": .int(page == nil ? 404 : 200), "page": (page ?? app.notFound).json]
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.serialized())))
        }
        for asset in assets {
            router.get(RouterPath(asset.path)) { request, _ in
                var headers = securityHeaders
                headers[.contentType] = asset.contentType
                headers[.eTag] = asset.etag
                headers[.cacheControl] = "no-cache"
                if request.headers[.ifNoneMatch] == asset.etag {
                    return Response(status: .notModified, headers: headers)
                }
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
            }
        }
        for route in routes {
            router.get(RouterPath(route.path)) { _, _ in
                Response(status: .ok, headers: [.contentType: route.contentType], body: .init(byteBuffer: ByteBuffer(string: try await route.body())))
            }
        }
        // Browsers ask for it on every page; an empty answer keeps a 404 out of their console.
        router.get("/favicon.ico") { _, _ in Response(status: .noContent) }
        if let registry = configuration.metrics {
            router.get("/metrics") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
            }
        }
        // Any other path: the app's not-found page, with its status.
        let notFound = ByteBuffer(string: app.notFound.html(connection: connection, storage: app.browserStorageJSON))
        router.get("**") { _, _ in Self.htmlResponse(notFound, status: .notFound, headers: securityHeaders) }
        router.get("/ping") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        let configuration = configuration
        router.get(RouterPath(Self.socketPath)) { request, _ in
            let allowed = Self.originAllowed(request.headers[.origin], host: request.head.authority, configuration: configuration)
            return Response(
                status: allowed ? .badRequest : .forbidden,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: allowed ? "this endpoint takes a WebSocket upgrade\n" : "origin not allowed\n")))
        }
        if configuration.allowedHosts.isEmpty, !["127.0.0.1", "localhost", "::1"].contains(configuration.host) {
            logger.notice(
                "only requests naming \(configuration.host) or a loopback name in Host are served; list the site's names with --allowed-host",
                metadata: ["host": "\(configuration.host)"])
        }

        let logger = logger
        let connections = ConnectionCount(limit: configuration.maxConnections)
        let metrics = TransportMetrics()
        // Refused upgrades come from no tab: their log lines share one budget per reason.
        let refusals = LogBudget<String>()
        @Sendable func logRefusal(_ reason: String, _ metadata: Logger.Metadata) {
            let (log, dropped) = refusals.take(reason)
            guard log else { return }
            var metadata = metadata
            if dropped > 0 { metadata["unlogged"] = "\(dropped)" }
            logger.notice("socket refused: \(reason)", metadata: metadata)
        }
        let server = HTTPServerBuilder { responder in
            RillChannel(responder: responder, configuration: configuration, connections: connections, logger: logger) { head, channel in
                let uri = URI(head.uri)
                guard uri.path == Self.socketPath else {
                    return .refuse(.notFound, "no socket at \(uri.path.clipped()); the socket is \(Self.socketPath)")
                }
                let host = head.headers.first(name: "host")
                guard configuration.hostAllowed(host) else {
                    logRefusal("host not allowed", ["host": "\((host ?? "-").clipped())"])
                    return .refuse(.forbidden, "host not allowed")
                }
                let origin = head.headers.first(name: "origin")
                guard Self.originAllowed(origin, host: host, configuration: configuration) else {
                    logRefusal("origin not allowed", ["origin": "\((origin ?? "-").clipped())"])
                    return .refuse(.forbidden, "origin not allowed")
                }
                var query: [String: String] = [:]
                for (key, value) in uri.queryParameters where query[String(key)] == nil {
                    query[String(key)] = String(value)
                }
                let router = RouterData(
                    token: Token.random(),
                    sessionID: Cookies(from: head.headers["cookie"])["rill_session"]?.value,
                    clientAddress: channel.remoteAddress?.ipAddress,
                    path: String((query["path"] ?? "/").prefix { $0 != "?" && $0 != "#" }),
                    headers: Self.headers(of: head.headers))
                return .accept(SocketSession(app: app, query: query, router: router, logger: logger, metrics: metrics))
            }
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("Rill listening", metadata: ["url": "http://\(configuration.host):\(port)"])
                await onListening(port)
            },
            eventLoopGroupProvider: .shared(loops),
            logger: logger
        )
    }

    /// Where the runtime fetches another page's object (`?path=/post/7`).
    static let pagePath = "/_rill/page"

    private static func htmlResponse(_ html: ByteBuffer, status: HTTPResponse.Status, headers: HTTPFields) -> Response {
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        return Response(status: status, headers: headers, body: .init(byteBuffer: html))
    }

    /// Whether a socket from `origin` may connect: listed origins, or else the request's own
    /// host. A request without `Origin` comes from no browser (a script or a test) and is allowed.
    static func originAllowed(_ origin: String?, host: String?, configuration: ServerConfiguration) -> Bool {
        guard let origin else { return true }
        if !configuration.allowedOrigins.isEmpty {
            return configuration.allowedOrigins.contains(origin)
        }
        guard let host, let schemeEnd = origin.range(of: "://") else { return false }
        return origin[schemeEnd.upperBound...].lowercased() == host.lowercased()
    }

    /// The request's headers by lower-case name; the first of repeated ones.
    static func headers(of fields: HTTPHeaders) -> [String: String] {
        Dictionary(fields.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
    }
}

/// Shuts the app down when the service group begins a graceful shutdown.
private struct Drain: Service {
    let app: App
    let gracePeriod: Duration

    func run() async throws {
        try? await gracefulShutdown()
        await app.shutdown(gracePeriod: gracePeriod)
    }
}

/// A plain HTTP `GET` route served beside the pages, e.g. a small API an example calls.
public struct HTTPRoute: Sendable {
    /// The path, e.g. `/zen`.
    public let path: String
    /// The `Content-Type` of the body.
    public let contentType: String
    /// Produces the body for each request.
    public let body: @Sendable () async throws -> String

    /// A route answering `GET path` with the text `body` returns.
    public init(_ path: String, contentType: String = "text/plain; charset=utf-8", body: @escaping @Sendable () async throws -> String) {
        self.path = path
        self.contentType = contentType
        self.body = body
    }
}

/// Answers only requests whose `Host` the server is meant for (see
/// ``ServerConfiguration/allowedHosts``) and puts the security headers on every response,
/// errors and not-found answers included.
struct GuardMiddleware<Context: RequestContext>: RouterMiddleware {
    let configuration: ServerConfiguration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard configuration.hostAllowed(request.head.authority) else {
            return Self.secured(Response(
                status: .forbidden, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "host not allowed\n"))))
        }
        do {
            return Self.secured(try await next(request, context))
        } catch let error as HTTPResponseError {
            return Self.secured(try error.response(from: request, context: context))
        }
    }

    static func secured(_ response: Response) -> Response {
        var response = response
        for field in Assets.securityHeaders where response.headers[field.name] == nil {
            response.headers.append(field)
        }
        return response
    }
}

/// A server configuration that cannot be served, set in code; the message says what to change.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
