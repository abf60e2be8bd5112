import CZeroMQ
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The events of one socket as an async sequence.
///
/// Attach it on the socket's owner thread before handing the socket to an
/// ``AsyncSocket``; libzmq then publishes events on an `inproc://` PAIR socket that
/// this monitor reads on its own owner thread.
///
/// ```swift
/// let client = try context.socket(.push)
/// let monitor = try SocketMonitor(client)
/// try client.connect(endpoint)
/// for try await event in monitor.events where event.isAuthenticationFailure { … }
/// ```
public final class SocketMonitor: Sendable {
    private static let counter = Atomic<Int>(0)
    private let pipe: AsyncSocket

    /// Starts monitoring `socket`.
    ///
    /// - Parameter socket: the socket to watch; call this on the thread that owns it.
    public init(_ socket: Socket) throws(ZMQError) {
        let n = Self.counter.add(1, ordering: .relaxed).newValue
        let endpoint = "inproc://koers-monitor-\(getpid())-\(n)"
        let h = try socket.live("zmq_socket_monitor")
        try check(zmq_socket_monitor(h, endpoint, ZMQ_EVENT_ALL), "zmq_socket_monitor", endpoint: endpoint)
        let pair = try socket.context.socket(.pair)
        try pair.set(.linger, .after(.zero))
        try pair.connect(endpoint)
        pipe = AsyncSocket(pair, configuration: { var c = AsyncSocket.Configuration(); c.inboxCapacity = 1024; c.linger = .after(.zero); return c }())
    }

    /// The events, in order; the sequence ends after ``MonitorEvent/monitorStopped``
    /// (when the watched socket closes) or ``close()``.
    public var events: Events { Events(messages: pipe.messages) }

    /// Stops reading events.
    public func close() async { await pipe.close() }

    /// The event sequence of a ``SocketMonitor``.
    public struct Events: AsyncSequence, Sendable {
        public typealias Element = MonitorEvent
        let messages: AsyncSocket.Messages

        public func makeAsyncIterator() -> Iterator { Iterator(inner: messages.makeAsyncIterator()) }

        public struct Iterator: AsyncIteratorProtocol {
            var inner: AsyncSocket.Messages.Iterator
            var stopped = false

            public mutating func next() async throws -> MonitorEvent? {
                guard !stopped, let m = try await inner.next() else { return nil }
                let event = try MonitorEvent(frames: m.frames)
                if event == .monitorStopped { stopped = true }
                return event
            }
        }
    }
}
