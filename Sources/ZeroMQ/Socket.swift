import CZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// A ZeroMQ socket, used synchronously by the one thread that owns it.
///
/// `Socket` is deliberately not `Sendable`: libzmq sockets are not thread-safe. To use
/// one from async code, hand its set-up to an ``AsyncSocket``, which gives it an owner
/// thread. Close explicitly with ``close()``; `deinit` closes a forgotten socket as a
/// last resort, honouring its linger.
public final class Socket {
    /// The socket's type.
    public let type: SocketType
    /// The context the socket lives in; kept alive as long as the socket is.
    public let context: Context
    var handle: UnsafeMutableRawPointer?
    /// Held while this socket is a CURVE server, so its authenticator cannot stop first.
    var authenticatorLease: ZAPAuthenticator.Lease?

    init(context: Context, type: SocketType) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.raw) else {
            throw ZMQError.last("zmq_socket(\(type))")
        }
        self.context = context
        self.type = type
        self.handle = handle
    }

    deinit { close() }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool { handle == nil }

    func live(_ operation: @autoclosure () -> String) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let handle else {
            throw ZMQError(code: .socketClosed, errno: ENOTSOCK, operation: operation(),
                           message: "\(operation()): the \(type) socket is already closed")
        }
        return handle
    }

    /// Closes the socket. Pending outgoing messages are kept for at most the socket's
    /// linger (set it with `.linger` before closing). A second call does nothing.
    public func close() {
        guard let handle else { return }
        zmq_close(handle)
        self.handle = nil
        authenticatorLease = nil
    }

    // MARK: - Endpoints

    /// Binds to an endpoint and returns the endpoint actually bound, which differs from
    /// the argument for a wildcard port such as `tcp://127.0.0.1:*`.
    ///
    /// - Throws: ``ZMQError/Code/invalidEndpoint``, ``ZMQError/Code/addressInUse``, …
    @discardableResult
    public func bind(_ endpoint: String) throws(ZMQError) -> String {
        let h = try live("bind")
        try Self.checkPort(endpoint, operation: "bind")
        try check(zmq_bind(h, endpoint), "bind", endpoint: endpoint)
        return (try? lastEndpoint) ?? endpoint
    }

    /// Connects to an endpoint. libzmq connects in the background and reconnects by
    /// itself; an unreachable peer is not an error here.
    public func connect(_ endpoint: String) throws(ZMQError) {
        let h = try live("connect")
        try Self.checkPort(endpoint, operation: "connect")
        try check(zmq_connect(h, endpoint), "connect", endpoint: endpoint)
    }

    /// Stops listening on an endpoint given by ``bind(_:)`` (use the resolved endpoint).
    public func unbind(_ endpoint: String) throws(ZMQError) {
        let h = try live("unbind")
        try check(zmq_unbind(h, endpoint), "unbind", endpoint: endpoint)
    }

    /// Disconnects from an endpoint given to ``connect(_:)``.
    public func disconnect(_ endpoint: String) throws(ZMQError) {
        let h = try live("disconnect")
        try check(zmq_disconnect(h, endpoint), "disconnect", endpoint: endpoint)
    }

    /// libzmq 4.3 silently wraps a TCP port above 65535 (99999 binds 34463); refuse it.
    static func checkPort(_ endpoint: String, operation: String) throws(ZMQError) {
        guard endpoint.hasPrefix("tcp://"), let colon = endpoint.lastIndex(of: ":") else { return }
        let port = endpoint[endpoint.index(after: colon)...]
        if let n = Int(port), !(0...65535).contains(n) {
            throw ZMQError(code: .invalidEndpoint, errno: EINVAL, operation: operation, endpoint: endpoint,
                           message: "\(operation) \(endpoint): port \(n) is outside 0…65535; use a valid port or * for any free one")
        }
    }

    /// The last endpoint bound, resolved (`ZMQ_LAST_ENDPOINT`).
    public var lastEndpoint: String {
        get throws(ZMQError) { try get(.lastEndpoint) }
    }

    // MARK: - Sending

    /// Sends one frame from a buffer (libzmq copies it), blocking while the socket is at
    /// its high-water mark (or until its send timeout).
    ///
    /// - Parameter more: true when more frames of the same message follow.
    public func send(_ buffer: UnsafeRawBufferPointer, more: Bool = false) throws(ZMQError) {
        if try !sendRaw(buffer, flags: more ? ZMQ_SNDMORE : 0) {
            throw timedOut("send")
        }
    }

    /// Sends one frame from a buffer without blocking.
    ///
    /// - Returns: false when the socket would block (high-water mark reached, or no
    ///   peer for a socket type that needs one); nothing was queued then.
    public func trySend(_ buffer: UnsafeRawBufferPointer, more: Bool = false) throws(ZMQError) -> Bool {
        try sendRaw(buffer, flags: ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0))
    }

    /// Sends one text frame (UTF-8), blocking.
    public func send(_ string: String, more: Bool = false) throws(ZMQError) {
        var s = string
        try s.withUTF8 { u in Result { () throws(ZMQError) in try send(UnsafeRawBufferPointer(u), more: more) } }.get()
    }

    /// Sends one byte-array frame, blocking.
    public func send(_ bytes: [UInt8], more: Bool = false) throws(ZMQError) {
        try bytes.withUnsafeBytes { b in Result { () throws(ZMQError) in try send(b, more: more) } }.get()
    }

    /// Sends a whole multipart message, blocking while the socket is at its high-water mark.
    public func send(_ message: Message) throws(ZMQError) {
        if try !sendMessage(message, dontWait: false) { throw timedOut("send") }
    }

    /// Sends a whole multipart message without blocking.
    ///
    /// - Returns: false when the socket would block; no frame was queued then.
    public func trySend(_ message: Message) throws(ZMQError) -> Bool {
        try sendMessage(message, dontWait: true)
    }

    private func sendRaw(_ buffer: UnsafeRawBufferPointer, flags: Int32) throws(ZMQError) -> Bool {
        let h = try live("send")
        if zmq_send(h, buffer.baseAddress, buffer.count, flags) == -1 {
            let err = zmq_errno()
            if err == EAGAIN { return false }
            throw ZMQError.fromErrno(err, operation: "send on \(type)")
        }
        return true
    }

    func sendMessage(_ message: Message, dontWait: Bool) throws(ZMQError) -> Bool {
        let h = try live("send")
        switch message.storage {
        case .one(let frame):
            return try send(frame, index: 0, flags: dontWait ? ZMQ_DONTWAIT : 0, to: h)
        case .many(let frames):
            guard !frames.isEmpty else {
                throw ZMQError(code: .invalidArgument, operation: "send on \(type)",
                               message: "send on \(type): a message needs at least one frame")
            }
            let last = frames.count - 1
            for (i, frame) in frames.enumerated() {
                var flags: Int32 = i < last ? ZMQ_SNDMORE : 0
                // libzmq accepts the rest of a message once its first frame is queued, so
                // only the first frame can report "would block".
                if dontWait { flags |= ZMQ_DONTWAIT }
                guard try send(frame, index: i, flags: flags, to: h) else { return false }
            }
            return true
        }
    }

    /// Sends one frame, sharing its buffer; false when the first frame would block.
    @inline(__always)
    private func send(_ frame: Frame, index: Int, flags: Int32, to h: UnsafeMutableRawPointer) throws(ZMQError) -> Bool {
        var part = zmq_msg_t()
        zmq_msg_init(&part)
        zmq_msg_copy(&part, frame.msg)
        if zmq_msg_send(&part, h, flags) == -1 {
            let err = zmq_errno()
            zmq_msg_close(&part)
            if err == EAGAIN && index == 0 { return false }
            throw ZMQError.fromErrno(err, operation: "send frame \(index) on \(type)")
        }
        return true
    }

    private func timedOut(_ op: String) -> ZMQError {
        ZMQError(code: .timedOut, errno: EAGAIN, operation: "\(op) on \(type)",
                 message: "\(op) on \(type): timed out (send/receive timeout reached)")
    }

    // MARK: - Receiving

    /// Receives a whole multipart message, blocking until one arrives (or until the
    /// socket's receive timeout, which throws ``ZMQError/Code/timedOut``).
    public func receive() throws(ZMQError) -> Message {
        guard let m = try receiveMessage(dontWait: false) else { throw timedOut("receive") }
        return m
    }

    /// Receives a whole multipart message if one is waiting.
    ///
    /// - Returns: nil when nothing is waiting ("would block").
    public func tryReceive() throws(ZMQError) -> Message? {
        try receiveMessage(dontWait: true)
    }

    /// Receives one frame and lends its bytes to `body` without copying or allocating.
    ///
    /// - Parameter body: gets the frame's bytes (valid only inside `body`) and whether
    ///   more frames of the same message follow.
    public func receiveFrame<R>(_ body: (UnsafeRawBufferPointer, _ more: Bool) throws -> R) throws -> R {
        let h = try live("receive")
        var part = zmq_msg_t()
        zmq_msg_init(&part)
        defer { zmq_msg_close(&part) }
        if zmq_msg_recv(&part, h, 0) == -1 {
            let err = zmq_errno()
            if err == EAGAIN { throw timedOut("receive") }
            throw ZMQError.fromErrno(err, operation: "receive on \(type)")
        }
        let size = zmq_msg_size(&part)
        let more = zmq_msg_more(&part) == 1
        return try body(UnsafeRawBufferPointer(start: size == 0 ? nil : zmq_msg_data(&part), count: size), more)
    }

    func receiveMessage(dontWait: Bool) throws(ZMQError) -> Message? {
        let h = try live("receive")
        var first: Frame?
        var rest: [Frame] = []
        var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
        while true {
            guard let frame = Frame.receive(from: h, flags: flags) else {
                let err = zmq_errno()
                if err == EAGAIN && first == nil { return nil }
                throw ZMQError.fromErrno(err, operation: "receive frame \(first == nil ? 0 : rest.count + 1) on \(type)")
            }
            let more = frame.more
            if let head = first {
                if rest.isEmpty { rest.append(head) }
                rest.append(frame)
            } else {
                first = frame
            }
            if !more { return rest.isEmpty ? Message(frame) : Message(rest) }
            // The rest of a multipart message arrives with its first frame.
            flags = 0
        }
    }

    // MARK: - Subscriptions

    /// Subscribes a SUB socket to messages whose first frame starts with `prefix`
    /// (empty: everything).
    public func subscribe(_ prefix: [UInt8] = []) throws(ZMQError) {
        try set(.subscribe, prefix)
    }

    /// Subscribes a SUB socket to a text prefix.
    public func subscribe(_ prefix: String) throws(ZMQError) {
        try set(.subscribe, Array(prefix.utf8))
    }

    /// Removes a subscription made by ``subscribe(_:)-([UInt8])``.
    public func unsubscribe(_ prefix: [UInt8] = []) throws(ZMQError) {
        try set(.unsubscribe, prefix)
    }
}
