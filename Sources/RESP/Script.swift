// Lua scripts identified by their SHA-1, so they can be run with EVALSHA without a round trip to load them.

import Crypto

/// A Lua script and its SHA-1 digest, which Redis uses as the script's name in its script cache.
///
/// The digest is computed here rather than asked of Redis (`SCRIPT LOAD`), so a script can be
/// run by digest from the first call: ``RedisClient/evalsha(_:keys:args:)`` falls back to
/// sending the source when Redis does not know the script yet. Make scripts once, as constants.
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: String
    /// The source's SHA-1 digest in lowercase hexadecimal, as `SCRIPT LOAD` returns it.
    public let sha1: String

    /// Wraps `source` and computes its digest.
    public init(_ source: String) {
        self.source = source
        // SHA-1 only names the script, as Redis requires; its weakness against collisions does not matter here.
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
