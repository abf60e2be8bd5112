import Synchronization
import ZeroMQ

/// Who may use which channel, and what an operator may acknowledge
/// (`docs/protocol.md` §1.1, `docs/operations.md` "Roles").
///
/// - A **theme key** (identity = a theme id) publishes its own theme's reports on the
///   ingest channel, and on the snapshot channel may read its own theme's snapshot.
///   It may not read the stream, nor acknowledge.
/// - An **operator key** (identity `operator:NAME`) reads the stream and every snapshot,
///   and acknowledges alerts: every alert, or only its scope's themes' when its key file
///   names them (`themes = "work health"`). It may not publish reports.
///
/// The split is made at the handshake, by ZAP domain (a refused key fails its CURVE
/// handshake with ZAP status 400), and per request on the snapshot channel (refused
/// with `308 not_permitted`).
public final class Access: Sendable {
    /// The ZAP domain each server socket presents.
    public enum Channel: String, Sendable, CaseIterable {
        case ingest = "koers-ingest"
        case stream = "koers-stream"
        case snapshot = "koers-snapshot"
    }

    /// What one authenticated connection is.
    public enum Role: Sendable, Equatable {
        case theme(String)
        /// An operator, and the themes it may acknowledge (nil: every theme).
        case `operator`(name: String, themes: Set<String>?)
        /// Plain mode: no keys, no roles (tests only).
        case unauthenticated
    }

    private let scopes: Mutex<[String: Set<String>]>

    /// - Parameter scopes: operator identity (`operator:NAME`) → the themes it may
    ///   acknowledge; an operator not listed may acknowledge every theme.
    public init(scopes: [String: Set<String>] = [:]) { self.scopes = Mutex(scopes) }

    /// Replaces the operators' scopes (after re-reading the key directory).
    public func replaceScopes(_ s: [String: Set<String>]) { scopes.withLock { $0 = s } }

    public static func isOperator(_ identity: String) -> Bool { identity.hasPrefix("operator:") }

    /// Whether `identity` may connect to a socket of ZAP domain `domain`.
    @Sendable public static func admits(domain: String, identity: String) -> Bool {
        switch Channel(rawValue: domain) {
        case .ingest: !isOperator(identity)
        case .stream: isOperator(identity)
        case .snapshot: true
        case nil: false
        }
    }

    /// The role of a connection by the identity ZAP gave it (nil in plain mode).
    public func role(of identity: String?) -> Role {
        guard let identity else { return .unauthenticated }
        guard Self.isOperator(identity) else { return .theme(identity) }
        return .operator(name: String(identity.dropFirst("operator:".count)), themes: scopes.withLock { $0[identity] })
    }
}
