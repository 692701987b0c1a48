// The browser runtime's files, loaded once, and the security headers every response carries.

import Foundation
import HTTPTypes
import NIOCore

/// A static file served from the package's resources.
struct Asset: Sendable {
    let path: String
    let contentType: String
    let body: ByteBuffer
    let etag: String

    /// The runtime script and stylesheet shipped in `Resources/`.
    static func load() throws -> [Asset] {
        try [
            load("rill.js", at: "/_rill/rill.js", type: "text/javascript; charset=utf-8"),
            load("rill.css", at: "/_rill/rill.css", type: "text/css; charset=utf-8"),
        ]
    }

    private static func load(_ name: String, at path: String, type: String) throws -> Asset {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Resources") else {
            throw MissingResource(name: name)
        }
        let bytes = try [UInt8](Data(contentsOf: url))
        // FNV-1a is enough to tell versions apart for caching.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Asset(path: path, contentType: type, body: ByteBuffer(bytes: bytes), etag: "\"\(String(hash, radix: 16))\"")
    }

    struct MissingResource: Error, CustomStringConvertible {
        let name: String
        var description: String { "the RillServer bundle has no Resources/\(name); the package is incomplete" }
    }
}

enum Assets {
    static func load() throws -> [Asset] { try Asset.load() }

    /// A strict policy: scripts and styles only from this origin, no inline script, no eval,
    /// no framing.
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

    static let securityHeaders = securityHeaders(imageSources: [])

    /// The headers every response carries; `imageSources` are added to `img-src`
    /// (``ServerConfiguration/imageSources``).
    static func securityHeaders(imageSources: [String]) -> HTTPFields {
        let policy = imageSources.isEmpty
            ? contentSecurityPolicy
            : contentSecurityPolicy.replacingOccurrences(of: "img-src 'self' data:", with: "img-src 'self' data: " + imageSources.joined(separator: " "))
        return [
            HTTPField.Name("Content-Security-Policy")!: policy,
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
            HTTPField.Name("X-Frame-Options")!: "DENY",
        ]
    }
}
