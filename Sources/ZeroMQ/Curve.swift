import CZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// Z85, the ZeroMQ text encoding of binary keys (RFC 32), using libzmq's own codec.
public enum Z85 {
    /// Encodes bytes whose count is a multiple of 4.
    public static func encode(_ bytes: [UInt8]) throws(ZMQError) -> String {
        guard bytes.count % 4 == 0 else {
            throw ZMQError(code: .invalidKey, operation: "z85 encode",
                           message: "z85 encode: \(bytes.count) bytes is not a multiple of 4")
        }
        var out = [CChar](repeating: 0, count: bytes.count * 5 / 4 + 1)
        let ok = bytes.withUnsafeBufferPointer { zmq_z85_encode(&out, $0.baseAddress, $0.count) } != nil
        guard ok else { throw ZMQError.last("z85 encode") }
        return text(out)
    }

    /// Decodes Z85 text whose length is a multiple of 5.
    public static func decode(_ text: String) throws(ZMQError) -> [UInt8] {
        let alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
        guard text.utf8.count % 5 == 0 else {
            throw ZMQError(code: .invalidKey, operation: "z85 decode",
                           message: "z85 decode: \(text.utf8.count) characters is not a multiple of 5")
        }
        if let bad = text.first(where: { !alphabet.contains($0) }) {
            throw ZMQError(code: .invalidKey, operation: "z85 decode",
                           message: "z85 decode: character \"\(bad)\" is not in the Z85 alphabet")
        }
        var out = [UInt8](repeating: 0, count: text.utf8.count * 4 / 5)
        guard zmq_z85_decode(&out, text) != nil else {
            throw ZMQError(code: .invalidKey, operation: "z85 decode",
                           message: "z85 decode: \"\(text)\" is not valid Z85 (a group overflows 32 bits)")
        }
        return out
    }
}

/// A CURVE public key: 32 bytes, written as 40 Z85 characters.
public struct CurvePublicKey: Hashable, Sendable, CustomStringConvertible, SocketOptionValue {
    /// The 32 key bytes.
    public let bytes: [UInt8]

    /// A key from its 32 bytes.
    public init(bytes: [UInt8]) throws(ZMQError) {
        guard bytes.count == 32 else {
            throw ZMQError(code: .invalidKey, operation: "CURVE public key",
                           message: "CURVE public key: expected 32 bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// A key from its 40-character Z85 text.
    public init(z85: String) throws(ZMQError) {
        guard z85.utf8.count == 40 else {
            throw ZMQError(code: .invalidKey, operation: "CURVE public key",
                           message: "CURVE public key: expected 40 Z85 characters, got \(z85.utf8.count)")
        }
        try self.init(bytes: Z85.decode(z85))
    }

    /// The key as 40 Z85 characters.
    public var z85: String { (try? Z85.encode(bytes)) ?? "" }
    public var description: String { z85 }

    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        try bytes.withOptionBytes(body)
    }
    public static func fromOptionBytes(_ bytes: UnsafeRawBufferPointer) -> CurvePublicKey {
        // getsockopt of a key option returns exactly 32 bytes.
        try! CurvePublicKey(bytes: Array(bytes.prefix(32)))
    }
    public static var optionCapacity: Int { 32 }
}

/// A CURVE secret key. Its description never prints the key itself.
public struct CurveSecretKey: Sendable, CustomStringConvertible, SocketOptionValue {
    /// The 32 key bytes.
    public let bytes: [UInt8]

    /// A key from its 32 bytes.
    public init(bytes: [UInt8]) throws(ZMQError) {
        guard bytes.count == 32 else {
            throw ZMQError(code: .invalidKey, operation: "CURVE secret key",
                           message: "CURVE secret key: expected 32 bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// A key from its 40-character Z85 text.
    public init(z85: String) throws(ZMQError) {
        guard z85.utf8.count == 40 else {
            throw ZMQError(code: .invalidKey, operation: "CURVE secret key",
                           message: "CURVE secret key: expected 40 Z85 characters, got \(z85.utf8.count)")
        }
        try self.init(bytes: Z85.decode(z85))
    }

    /// The key as 40 Z85 characters. Keep it out of logs.
    public var z85: String { (try? Z85.encode(bytes)) ?? "" }

    /// The public key that belongs to this secret key (`zmq_curve_public`).
    public var publicKey: CurvePublicKey {
        get throws(ZMQError) {
            var pub = [CChar](repeating: 0, count: 41)
            try check(zmq_curve_public(&pub, z85), "zmq_curve_public")
            return try CurvePublicKey(z85: text(pub))
        }
    }

    public var description: String { "CurveSecretKey(<redacted>)" }

    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        try bytes.withOptionBytes(body)
    }
    public static func fromOptionBytes(_ bytes: UnsafeRawBufferPointer) -> CurveSecretKey {
        try! CurveSecretKey(bytes: Array(bytes.prefix(32)))
    }
    public static var optionCapacity: Int { 32 }
}

/// A CURVE key pair.
public struct CurveKeyPair: Sendable {
    /// The part to share with peers.
    public let publicKey: CurvePublicKey
    /// The part to keep private.
    public let secretKey: CurveSecretKey

    /// A pair from its parts; throws ``ZMQError/Code/invalidKey`` when they do not belong together.
    public init(publicKey: CurvePublicKey, secretKey: CurveSecretKey) throws(ZMQError) {
        guard try secretKey.publicKey == publicKey else {
            throw ZMQError(code: .invalidKey, operation: "CURVE key pair",
                           message: "CURVE key pair: the public key \(publicKey) does not belong to the secret key")
        }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Generates a new random key pair (`zmq_curve_keypair`).
    public static func generate() throws(ZMQError) -> CurveKeyPair {
        try ZeroMQ.requireCurve()
        var pub = [CChar](repeating: 0, count: 41)
        var sec = [CChar](repeating: 0, count: 41)
        try check(zmq_curve_keypair(&pub, &sec), "zmq_curve_keypair")
        return try CurveKeyPair(publicKey: CurvePublicKey(z85: text(pub)),
                                secretKey: CurveSecretKey(z85: text(sec)))
    }
}

extension Socket {
    /// Makes this socket a CURVE client of a server whose public key is `serverKey`.
    /// Call before `connect`.
    public func makeCurveClient(keyPair: CurveKeyPair, serverKey: CurvePublicKey) throws(ZMQError) {
        try set(.curveServerKey, serverKey)
        try set(.curvePublicKey, keyPair.publicKey)
        try set(.curveSecretKey, keyPair.secretKey)
    }

    /// Makes this socket a CURVE server whose clients are judged by `authenticator`.
    /// Call before `bind`.
    ///
    /// libzmq lets every CURVE client in when no ZAP handler answers; this method is the
    /// only public way to turn CURVE server mode on, and it refuses unless the
    /// authenticator runs in this socket's context. The socket then holds the
    /// authenticator open until it is closed.
    ///
    /// - Throws: ``ZMQError/Code/noAuthenticator`` when the authenticator is stopped or
    ///   belongs to another context.
    public func makeCurveServer(secretKey: CurveSecretKey, authenticator: ZAPAuthenticator, domain: String? = nil) throws(ZMQError) {
        guard authenticator.context === context else {
            throw ZMQError(code: .noAuthenticator, operation: "makeCurveServer",
                           message: "makeCurveServer: the ZAP authenticator runs in another context; start one in this socket's context")
        }
        let lease = try authenticator.lease()
        try set(SocketOption<String>.zapDomain, domain ?? authenticator.domain)
        try set(SocketOption<CurveSecretKey>.curveSecretKey, secretKey)
        try set(SocketOption<Bool>(name: ZMQ_CURVE_SERVER, label: "ZMQ_CURVE_SERVER"), true)
        authenticatorLease = lease
    }
}

/// The text of a NUL-terminated C buffer that libzmq filled.
private func text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
