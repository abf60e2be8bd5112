import CZeroMQ

/// Waits on several sockets (and plain file descriptors) at once (`zmq_poll`).
///
/// Like the sockets it holds, a poller belongs to one thread.
///
/// ```swift
/// var poller = Poller()
/// let ingest = poller.add(pull, events: .readable)
/// let ready = try poller.poll(timeout: .milliseconds(500))
/// if ready[ingest].contains(.readable) { … }
/// ```
public struct Poller {
    /// Readiness conditions.
    public struct Events: OptionSet, Sendable, Hashable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        /// A message can be received without blocking (`ZMQ_POLLIN`).
        public static let readable = Events(rawValue: Int16(ZMQ_POLLIN))
        /// A message can be sent without blocking (`ZMQ_POLLOUT`).
        public static let writable = Events(rawValue: Int16(ZMQ_POLLOUT))
        /// An error condition on a file descriptor (`ZMQ_POLLERR`).
        public static let error = Events(rawValue: Int16(ZMQ_POLLERR))
    }

    private var items: [zmq_pollitem_t] = []
    private var sockets: [Socket?] = []

    /// An empty poller.
    public init() {}

    /// Adds a socket; returns its index into the result of ``poll(timeout:)``.
    @discardableResult
    public mutating func add(_ socket: Socket, events: Events) -> Int {
        items.append(zmq_pollitem_t(socket: socket.handle, fd: -1, events: events.rawValue, revents: 0))
        sockets.append(socket)
        return items.count - 1
    }

    /// Adds a file descriptor; returns its index into the result of ``poll(timeout:)``.
    @discardableResult
    public mutating func add(fileDescriptor: Int32, events: Events) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: events.rawValue, revents: 0))
        sockets.append(nil)
        return items.count - 1
    }

    /// Changes what an item waits for.
    public mutating func set(_ index: Int, events: Events) {
        items[index].events = events.rawValue
    }

    /// Waits until an item is ready or the timeout passes.
    ///
    /// `zmq_poll` counts in whole milliseconds; a timeout with a fraction of one is
    /// rounded **up**, so a poller never returns before its timeout. (Rounded down, a
    /// caller waiting for a deadline under a millisecond away polled with 0 and spun on
    /// a core until it passed: the benchmark's paced publishers did, for up to 1 ms of
    /// every 4, beside the aggregator they were timing.)
    ///
    /// - Returns: the ready events per item, in the order added; all empty on timeout.
    /// - Throws: ``ZMQError/Code/contextTerminated`` when the context shuts down, and
    ///   ``ZMQError/Code/socketClosed`` when a socket was closed after it was added.
    public mutating func poll(timeout: Timeout) throws(ZMQError) -> [Events] {
        for (i, socket) in sockets.enumerated() where socket != nil {
            guard let h = socket?.handle else {
                throw ZMQError(code: .socketClosed, operation: "zmq_poll",
                               message: "zmq_poll: poller item \(i) is a closed socket; remove it before polling")
            }
            items[i].socket = h
        }
        let ms: Int
        switch timeout {
        case .forever: ms = -1
        case .after(let d): ms = Poller.milliseconds(roundingUp: d)
        }
        while true {
            let rc = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, Int32($0.count), ms) }
            if rc >= 0 { break }
            let err = zmq_errno()
            if err == EINTR { continue }
            throw ZMQError.fromErrno(err, operation: "zmq_poll")
        }
        return items.map { Events(rawValue: $0.revents) }
    }

    /// `d` in whole milliseconds, a fraction counting as one more; zero or less is 0.
    static func milliseconds(roundingUp d: Duration) -> Int {
        let (seconds, attoseconds) = d.components
        guard seconds > 0 || (seconds == 0 && attoseconds > 0) else { return 0 }
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let whole = Int(seconds) * 1000 + Int(attoseconds / perMillisecond)
        return attoseconds % perMillisecond == 0 ? whole : whole + 1
    }
}
