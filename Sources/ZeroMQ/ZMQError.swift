import CZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// An error from libzmq or from the wrapper's own checks.
///
/// Every error keeps the operation that failed, the endpoint involved (when there is
/// one) and libzmq's `errno`, so a log line says what to fix:
/// `connect tcp://127.0.0.1:99999: invalid endpoint (EINVAL): …`.
public struct ZMQError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; compare against the static values.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }

        /// The operation would block (`EAGAIN`) on a non-blocking call.
        public static let wouldBlock = Code("would block")
        /// The endpoint string is malformed or names an unsupported transport.
        public static let invalidEndpoint = Code("invalid endpoint")
        /// An option value or argument is out of range.
        public static let invalidArgument = Code("invalid argument")
        /// The address is already bound by another socket or process.
        public static let addressInUse = Code("address in use")
        /// The address does not exist on this machine.
        public static let addressNotAvailable = Code("address not available")
        /// `unbind`/`disconnect` on an endpoint the socket is not bound or connected to.
        public static let endpointNotFound = Code("endpoint not found")
        /// A ROUTER with `routerMandatory` was asked to send to an unknown peer.
        public static let hostUnreachable = Code("host unreachable")
        /// The socket's state machine forbids this operation now (REQ/REP order).
        public static let invalidState = Code("invalid state")
        /// The context was shut down or terminated.
        public static let contextTerminated = Code("context terminated")
        /// The socket is already closed.
        public static let socketClosed = Code("socket closed")
        /// The operation is not supported by this socket type.
        public static let notSupported = Code("not supported")
        /// A blocking call was interrupted by a signal.
        public static let interrupted = Code("interrupted")
        /// Too many open sockets or files.
        public static let tooManySockets = Code("too many sockets")
        /// The message exceeds the socket's maximum message size.
        public static let messageTooLarge = Code("message too large")
        /// Z85 text or a key is malformed.
        public static let invalidKey = Code("invalid key")
        /// A key file could not be read or parsed.
        public static let invalidKeyFile = Code("invalid key file")
        /// A secure server socket was requested without a running ZAP authenticator.
        public static let noAuthenticator = Code("no ZAP authenticator")
        /// libzmq was built without a capability Koers needs (CURVE).
        public static let missingCapability = Code("missing capability")
        /// A protocol frame (monitor event, ZAP request) had an unexpected shape.
        public static let malformedFrame = Code("malformed frame")
        /// A blocking call reached its send or receive timeout.
        public static let timedOut = Code("timed out")
        /// Any other `errno` from libzmq.
        public static let other = Code("error")
    }

    /// The kind of failure.
    public var code: Code
    /// libzmq's `errno` for the failure, or 0 when the wrapper detected it.
    public var errno: Int32
    /// The operation that failed, such as `bind` or `setsockopt(ZMQ_SNDHWM)`.
    public var operation: String
    /// The endpoint involved, when there is one.
    public var endpoint: String?
    /// A sentence for a person: what happened and what to do.
    public var message: String

    /// Creates an error; prefer ``ZMQError/fromErrno(_:operation:endpoint:)`` for libzmq failures.
    public init(code: Code, errno: Int32 = 0, operation: String, endpoint: String? = nil, message: String) {
        self.code = code
        self.errno = errno
        self.operation = operation
        self.endpoint = endpoint
        self.message = message
    }

    /// Builds an error from libzmq's current `errno`.
    static func last(_ operation: String, endpoint: String? = nil) -> ZMQError {
        fromErrno(zmq_errno(), operation: operation, endpoint: endpoint)
    }

    /// Builds an error from an `errno` value returned by libzmq.
    public static func fromErrno(_ err: Int32, operation: String, endpoint: String? = nil) -> ZMQError {
        let text = String(cString: zmq_strerror(err))
        let code: Code
        var hint = ""
        switch err {
        case EAGAIN: code = .wouldBlock
        case EINVAL:
            if endpoint != nil {
                code = .invalidEndpoint
                hint = "; write it as transport://address, e.g. tcp://127.0.0.1:5555, ipc:///tmp/koers.sock or inproc://name"
            } else {
                code = .invalidArgument
            }
        case EPROTONOSUPPORT:
            code = .invalidEndpoint
            hint = "; supported transports are tcp, ipc and inproc"
        case EADDRINUSE:
            code = .addressInUse
            hint = "; another process already listens there: stop it or choose another port"
        case EADDRNOTAVAIL: code = .addressNotAvailable
        case ENOENT: code = .endpointNotFound
        case EHOSTUNREACH:
            code = .hostUnreachable
            hint = "; the peer's routing id is not connected"
        case EFSM: code = .invalidState
        case ETERM: code = .contextTerminated
        case ENOTSOCK: code = .socketClosed
        case ENOTSUP: code = .notSupported
        case EINTR: code = .interrupted
        case EMFILE: code = .tooManySockets
        case EMSGSIZE: code = .messageTooLarge
        case ENODEV: code = .invalidEndpoint
        case ENOCOMPATPROTO:
            code = .invalidEndpoint
            hint = "; this transport does not work with this socket type (use tcp, ipc or inproc)"
        default: code = .other
        }
        let place = endpoint.map { " \($0)" } ?? ""
        return ZMQError(
            code: code, errno: err, operation: operation, endpoint: endpoint,
            message: "\(operation)\(place): \(text) (errno \(err))\(hint)")
    }

    public var description: String { message }
}

/// Checks a libzmq return code and throws the matching ``ZMQError`` when it is -1.
@inline(__always)
@discardableResult
func check(_ rc: Int32, _ operation: @autoclosure () -> String, endpoint: String? = nil) throws(ZMQError) -> Int32 {
    if rc == -1 { throw ZMQError.last(operation(), endpoint: endpoint) }
    return rc
}
