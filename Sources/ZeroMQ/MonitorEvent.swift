import CZeroMQ

/// A socket event reported by libzmq's monitor (`zmq_socket_monitor`).
public enum MonitorEvent: Sendable, Hashable, CustomStringConvertible {
    /// A connection to `endpoint` was made (TCP/IPC level; the handshake follows).
    case connected(endpoint: String)
    /// A connect attempt is under way and did not complete at once.
    case connectDelayed(endpoint: String)
    /// A reconnect is scheduled after `interval` milliseconds.
    case connectRetried(endpoint: String, intervalMilliseconds: Int)
    /// The socket listens on `endpoint`.
    case listening(endpoint: String)
    /// Binding `endpoint` failed with `errno`.
    case bindFailed(endpoint: String, errno: Int32)
    /// A peer connected to a bound endpoint.
    case accepted(endpoint: String)
    /// Accepting a connection failed with `errno`.
    case acceptFailed(endpoint: String, errno: Int32)
    /// A connection's descriptor was closed.
    case closed(endpoint: String)
    /// A session's connection was lost.
    case disconnected(endpoint: String)
    /// The ZMTP handshake (and authentication) completed.
    case handshakeSucceeded(endpoint: String)
    /// The handshake failed without detail (`errno`), typically a dropped connection.
    case handshakeFailed(endpoint: String, errno: Int32)
    /// The handshake broke the protocol; `code` is a `ZMQ_PROTOCOL_ERROR_*` value. A
    /// client using the wrong server key shows up here on the server.
    case handshakeFailedProtocol(endpoint: String, code: UInt32)
    /// The authenticator refused the peer; `status` is its ZAP status code (400, 500, …).
    case handshakeFailedAuthentication(endpoint: String, status: Int)
    /// The monitor stopped; no further events follow.
    case monitorStopped
    /// An event this wrapper does not name.
    case other(event: UInt16, value: UInt32, endpoint: String)

    /// Whether the peer was refused by authentication (as opposed to a network or protocol failure).
    public var isAuthenticationFailure: Bool {
        if case .handshakeFailedAuthentication = self { return true }
        return false
    }

    /// Decodes the two frames libzmq sends per event: 6 bytes of event number and value
    /// (host byte order), then the endpoint.
    init(frames: [Frame]) throws(ZMQError) {
        guard frames.count == 2, frames[0].count == 6 else {
            throw ZMQError(code: .malformedFrame, operation: "monitor event",
                           message: "monitor event: expected 2 frames with a 6-byte header, got \(frames.map(\.count))")
        }
        let (event, value) = frames[0].withUnsafeBytes { b in
            (b.loadUnaligned(fromByteOffset: 0, as: UInt16.self), b.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        }
        let endpoint = frames[1].string ?? ""
        switch Int32(event) {
        case ZMQ_EVENT_CONNECTED: self = .connected(endpoint: endpoint)
        case ZMQ_EVENT_CONNECT_DELAYED: self = .connectDelayed(endpoint: endpoint)
        case ZMQ_EVENT_CONNECT_RETRIED: self = .connectRetried(endpoint: endpoint, intervalMilliseconds: Int(value))
        case ZMQ_EVENT_LISTENING: self = .listening(endpoint: endpoint)
        case ZMQ_EVENT_BIND_FAILED: self = .bindFailed(endpoint: endpoint, errno: Int32(bitPattern: value))
        case ZMQ_EVENT_ACCEPTED: self = .accepted(endpoint: endpoint)
        case ZMQ_EVENT_ACCEPT_FAILED: self = .acceptFailed(endpoint: endpoint, errno: Int32(bitPattern: value))
        case ZMQ_EVENT_CLOSED: self = .closed(endpoint: endpoint)
        case ZMQ_EVENT_DISCONNECTED: self = .disconnected(endpoint: endpoint)
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: self = .handshakeSucceeded(endpoint: endpoint)
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: self = .handshakeFailed(endpoint: endpoint, errno: Int32(bitPattern: value))
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: self = .handshakeFailedProtocol(endpoint: endpoint, code: value)
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: self = .handshakeFailedAuthentication(endpoint: endpoint, status: Int(value))
        case ZMQ_EVENT_MONITOR_STOPPED: self = .monitorStopped
        default: self = .other(event: event, value: value, endpoint: endpoint)
        }
    }

    public var description: String {
        switch self {
        case .connected(let e): "connected \(e)"
        case .connectDelayed(let e): "connect delayed \(e)"
        case .connectRetried(let e, let ms): "connect retry \(e) in \(ms) ms"
        case .listening(let e): "listening \(e)"
        case .bindFailed(let e, let n): "bind failed \(e) (errno \(n))"
        case .accepted(let e): "accepted \(e)"
        case .acceptFailed(let e, let n): "accept failed \(e) (errno \(n))"
        case .closed(let e): "closed \(e)"
        case .disconnected(let e): "disconnected \(e)"
        case .handshakeSucceeded(let e): "handshake succeeded \(e)"
        case .handshakeFailed(let e, let n): "handshake failed \(e) (errno \(n))"
        case .handshakeFailedProtocol(let e, let c): "handshake protocol error \(e) (0x\(String(c, radix: 16)))"
        case .handshakeFailedAuthentication(let e, let s): "authentication refused \(e) (ZAP status \(s))"
        case .monitorStopped: "monitor stopped"
        case .other(let ev, let v, let e): "event 0x\(String(ev, radix: 16)) value \(v) \(e)"
        }
    }
}
