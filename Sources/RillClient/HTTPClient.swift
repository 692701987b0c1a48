// A one-request HTTP/1.1 GET client, for the plain routes of the server under test.

import NIOCore
import NIOHTTP1
import NIOPosix

/// A complete HTTP response.
public struct HTTPResponse: Sendable {
    /// The status code, such as 200.
    public let status: Int
    /// The headers, in order, as the server sent them.
    public let headers: [(String, String)]
    /// The whole body, with any chunked transfer coding removed.
    public let body: [UInt8]

    /// The body decoded as UTF-8, with invalid bytes replaced.
    public var text: String {
        String(decoding: self.body, as: UTF8.self)
    }

    /// The value of the first header called `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return self.headers.first { $0.0.lowercased() == name }?.1
    }
}

/// Plain HTTP requests, one connection each.
public enum HTTPClient {
    /// Sends one GET request with `Connection: close` and reads the whole response, whether
    /// its body is delimited by `Content-Length`, by chunked coding or by the end of the connection.
    ///
    /// - Parameters:
    ///   - host: The server's host name or address.
    ///   - port: The server's TCP port.
    ///   - path: The request target, such as `/health?verbose=1`.
    ///   - headers: Extra request headers.
    public static func get(host: String, port: Int, path: String, headers: [(String, String)] = []) async throws -> HTTPResponse {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let response = eventLoop.makePromise(of: HTTPResponse.self)
        let request = HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: path,
            headers: HTTPHeaders([("Host", hostHeader(host: host, port: port)), ("Connection", "close")] + headers)
        )
        let bootstrap = ClientBootstrap(group: eventLoop).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(ResponseCollector(request: request, response: response))
            }
        }
        do {
            _ = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            response.fail(error)
            throw error
        }
        return try await response.futureResult.get()
    }
}

/// Sends the request once connected, gathers the response, and closes the connection.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let request: HTTPRequestHead
    private var response: EventLoopPromise<HTTPResponse>?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?

    init(request: HTTPRequestHead, response: EventLoopPromise<HTTPResponse>) {
        self.request = request
        self.response = response
    }

    private func complete(_ result: Result<HTTPResponse, any Error>, context: ChannelHandlerContext) {
        guard let response = self.response else { return }
        self.response = nil
        response.completeWith(result)
        context.close(promise: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(self.wrapOutboundOut(.head(self.request)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var part):
            if self.body == nil {
                self.body = part
            } else {
                self.body!.writeBuffer(&part)
            }
        case .end:
            guard let head = self.head else { return }
            let response = HTTPResponse(
                status: Int(head.status.code),
                headers: head.headers.map { ($0.name, $0.value) },
                body: self.body.map { Array($0.readableBytesView) } ?? []
            )
            self.complete(.success(response), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.complete(.failure(error), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.complete(.failure(ChannelError.eof), context: context)
        context.fireChannelInactive()
    }
}
