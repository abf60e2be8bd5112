import CZeroMQ
import Synchronization

/// A libzmq context: the I/O threads and the `inproc://` namespace shared by its sockets.
///
/// `Context` is `Sendable`: libzmq documents `zmq_ctx_*` as thread-safe. Sockets are
/// not; each belongs to one thread (see `docs/zeromq.md`).
///
/// Shutdown is explicit: close every socket (its linger bounds how long pending
/// messages may delay that), then call ``terminate()``. ``shutdown()`` first makes
/// any blocking call on any socket of this context fail with
/// ``ZMQError/Code/contextTerminated``, which is how a stuck owner thread is freed.
///
/// ```swift
/// let context = try Context()
/// let push = try context.socket(.push)
/// try push.connect("tcp://127.0.0.1:5555")
/// try push.send("hello")
/// push.close()
/// context.terminate()
/// ```
public final class Context: Sendable {
    // Proof for Sendable: the pointer is immutable and libzmq's context is thread-safe;
    // `state` guards the one-shot shutdown and terminate transitions.
    nonisolated(unsafe) let handle: UnsafeMutableRawPointer
    private let state = Mutex(State())

    private struct State {
        var shutDown = false
        var terminated = false
    }

    /// Creates a context after checking that libzmq supports CURVE.
    ///
    /// - Parameter ioThreads: libzmq I/O threads; one moves about a gigabyte a second.
    /// - Throws: ``ZMQError/Code/missingCapability`` when libzmq lacks CURVE.
    public init(ioThreads: Int32 = 1) throws(ZMQError) {
        try ZeroMQ.requireCurve()
        guard let handle = zmq_ctx_new() else {
            throw ZMQError.last("zmq_ctx_new")
        }
        self.handle = handle
        if ioThreads != 1 {
            try check(zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads), "zmq_ctx_set(ZMQ_IO_THREADS)")
        }
    }

    /// Creates a socket of the given type in this context.
    ///
    /// The socket must then be used by one thread at a time; hand it over only with a
    /// full memory barrier (an `AsyncSocket` does this for you).
    public func socket(_ type: SocketType) throws(ZMQError) -> Socket {
        try Socket(context: self, type: type)
    }

    /// Makes every blocking call on this context's sockets return `ETERM`.
    ///
    /// Idempotent. Sockets stay open; close them, then call ``terminate()``.
    public func shutdown() {
        let first = state.withLock { s -> Bool in
            defer { s.shutDown = true }
            return !s.shutDown && !s.terminated
        }
        if first { zmq_ctx_shutdown(handle) }
    }

    /// Whether ``shutdown()`` or ``terminate()`` was called.
    public var isShutDown: Bool { state.withLock { $0.shutDown || $0.terminated } }

    /// Destroys the context. Blocks until every socket of the context is closed and
    /// its linger has passed. Idempotent; a second call returns at once.
    public func terminate() {
        let first = state.withLock { s -> Bool in
            defer { s.terminated = true }
            return !s.terminated
        }
        guard first else { return }
        while zmq_ctx_term(handle) == -1 && zmq_errno() == EINTR {}
    }

    deinit {
        // Sockets hold a strong reference to their context, so by now all are closed
        // and this cannot block.
        terminate()
    }
}
