import CZeroMQ
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension AsyncSocket.Shared {
    // The eventfd outlives the owner thread: callers may still try to wake it, and a
    // closed-then-reused descriptor would wake a stranger.
    func closeWakeFD() { Glibc.close(wakeFD) }
}

extension AsyncSocket {
    /// The loop that owns the libzmq socket.
    final class OwnerThread: @unchecked Sendable {
        // Proof for Sendable: `socket`, `pending`, `pendingIndex` and `received` are used
        // only by run() and the private methods it calls, on the one thread AsyncSocket.init
        // starts; starting a thread is the full memory barrier libzmq asks for when a
        // socket changes threads.
        let socket: Socket
        let shared: Shared
        let configuration: Configuration
        private var pending: [Message] = []
        private var pendingIndex = 0
        private var received: [Message] = []

        init(socket: Socket, shared: Shared, configuration: Configuration) {
            self.socket = socket
            self.shared = shared
            self.configuration = configuration
        }

        /// Work the loop may do without sleeping.
        private struct Intake {
            var spaceWaiters: [UnsafeContinuation<Void, Error>]
            var commands: [Command]
            var closing: Bool
            var inboxRoom: Int
        }

        func run() {
            var items = [
                zmq_pollitem_t(socket: socket.handle, fd: -1, events: 0, revents: 0),
                zmq_pollitem_t(socket: nil, fd: shared.wakeFD, events: Int16(ZMQ_POLLIN), revents: 0),
            ]
            let capacity = configuration.inboxCapacity
            let batchLimit = min(capacity, 1024)
            var ending: ZMQError?

            loop: while true {
                let intake = takeIntake(capacity: capacity)
                for command in intake.commands { command.run(socket) }
                // Release what the consumer handed back, outside the lock; keep the buffer.
                received.removeAll(keepingCapacity: true)
                for w in intake.spaceWaiters { w.resume() }
                if intake.closing { break loop }

                let progressed: Bool
                do {
                    progressed = try drain(inboxRoom: intake.inboxRoom, batchLimit: batchLimit, capacity: capacity)
                } catch {
                    ending = error
                    break loop
                }
                if pendingIndex == pending.count { answerFlushes() }
                if progressed { continue }

                if let error = sleepUntilWoken(&items, capacity: capacity) {
                    ending = error
                    break loop
                }
            }
            finish(ending)
        }

        /// Takes, under the lock, what callers queued since the last turn: the outbox
        /// (into `pending`), the consumer's spent inbox buffer, commands, space waiters,
        /// a discard or close request, and how much room the inbox has.
        private func takeIntake(capacity: Int) -> Intake {
            shared.state.withLock { s -> Intake in
                if s.discardRequested {
                    s.discardRequested = false
                    s.outbox.removeAll(keepingCapacity: true)
                    pending.removeAll(keepingCapacity: true)
                    pendingIndex = 0
                }
                // Trade buffers rather than allocate: an empty `pending` keeps its
                // capacity and becomes the callers' next outbox.
                if pendingIndex == pending.count {
                    if s.spent.isEmpty {
                        swap(&pending, &s.spent)
                    } else {
                        pending.removeAll(keepingCapacity: true)
                    }
                    pendingIndex = 0
                    if pending.capacity < s.outbox.capacity || !s.outbox.isEmpty {
                        swap(&pending, &s.outbox)
                    }
                } else if !s.outbox.isEmpty {
                    pending.append(contentsOf: s.outbox)
                    s.outbox.removeAll(keepingCapacity: true)
                }
                if !s.returned.isEmpty && received.isEmpty { swap(&received, &s.returned) }
                var waiters: [UnsafeContinuation<Void, Error>] = []
                if !s.outboxWaiters.isEmpty {
                    waiters = Array(s.outboxWaiters.values)
                    s.outboxWaiters.removeAll()
                }
                s.ownerIdle = false
                var commands: [Command] = []
                swap(&commands, &s.commands)
                return Intake(spaceWaiters: waiters, commands: commands, closing: s.closeRequested,
                              inboxRoom: capacity - s.inbox.count)
            }
        }

        /// Sends what is pending, then receives what the inbox has room for (at most
        /// `batchLimit`). Returns whether a message moved either way.
        private func drain(inboxRoom: Int, batchLimit: Int, capacity: Int) throws(ZMQError) -> Bool {
            var progressed = try sendPending()
            if socket.type.canReceive && inboxRoom > 0 {
                progressed = try receiveBatch(limit: min(inboxRoom, batchLimit), capacity: capacity) || progressed
            }
            return progressed
        }

        /// Nothing to do: sleeps in zmq_poll unless work arrived meanwhile. Returns the
        /// error that ends the loop, or nil to take another turn.
        private func sleepUntilWoken(_ items: inout [zmq_pollitem_t], capacity: Int) -> ZMQError? {
            let sleep = shared.state.withLock { s -> (sleep: Bool, wantIn: Bool) in
                if !s.outbox.isEmpty || s.closeRequested || !s.commands.isEmpty { return (false, false) }
                if !s.flushWaiters.isEmpty && pendingIndex == pending.count { return (false, false) }
                let wantIn = s.inbox.count < capacity
                if !wantIn { s.readPaused = true }
                s.ownerIdle = true
                return (true, wantIn)
            }
            guard sleep.sleep else { return nil }
            var events: Int16 = 0
            if sleep.wantIn && socket.type.canReceive { events |= Int16(ZMQ_POLLIN) }
            if pendingIndex < pending.count { events |= Int16(ZMQ_POLLOUT) }
            items[0].events = events
            items[0].revents = 0
            items[1].revents = 0
            let rc = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, 2, -1) }
            if rc == -1 {
                let err = zmq_errno()
                if err == EINTR { return nil }
                return ZMQError.fromErrno(err, operation: "zmq_poll on \(socket.type)")
            }
            if items[1].revents & Int16(ZMQ_POLLIN) != 0 {
                var value: UInt64 = 0
                _ = Glibc.read(shared.wakeFD, &value, 8)
            }
            return nil
        }

        /// Sends what is pending until libzmq would block. Returns whether anything was sent.
        private func sendPending() throws(ZMQError) -> Bool {
            var sent = false
            while pendingIndex < pending.count {
                let message = pending[pendingIndex]
                do {
                    guard try socket.sendMessage(message, dontWait: true) else { break }
                    sent = true
                } catch {
                    switch error.code {
                    case .contextTerminated: throw error
                    // REQ waiting for its reply: not writable yet.
                    case .invalidState: return sent
                    default: recordFailure(SendFailure(message: message, error: error))
                    }
                }
                pendingIndex += 1
            }
            return sent
        }

        /// Receives up to `limit` messages and hands them to the inbox in one lock.
        private func receiveBatch(limit: Int, capacity: Int) throws(ZMQError) -> Bool {
            while received.count < limit {
                do {
                    guard let m = try socket.receiveMessage(dontWait: true) else { break }
                    received.append(m)
                } catch where error.code == .invalidState {
                    break  // REP that owes a reply: nothing to read yet.
                }
            }
            guard !received.isEmpty else { return false }
            let consumer = shared.state.withLock { s -> UnsafeContinuation<Void, Never>? in
                if s.inbox.isEmpty {
                    swap(&s.inbox, &received)
                } else {
                    s.inbox.append(contentsOf: received)
                    received.removeAll(keepingCapacity: true)
                }
                s.inboxHighWater = max(s.inboxHighWater, s.inbox.count)
                defer { s.consumer = nil }
                return s.consumer
            }
            consumer?.resume()
            return true
        }

        private func recordFailure(_ failure: SendFailure) {
            shared.state.withLock { s in
                s.failureCount += 1
                if s.failures.count < configuration.failureMemory { s.failures.append(failure) }
            }
        }

        private func answerFlushes() {
            let (waiters, failure) = shared.state.withLock { s -> ([UnsafeContinuation<Void, Error>], SendFailure?) in
                guard s.outbox.isEmpty, !s.flushWaiters.isEmpty else { return ([], nil) }
                defer {
                    s.flushWaiters.removeAll()
                    s.failures.removeAll()
                }
                return (s.flushWaiters, s.failures.first)
            }
            for w in waiters {
                if let failure { w.resume(throwing: failure) } else { w.resume() }
            }
        }

        private func finish(_ ending: ZMQError?) {
            // Hand what libzmq will still take to its queue, then close with the linger
            // bound; libzmq delivers in the background for at most that long.
            if ending == nil { _ = try? sendPending() }
            try? socket.set(.linger, configuration.linger)
            socket.close()

            let unsent = pending.count - pendingIndex
            let (consumer, space, flushes, closers, commands) = shared.state.withLock { s in
                s.closed = true
                s.ending = ending
                s.failureCount += unsent + s.outbox.count
                s.outbox.removeAll()
                defer {
                    s.consumer = nil
                    s.outboxWaiters.removeAll()
                    s.flushWaiters.removeAll()
                    s.closeWaiters.removeAll()
                    s.commands.removeAll()
                }
                return (s.consumer, Array(s.outboxWaiters.values), s.flushWaiters, s.closeWaiters, s.commands)
            }
            let closedError = ending ?? ZMQError(code: .socketClosed, operation: "send",
                                                 message: "send: the async socket is closed")
            consumer?.resume()
            for w in space { w.resume(throwing: closedError) }
            for w in flushes { w.resume(throwing: closedError) }
            for c in commands { c.cancel(closedError) }
            for w in closers { w.resume() }
        }
    }
}
