import Crypto
import Foundation
import Synchronization

/// The operators' HTTP bearer tokens, by the SHA-256 the aggregator keeps of each
/// (`http-token-sha256` in the operator's public key file, `docs/protocol.md` §1.2).
/// The aggregator fills it with its trusted keys and replaces it on `SIGHUP`; the HTTP
/// server reads it on every request. Thread-safe.
public final class HTTPTokenBook: Sendable {
    /// Whom a token admits: an operator, and the themes it may acknowledge (nil: every theme).
    public struct Operator: Sendable, Equatable {
        public var identity: String
        public var scope: Set<String>?
        public init(identity: String, scope: Set<String>?) { self.identity = identity; self.scope = scope }
    }

    struct Entry: Sendable {
        var hash: [UInt8]
        var holder: Operator
    }

    private let entries: Mutex<[Entry]>

    /// - Parameter hashes: `operator:NAME` → the SHA-256 of its token in hex, and its scope.
    public init(_ hashes: [String: (sha256Hex: String, scope: Set<String>?)] = [:]) {
        entries = Mutex(Self.entries(hashes))
    }

    /// Replaces every token (the key directory was read again).
    public func replace(_ hashes: [String: (sha256Hex: String, scope: Set<String>?)]) {
        let new = Self.entries(hashes)
        entries.withLock { $0 = new }
    }

    public var count: Int { entries.withLock { $0.count } }

    static func entries(_ hashes: [String: (sha256Hex: String, scope: Set<String>?)]) -> [Entry] {
        hashes.sorted { $0.key < $1.key }.compactMap { identity, v in
            HTTPToken.bytes(hex: v.sha256Hex).map { Entry(hash: $0, holder: Operator(identity: identity, scope: v.scope)) }
        }
    }

    /// The operator a presented token belongs to, or nil. The token is hashed and compared
    /// with every known hash in constant time, so neither the time taken nor an early
    /// exit tells how much of a guess was right.
    public func holder(of token: String) -> Operator? {
        let presented = Array(SHA256.hash(data: Data(token.utf8)))
        return entries.withLock { all in
            var found: Operator?
            for e in all where HTTPToken.constantTimeEqual(e.hash, presented) && found == nil { found = e.holder }
            return found
        }
    }
}

/// Making and checking HTTP tokens.
public enum HTTPToken {
    /// A new token: 32 random bytes, base64url without padding; and its SHA-256 in hex,
    /// which is all the aggregator keeps.
    public static func generate() -> (token: String, sha256Hex: String) {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        let token = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return (token, sha256Hex(token))
    }

    /// The SHA-256 of a token's UTF-8 bytes, in lowercase hex.
    public static func sha256Hex(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func bytes(hex: String) -> [UInt8]? {
        guard hex.count == 64 else { return nil }
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            guard let b = UInt8(hex[i..<j], radix: 16) else { return nil }
            out.append(b)
            i = j
        }
        return out
    }

    /// Whether two byte strings are equal, looking at every byte of both whatever differs.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
