import Wire
import ZeroMQ

/// Stage 2, authorise: who sent the message. With CURVE, the key's identity from the ZAP
/// handler (which admits only theme keys on the ingest socket); in plain mode (tests
/// only) the theme the payload names, taken on trust. That a report's theme is its
/// key's own is checked by ``Validate`` (`303 identity_mismatch`).
struct Authorise: Sendable {
    /// Whether identities may be missing (plain mode).
    let plain: Bool

    /// The publisher a message counts for, or why it is refused.
    func callAsFunction(_ f: Decode.Framed) -> Result<String, Refused> {
        if let identity = f.identity {
            // The ZAP domain refuses operator keys at the handshake already; a second
            // check costs a prefix test and keeps a role from ever publishing.
            if identity.hasPrefix("operator:") {
                return .failure(Refused(routing: f.routing, code: .notPermitted,
                                        detail: "the key of \(identity) is an operator's; only a theme's key may publish reports", theme: nil))
            }
            return .success(identity)
        }
        guard plain else {
            // Cannot happen with a CURVE server and a ZAP handler; refuse rather than trust.
            return .failure(Refused(routing: f.routing, code: .identityMismatch, detail: "the connection is not authenticated", theme: nil))
        }
        return .success(f.payloadFrame.withUnsafeBytes { Self.themeGuess($0) } ?? "?")
    }

    /// In plain mode the theme field names the publisher; read it without a full decode.
    static func themeGuess(_ p: UnsafeRawBufferPointer) -> String? {
        guard p.count >= 3, p[0] == Field.theme.rawValue else { return nil }
        let n = Int(p[1]) | Int(p[2]) << 8
        guard p.count >= 3 + n else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: p[3..<3 + n]), as: UTF8.self)
    }
}
