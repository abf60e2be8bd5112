import CZeroMQ
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A socket driven by its own owner thread, for use from async code.
///
/// The owner thread is the only thread that touches the libzmq socket. It runs
/// `zmq_poll` over the socket and an `eventfd` that async callers use to wake it.
/// Received messages go into a bounded inbox that ``messages`` drains; ``send(_:)``
/// puts messages into a bounded outbox that the thread drains. When the inbox is full
/// the thread stops reading, so libzmq's receive high-water mark pushes back on the
/// sender; when the outbox is full, ``send(_:)`` suspends. Nothing blocks the
/// cooperative thread pool.
///
/// ```swift
/// let pull = try context.socket(.pull)
/// let endpoint = try pull.bind("tcp://127.0.0.1:*")
/// let inbox = AsyncSocket(pull)
/// for try await message in inbox.messages { … }
/// await inbox.close()
/// ```
public final class AsyncSocket: Sendable {
    /// Limits and shutdown behaviour of an ``AsyncSocket``.
    public struct Configuration: Sendable {
        /// Messages held between the owner thread and the consumer of ``AsyncSocket/messages``.
        /// The consumer also holds up to this many in its current batch.
        public var inboxCapacity: Int = 4096
        /// Messages ``AsyncSocket/send(_:)`` may queue before it suspends.
        public var outboxCapacity: Int = 4096
        /// How long ``AsyncSocket/close()`` lets libzmq keep trying to deliver
        /// messages still queued (the socket's `ZMQ_LINGER` at close).
        public var linger: Timeout = .milliseconds(1000)
        /// Failed sends remembered for ``AsyncSocket/flush()``; older ones are counted only.
        public var failureMemory: Int = 64

        /// The defaults: 4,096 messages each way, one second of linger.
        public init() {}
    }

    /// A send that libzmq refused after ``AsyncSocket/send(_:)`` had queued it.
    public struct SendFailure: Error, Sendable {
        /// The message that was not sent.
        public var message: Message
        /// Why.
        public var error: ZMQError
    }

    /// The socket type.
    public let type: SocketType
    /// The endpoint the socket last bound, resolved, if it was bound before being handed over.
    public let endpoint: String?
    let configuration: Configuration
    let shared: Shared

    /// Takes over a configured socket and starts its owner thread.
    ///
    /// Configure, bind and connect the socket first; from here on only the owner
    /// thread uses it.
    public init(_ socket: sending Socket, configuration: Configuration = .init()) {
        self.type = socket.type
        self.endpoint = try? socket.lastEndpoint
        self.configuration = configuration
        let wake = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(wake >= 0, "eventfd failed: errno \(errno)")
        self.shared = Shared(wakeFD: wake)
        let owner = OwnerThread(socket: socket, shared: shared, configuration: configuration)
        let thread = Thread { owner.run() }
        thread.name = "zmq-\(socket.type)"
        thread.start()
    }

    deinit {
        // Only wakes the thread; it closes the socket and the eventfd itself.
        shared.requestClose()
    }

    // MARK: - Sending

    /// Queues a message for the owner thread to send, suspending while the outbox is full.
    ///
    /// Returns once the message is queued, not once libzmq took it: a refusal by libzmq
    /// (an unroutable peer, say) is reported by ``flush()``.
    ///
    /// - Throws: ``ZMQError/Code/socketClosed`` after ``close()``, or the error that
    ///   ended the owner thread; `CancellationError` when the task is cancelled while waiting.
    public func send(_ message: Message) async throws {
        while true {
            switch shared.enqueue(message, capacity: configuration.outboxCapacity) {
            case .queued: return
            case .failed(let error): throw error
            case .full:
                try await shared.waitForOutboxSpace()
            }
        }
    }

    /// Sends a message of text frames.
    public func send(_ strings: String...) async throws {
        try await send(Message(strings: strings))
    }

    /// Waits until every message queued so far has been handed to libzmq.
    ///
    /// - Throws: the first ``SendFailure`` since the last flush, if any.
    public func flush() async throws {
        try await shared.flush()
    }

    // MARK: - Socket operations

    /// Runs `body` with the socket on its owner thread, between polls: connect,
    /// disconnect, change an option. Returns what `body` returns.
    ///
    /// - Throws: what `body` throws, or ``ZMQError/Code/socketClosed`` after ``close()``.
    public func withSocket<T: Sendable>(_ body: @escaping @Sendable (Socket) throws -> T) async throws -> T {
        try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<T, Error>) in
            let command = Command { socket in
                do { c.resume(returning: try body(socket)) } catch { c.resume(throwing: error) }
            } cancel: { error in
                c.resume(throwing: error)
            }
            let (accepted, wake, error) = shared.state.withLock { s -> (Bool, Bool, Error?) in
                if s.closeRequested || s.closed { return (false, false, shared.closedError(s)) }
                s.commands.append(command)
                return (true, Shared.claimWake(&s), nil)
            }
            if wake { shared.wake() }
            if !accepted, let error { c.resume(throwing: error) }
        }
    }

    /// Drops every queued message that libzmq has not taken yet.
    ///
    /// For a client that resynchronises after a reconnect (its protocol resends what
    /// matters) and must not let stale messages go out ahead of its greeting.
    public func discardUnsent() async throws {
        try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<Void, Error>) in
            // The owner drops its queue during intake, before it runs this command.
            let command = Command({ _ in c.resume() }, cancel: { c.resume(throwing: $0) })
            let (accepted, wake, error) = shared.state.withLock { s -> (Bool, Bool, Error?) in
                if s.closeRequested || s.closed { return (false, false, shared.closedError(s)) }
                s.discardRequested = true
                s.commands.append(command)
                return (true, Shared.claimWake(&s), nil)
            }
            if wake { shared.wake() }
            if !accepted, let error { c.resume(throwing: error) }
        }
    }

    /// Work for the owner thread, and what to do if it never runs.
    struct Command: Sendable {
        let run: @Sendable (Socket) -> Void
        let cancel: @Sendable (Error) -> Void
        init(_ run: @escaping @Sendable (Socket) -> Void, cancel: @escaping @Sendable (Error) -> Void) {
            self.run = run
            self.cancel = cancel
        }
    }

    // MARK: - Receiving

    /// The messages the socket receives, in order. One consumer at a time.
    ///
    /// The sequence ends after ``close()``; it throws the error that ended the owner
    /// thread otherwise (``ZMQError/Code/contextTerminated`` on context shutdown).
    public var messages: Messages { Messages(shared: shared) }

    /// Messages in the inbox right now (for metrics and tests).
    public var inboxCount: Int { shared.state.withLock { $0.inbox.count } }

    /// The largest the inbox has been; never above ``Configuration/inboxCapacity``.
    public var inboxHighWater: Int { shared.state.withLock { $0.inboxHighWater } }

    /// The largest the outbox has been; never above ``Configuration/outboxCapacity``.
    public var outboxHighWater: Int { shared.state.withLock { $0.outboxHighWater } }

    // MARK: - Closing

    /// Stops the owner thread and closes the socket, letting libzmq try to deliver
    /// queued messages for at most the configured linger. Idempotent; waits until the
    /// socket is closed.
    public func close() async {
        await shared.close()
    }

    /// The received-message sequence of an ``AsyncSocket``.
    public struct Messages: AsyncSequence, Sendable {
        public typealias Element = Message
        let shared: Shared

        public func makeAsyncIterator() -> Iterator { Iterator(shared: shared) }

        /// Hands out messages from the inbox, a batch per lock.
        public struct Iterator: AsyncIteratorProtocol {
            let shared: Shared
            var batch: [Message] = []
            var index = 0

            /// Every message available now, at least one, at most `max`; waits for the
            /// first. For consumers that work in batches (one transaction per batch).
            public mutating func nextBatch(max: Int) async throws -> [Message]? {
                if index >= batch.count {
                    index = 0
                    guard try await shared.takeBatch(into: &batch) else { return nil }
                }
                let end = Swift.min(batch.count, index + max)
                defer { index = end }
                return Array(batch[index..<end])
            }

            public mutating func next() async throws -> Message? {
                if index < batch.count {
                    defer { index += 1 }
                    return batch[index]
                }
                index = 0
                guard try await shared.takeBatch(into: &batch) else { return nil }
                index = 1
                return batch[0]
            }
        }
    }
}

// MARK: - State shared by the owner thread and async callers

extension AsyncSocket {
    enum EnqueueResult {
        case queued, full, failed(Error)
    }

    final class Shared: Sendable {
        let state: Mutex<State>
        let wakeFD: Int32

        init(wakeFD: Int32) {
            self.wakeFD = wakeFD
            self.state = Mutex(State())
        }

        deinit { closeWakeFD() }

        struct State {
            var inbox: [Message] = []
            var inboxHighWater = 0
            /// Messages the consumer is done with, handed back for the owner to release.
            var returned: [Message] = []
            /// The owner stopped reading because the inbox was full.
            var readPaused = false
            var consumer: UnsafeContinuation<Void, Never>?
            var outbox: [Message] = []
            /// Messages already sent, handed back for callers of send to release a few at a time.
            var spent: [Message] = []
            var outboxHighWater = 0
            var outboxWaiters: [UInt64: UnsafeContinuation<Void, Error>] = [:]
            var flushWaiters: [UnsafeContinuation<Void, Error>] = []
            var failures: [SendFailure] = []
            var failureCount = 0
            /// The owner thread sleeps in zmq_poll and needs a write to the eventfd.
            var ownerIdle = false
            var closeRequested = false
            var closed = false
            var ending: ZMQError?
            var closeWaiters: [UnsafeContinuation<Void, Never>] = []
            var nextWaiter: UInt64 = 0
            var commands: [Command] = []
            /// The owner should drop its pending messages and the outbox.
            var discardRequested = false
        }

        func wake() {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }

        /// Called with the lock held: claims the job of waking an idle owner.
        static func claimWake(_ s: inout State) -> Bool {
            if s.ownerIdle { s.ownerIdle = false; return true }
            return false
        }

        func requestClose() {
            let wake = state.withLock { s -> Bool in
                s.closeRequested = true
                return Shared.claimWake(&s)
            }
            if wake { self.wake() }
        }

        func close() async {
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                let (done, wake) = state.withLock { s -> (Bool, Bool) in
                    if s.closed { return (true, false) }
                    s.closeRequested = true
                    s.closeWaiters.append(c)
                    return (false, Shared.claimWake(&s))
                }
                if wake { self.wake() }
                if done { c.resume() }
            }
        }

        func closedError(_ s: State) -> Error {
            s.ending ?? ZMQError(code: .socketClosed, operation: "send",
                                 message: "send: the async socket is closed")
        }

        func enqueue(_ message: Message, capacity: Int) -> EnqueueResult {
            let (result, wake) = state.withLock { s -> (EnqueueResult, Bool) in
                if s.closeRequested || s.closed { return (.failed(closedError(s)), false) }
                if s.outbox.count >= capacity { return (.full, false) }
                s.outbox.append(message)
                s.outboxHighWater = max(s.outboxHighWater, s.outbox.count)
                // Release a few already-sent messages here, on the caller's thread: the
                // thread that allocated them frees them, which keeps glibc's allocator
                // off its cross-thread slow path. A few per call bounds the time held.
                if !s.spent.isEmpty { s.spent.removeLast(min(s.spent.count, 32)) }
                return (.queued, Shared.claimWake(&s))
            }
            if wake { self.wake() }
            return result
        }

        func waitForOutboxSpace() async throws {
            let id = state.withLock { s -> UInt64 in s.nextWaiter += 1; return s.nextWaiter }
            try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<Void, Error>) in
                    let resumeNow = state.withLock { s -> Error?? in
                        if Task.isCancelled { return .some(CancellationError()) }
                        if s.closed || s.closeRequested { return .some(closedError(s)) }
                        // Space may have appeared since enqueue said full.
                        if s.outbox.isEmpty { return .some(nil) }
                        s.outboxWaiters[id] = c
                        return .none
                    }
                    if let r = resumeNow {
                        if let e = r { c.resume(throwing: e) } else { c.resume() }
                    }
                }
            } onCancel: {
                let c = state.withLock { $0.outboxWaiters.removeValue(forKey: id) }
                c?.resume(throwing: CancellationError())
            }
        }

        func flush() async throws {
            try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<Void, Error>) in
                let wake = state.withLock { s -> Bool in
                    s.flushWaiters.append(c)
                    return Shared.claimWake(&s)
                }
                if wake { self.wake() }
            }
        }

        /// Swaps the consumer's spent batch (emptied, capacity kept) for everything in
        /// the inbox, waiting for at least one message. Returns false at the end.
        func takeBatch(into batch: inout [Message]) async throws -> Bool {
            while true {
                enum Outcome { case batch(wake: Bool), end(Error?), wait }
                let outcome = state.withLock { s -> Outcome in
                    if !s.inbox.isEmpty {
                        // The spent batch goes back to the owner thread, which allocated
                        // its messages, to be released there (see `enqueue` for why).
                        // Every buffer keeps its capacity as it goes round.
                        if s.returned.isEmpty {
                            swap(&s.returned, &batch)
                        } else {
                            batch.removeAll(keepingCapacity: true)
                        }
                        swap(&batch, &s.inbox)
                        var wake = false
                        if s.readPaused {
                            s.readPaused = false
                            wake = Shared.claimWake(&s)
                        }
                        return .batch(wake: wake)
                    }
                    if s.closed { return .end(s.ending) }
                    return .wait
                }
                switch outcome {
                case .batch(let wake):
                    if wake { self.wake() }
                    return true
                case .end(let error):
                    if let error { throw error }
                    return false
                case .wait:
                    if Task.isCancelled { return false }
                    await withTaskCancellationHandler {
                        await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                            let resumeNow = state.withLock { s -> Bool in
                                if !s.inbox.isEmpty || s.closed || Task.isCancelled { return true }
                                precondition(s.consumer == nil, "AsyncSocket.messages has one consumer at a time")
                                s.consumer = c
                                return false
                            }
                            if resumeNow { c.resume() }
                        }
                    } onCancel: {
                        let c = state.withLock { s -> UnsafeContinuation<Void, Never>? in
                            defer { s.consumer = nil }
                            return s.consumer
                        }
                        c?.resume()
                    }
                }
            }
        }
    }
}
