import CZeroMQ
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A ZAP handler (RFC 27) that admits CURVE clients by their public key.
///
/// It binds `inproc://zeromq.zap.01` in its context before its initialiser returns, so
/// it is running before any server socket can bind. Each client's public key is
/// looked up in an allow-list that maps it to an *identity*; the identity becomes the
/// connection's `User-Id`, readable from every message it sends
/// (``Message/userID``). Every decision is logged. Anything but CURVE is refused.
///
/// libzmq admits every CURVE client when no ZAP handler answers. Koers makes that
/// mistake hard: ``Socket/makeCurveServer(secretKey:authenticator:)`` is the only way to
/// make a CURVE server and needs a running authenticator, and the authenticator will
/// not stop while a server socket still depends on it.
///
/// ```swift
/// let zap = try ZAPAuthenticator(context: context, allow: [talentKey: "talent"])
/// let ingest = try context.socket(.pull)
/// try ingest.makeCurveServer(secretKey: serverKeys.secretKey, authenticator: zap)
/// try ingest.bind("tcp://127.0.0.1:7401")
/// ```
public final class ZAPAuthenticator: Sendable {
    /// The endpoint libzmq sends ZAP requests to.
    public static let endpoint = "inproc://zeromq.zap.01"

    /// The context whose server sockets this authenticator judges.
    public let context: Context
    /// The ZAP domain that server sockets present.
    public let domain: String
    let logger: Logger
    private let allowList: Mutex<[CurvePublicKey: String]>
    private let state = Mutex(State())
    private let wakeFD: Int32
    private let counts = Mutex((allowed: 0, denied: 0))
    /// Which identities each ZAP domain admits (a socket's role); nil admits every trusted key.
    private let admits: (@Sendable (_ domain: String, _ identity: String) -> Bool)?

    private struct State {
        var leases = 0
        var stopRequested = false
        var stopped = false
        var stopWaiters: [UnsafeContinuation<Void, Never>] = []
    }

    /// Binds the ZAP endpoint and starts answering requests.
    ///
    /// - Parameters:
    ///   - context: the context of the server sockets to guard.
    ///   - domain: the ZAP domain; server sockets made with this authenticator use it.
    ///   - allow: each trusted client public key and the identity it authenticates as.
    ///   - logger: where decisions are logged (allowed at info, refused at warning).
    ///   - admits: whether a trusted identity may connect to a socket of this ZAP
    ///     domain (`makeCurveServer(…, domain:)`); a refused one fails its handshake
    ///     with ZAP status 400. Nil admits every trusted key everywhere.
    /// - Throws: ``ZMQError/Code/addressInUse`` when another authenticator already runs
    ///   in this context.
    public init(context: Context, domain: String = "koers", allow: [CurvePublicKey: String],
                logger: Logger = Logger(label: "koers.zap"),
                admits: (@Sendable (_ domain: String, _ identity: String) -> Bool)? = nil) throws(ZMQError) {
        self.context = context
        self.admits = admits
        self.domain = domain
        self.logger = logger
        self.allowList = Mutex(allow)
        let socket = try context.socket(.rep)
        try socket.set(.linger, .after(.zero))
        do {
            try socket.bind(Self.endpoint)
        } catch where error.code == .addressInUse {
            throw ZMQError(code: .addressInUse, errno: error.errno, operation: "ZAP authenticator bind",
                           endpoint: Self.endpoint,
                           message: "ZAP authenticator: another authenticator already runs in this context (\(Self.endpoint) is bound)")
        }
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(fd >= 0, "eventfd failed: errno \(errno)")
        self.wakeFD = fd
        let loop = Loop(socket: socket, authenticator: self)
        let thread = Thread { loop.run() }
        thread.name = "zmq-zap"
        thread.start()
    }

    deinit { Glibc.close(wakeFD) }

    // MARK: - The allow-list

    /// Trusts `key` as `identity` from now on (existing connections are unaffected).
    public func allow(_ key: CurvePublicKey, as identity: String) {
        allowList.withLock { $0[key] = identity }
    }

    /// Stops trusting `key` for new connections.
    public func revoke(_ key: CurvePublicKey) {
        _ = allowList.withLock { $0.removeValue(forKey: key) }
    }

    /// Replaces the whole allow-list (after re-reading a key directory, say).
    public func replaceAllowList(_ allow: [CurvePublicKey: String]) {
        allowList.withLock { $0 = allow }
    }

    /// How many handshakes were allowed and denied so far.
    public var decisionCounts: (allowed: Int, denied: Int) { counts.withLock { $0 } }

    /// Whether the authenticator still answers requests.
    public var isRunning: Bool { state.withLock { !$0.stopRequested && !$0.stopped } }

    // MARK: - Lifetime

    /// A claim by a server socket that keeps the authenticator from stopping.
    final class Lease: Sendable {
        let authenticator: ZAPAuthenticator
        init(_ a: ZAPAuthenticator) { authenticator = a }
        deinit { authenticator.state.withLock { $0.leases -= 1 } }
    }

    func lease() throws(ZMQError) -> Lease {
        let ok = state.withLock { s -> Bool in
            guard !s.stopRequested && !s.stopped else { return false }
            s.leases += 1
            return true
        }
        guard ok else {
            throw ZMQError(code: .noAuthenticator, operation: "makeCurveServer",
                           message: "makeCurveServer: the ZAP authenticator is stopped; without it libzmq would admit any CURVE client")
        }
        return Lease(self)
    }

    /// Stops answering and unbinds the ZAP endpoint.
    ///
    /// - Throws: ``ZMQError/Code/invalidState`` while a CURVE server socket made with this
    ///   authenticator is still open: close those first, or libzmq would admit anyone.
    public func stop() async throws(ZMQError) {
        let inUse = state.withLock { s -> Int in
            if s.leases == 0 { s.stopRequested = true }
            return s.leases
        }
        guard inUse == 0 else {
            throw ZMQError(code: .invalidState, operation: "ZAP authenticator stop",
                           message: "ZAP authenticator: \(inUse) CURVE server socket(s) still depend on it; close them first")
        }
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
        await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.stopped { return true }
                s.stopWaiters.append(c)
                return false
            }
            if done { c.resume() }
        }
    }

    // MARK: - Deciding

    /// The reply to one ZAP request: status code, status text and user id.
    struct Decision: Equatable {
        var status: String
        var text: String
        var userID: String
    }

    func decide(_ request: Message) -> (requestID: Frame, decision: Decision) {
        let f = request.frames
        guard f.count >= 6 else {
            return (f.count > 1 ? f[1] : .empty,
                    Decision(status: "500", text: "malformed ZAP request: \(f.count) frames", userID: ""))
        }
        let version = f[0].string ?? "?"
        let requestID = f[1]
        let address = f[3].string ?? "?"
        let mechanism = f[5].string ?? "?"
        guard version == "1.0" else {
            return (requestID, Decision(status: "500", text: "unsupported ZAP version \(version)", userID: ""))
        }
        guard mechanism == "CURVE" else {
            return (requestID, deny("mechanism \(mechanism) is not allowed; Koers requires CURVE", address: address, key: nil))
        }
        guard f.count == 7, f[6].count == 32, let key = try? CurvePublicKey(bytes: f[6].bytes) else {
            return (requestID, deny("CURVE credentials missing or not 32 bytes", address: address, key: nil))
        }
        guard let identity = allowList.withLock({ $0[key] }) else {
            return (requestID, deny("unknown public key", address: address, key: key))
        }
        let domain = f[2].string ?? ""
        if let admits, !admits(domain, identity) {
            return (requestID, deny("identity \(identity) may not use this channel (ZAP domain \(domain))", address: address, key: key))
        }
        counts.withLock { $0.allowed += 1 }
        logger.info("ZAP allowed client", metadata: [
            "identity": "\(identity)", "key": "\(key.z85)", "address": "\(address)", "domain": "\(domain)",
        ])
        return (requestID, Decision(status: "200", text: "OK", userID: identity))
    }

    private func deny(_ reason: String, address: String, key: CurvePublicKey?) -> Decision {
        counts.withLock { $0.denied += 1 }
        logger.warning("ZAP refused client", metadata: [
            "reason": "\(reason)", "key": "\(key?.z85 ?? "-")", "address": "\(address)",
        ])
        return Decision(status: "400", text: reason, userID: "")
    }

    /// The REP loop on the authenticator's own thread.
    final class Loop: @unchecked Sendable {
        // Proof for Sendable: `socket` is used only by run(), on the one thread started
        // for it; the thread start is the memory barrier libzmq requires.
        let socket: Socket
        let authenticator: ZAPAuthenticator

        init(socket: Socket, authenticator: ZAPAuthenticator) {
            self.socket = socket
            self.authenticator = authenticator
        }

        func run() {
            var poller = Poller()
            let zap = poller.add(socket, events: .readable)
            let wake = poller.add(fileDescriptor: authenticator.wakeFD, events: .readable)
            serving: while !authenticator.state.withLock({ $0.stopRequested }) {
                do {
                    let ready = try poller.poll(timeout: .forever)
                    if ready[wake].contains(.readable) {
                        var v: UInt64 = 0
                        _ = Glibc.read(authenticator.wakeFD, &v, 8)
                    }
                    guard ready[zap].contains(.readable), let request = try socket.tryReceive() else { continue }
                    let (requestID, d) = authenticator.decide(request)
                    let reply = Message([Frame("1.0"), requestID, Frame(d.status), Frame(d.text), Frame(d.userID), .empty])
                    try socket.send(reply)
                } catch {
                    if error.code != .contextTerminated {
                        authenticator.logger.error("ZAP authenticator stopped on error", metadata: ["error": "\(error)"])
                    }
                    break serving
                }
            }
            socket.close()
            let waiters = authenticator.state.withLock { s -> [UnsafeContinuation<Void, Never>] in
                s.stopped = true
                defer { s.stopWaiters.removeAll() }
                return s.stopWaiters
            }
            for w in waiters { w.resume() }
        }
    }
}
