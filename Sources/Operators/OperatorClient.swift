import StreamProtocol
import Foundation
import Plan
import Status
import Wire
import Synchronization
import ZeroMQ
#if canImport(Glibc)
import Glibc
#endif

/// An operator's connection to the aggregator: snapshots, acknowledgements and the
/// stream (the ZeroMQ Guide's Clone pattern: subscribe, then snapshot, then apply what
/// follows it, noticing gaps).
public final class OperatorClient: Sendable {
    public let snapshotEndpoint: String
    public let streamEndpoint: String
    let keys: CurveKeyPair?
    let serverKey: CurvePublicKey?
    let context: Context
    let codec = WireCodec()

    public init(snapshotEndpoint: String, streamEndpoint: String, keys: CurveKeyPair?, serverKey: CurvePublicKey?) throws {
        self.snapshotEndpoint = snapshotEndpoint
        self.streamEndpoint = streamEndpoint
        self.keys = keys
        self.serverKey = serverKey
        self.context = try Context()
    }

    deinit { context.terminate() }

    func secure(_ s: Socket) throws {
        if let keys, let serverKey { try s.makeCurveClient(keyPair: keys, serverKey: serverKey) }
    }

    /// One request on the snapshot channel, answered within `timeout`.
    ///
    /// A monitor watches the DEALER's connection meanwhile (``ConnectionDiagnosis``), so
    /// that a request nobody answers says why: nothing listening, the aggregator's key
    /// wrong, this operator's key not trusted, or connected but no answer in time.
    func request(_ payload: Payload, timeout: Duration) throws -> WireMessage {
        let s = try context.socket(.dealer)
        try secure(s)
        try s.set(.linger, .after(.zero))
        try s.set(.receiveTimeout, .after(timeout))
        let watch = try ConnectionWatch(s, endpoint: snapshotEndpoint)
        defer {
            s.close()  // ends the monitor's events (MONITOR_STOPPED)
            Task.detached { await watch.close() }
        }
        try s.connect(snapshotEndpoint)
        let (e, p) = codec.encode(WireMessage(payload, sequence: 1, sentAt: SystemClock().now()))
        try s.send(Message([Frame(e), Frame(p)]))
        let reply: Message
        do throws(ZMQError) {
            reply = try s.receive()
        } catch {
            if error.code == .timedOut {
                throw OperatorError.noAnswer(endpoint: snapshotEndpoint, timeout: timeout, diagnosis: watch.settled())
            }
            throw error
        }
        guard reply.count == 2 else { throw OperatorError("unexpected reply with \(reply.count) frames") }
        let m = try codec.decode(envelope: reply[0].bytes, payload: reply[1].bytes, now: Int64.max / 2)
        if case .snapshotError(let code, let detail) = m.payload { throw OperatorError.refused(code, detail) }
        return m
    }

    /// The current state.
    public func snapshot(theme: String? = nil, timeout: Duration = .seconds(5)) throws -> StreamDocuments.Snapshot {
        let m = try request(.snapshotRequest(theme: theme), timeout: timeout)
        guard case .snapshotReply(let doc) = m.payload else { throw OperatorError("expected a snapshot, got \(m.envelope.type)") }
        return try JSONDecoder().decode(StreamDocuments.Snapshot.self, from: Data(doc.utf8))
    }

    /// Acknowledges an alert.
    public func acknowledge(key: String, by: String, reason: String, until: PlanDate?) throws {
        let doc = StreamDocuments.encode(StreamDocuments.AckRequest(key: key, by: by, reason: reason, until: until?.iso))
        let m = try request(.alertAck(document: doc), timeout: .seconds(5))
        guard case .alertAckReply(let answer) = m.payload else { throw OperatorError("unexpected \(m.envelope.type)") }
        let a = try JSONDecoder().decode(StreamDocuments.AckReply.self, from: Data(answer.utf8))
        if !a.ok { throw OperatorError(a.error ?? "refused") }  // a 1.0 aggregator
    }

    /// What the stream delivers.
    public enum Event: Sendable {
        case snapshot(StreamDocuments.Snapshot)
        case status(StreamDocuments.StatusChange)
        case alert(StreamDocuments.AlertTransitionDocument)
        /// Messages were missed (sequence jumped); a new snapshot follows.
        case gap(expected: UInt64, got: UInt64)
        case heartbeat(UInt64)
        case disconnected(String)
    }

    /// Follows the stream: snapshot first, then live messages after it, resynchronising
    /// by itself after a gap or a silence. Runs until the task is cancelled.
    public func follow(theme: String? = nil, silence: Duration = .seconds(5)) -> AsyncThrowingStream<Event, Error> {
        AsyncThrowingStream<Event, Error> { (continuation: AsyncThrowingStream<Event, Error>.Continuation) in
            let task: Task<Void, Never> = Task {
                while !Task.isCancelled {
                    do {
                        try await self.followOnce(theme: theme, silence: silence, continuation)
                    } catch is CancellationError {
                        break
                    } catch {
                        continuation.yield(.disconnected("\(error)"))
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { @Sendable (_: AsyncThrowingStream<Event, Error>.Continuation.Termination) in task.cancel() }
        }
    }

    /// The topics a follower of `theme` subscribes to (all, when nil), and whether a
    /// topic is one of them. A prefix subscription also matches longer theme ids
    /// (`status.work` matches `status.work-x`), so topics are compared whole.
    static func wanted(_ topic: String, theme: String?) -> Bool {
        guard let theme else { return true }
        return topic == "status.\(theme)" || topic.hasPrefix("alert.\(theme).")
    }

    func followOnce(theme: String?, silence: Duration, _ out: AsyncThrowingStream<Event, Error>.Continuation) async throws {
        let sub = try context.socket(.sub)
        try secure(sub)
        try sub.set(.linger, .after(.zero))
        try sub.set(.receiveHighWaterMark, 100_000)
        if let theme {
            // One theme's topics and the heartbeats, which carry every topic's sequence.
            for prefix in ["status.\(theme)", "alert.\(theme).", "hb"] { try sub.subscribe(prefix) }
        } else {
            try sub.subscribe()
        }
        // Why a stream that delivers nothing does not, for the `.disconnected` reason.
        let watch = try ConnectionWatch(sub, endpoint: streamEndpoint)
        try sub.connect(streamEndpoint)
        let stream = AsyncSocket(sub)
        defer { Task<Void, Never> { await stream.close(); await watch.close() } }
        // Subscribe first, then snapshot: nothing can fall between them.
        let snapshotTask: Task<StreamDocuments.Snapshot, Error> = Task.detached { try self.snapshot(theme: theme, timeout: .seconds(5)) }
        let snap: StreamDocuments.Snapshot = try await snapshotTask.value
        out.yield(.snapshot(snap))
        var gaps = GapDetector(snapshot: snap, theme: theme)
        var iterator = stream.messages.makeAsyncIterator()
        // A silent stream (the aggregator gone, the network cut) is closed by this
        // watchdog, which ends the iteration below and makes the caller reconnect.
        let seen = LastSeen()
        let watchdog: Task<Void, Error> = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: silence / 4)
                if seen.age > silence {
                    await stream.close()
                    break
                }
            }
        }
        defer { watchdog.cancel() }
        while true {
            let m: Message? = try await iterator.next()
            seen.touch()
            guard let m else {
                let d = watch.diagnosis
                var e = OperatorError("the stream has been silent for \(silence)"
                    + (d.isFailure ? ": \(d.sentence)" : "") + "; reconnecting")
                e.verdict = d.verdict
                throw e
            }
            guard m.count == 3 else { continue }
            let msg = try codec.decode(envelope: m[1].bytes, payload: m[2].bytes, now: Int64.max / 2)
            let seq = msg.envelope.sequence
            let topic: String = m[0].string ?? ""
            switch msg.payload {
            case .streamHeartbeat(let doc):
                let hb = doc.flatMap { try? JSONDecoder().decode(StreamDocuments.Heartbeat.self, from: Data($0.utf8)) }
                if let (expected, got) = gaps.heartbeat(sequence: seq, document: hb) { out.yield(.gap(expected: expected, got: got)); return }
                out.yield(.heartbeat(seq))
            case .statusChange(let doc):
                let d = try JSONDecoder().decode(StreamDocuments.StatusChange.self, from: Data(doc.utf8))
                switch gaps.message(topic: topic, sequence: seq, previous: d.previous) {
                case .seen: continue
                case .gap(let expected): out.yield(.gap(expected: expected, got: seq)); return
                case .new: if Self.wanted(topic, theme: theme) { out.yield(.status(d)) }
                }
            case .alertTransition(let doc):
                let d = try JSONDecoder().decode(StreamDocuments.AlertTransitionDocument.self, from: Data(doc.utf8))
                switch gaps.message(topic: topic, sequence: seq, previous: d.previous) {
                case .seen: continue
                case .gap(let expected): out.yield(.gap(expected: expected, got: seq)); return
                case .new: if Self.wanted(topic, theme: theme) { out.yield(.alert(d)) }
                }
            default:
                continue
            }
        }
    }
}

/// Tells a lost stream message from one not subscribed to (`docs/protocol.md` §7.2).
///
/// Unfiltered, the stream sequence itself must run without a hole. Filtered to some
/// topics, each message names the previous sequence on its topic, and each heartbeat
/// every topic's latest: a message whose `previous` is beyond the last one seen on its
/// topic, or a heartbeat naming a later sequence for a subscribed topic, means a lost
/// message.
struct GapDetector {
    let theme: String?
    /// Unfiltered: the next sequence expected.
    var next: UInt64
    /// Filtered: the latest sequence seen (or in the snapshot) per topic.
    var last: [String: UInt64]

    init(snapshot: StreamDocuments.Snapshot, theme: String?) {
        self.theme = theme
        next = snapshot.sequence + 1
        last = snapshot.topics ?? [:]
    }

    enum Verdict: Equatable { case new, seen, gap(expected: UInt64) }

    mutating func message(topic: String, sequence: UInt64, previous: UInt64?) -> Verdict {
        guard theme != nil, let previous else {
            if sequence < next { return .seen }
            if sequence > next { return .gap(expected: next) }
            next = sequence + 1
            return .new
        }
        let known = last[topic] ?? 0
        if sequence <= known { return .seen }
        if previous > known { return .gap(expected: previous) }
        last[topic] = sequence
        return .new
    }

    /// The gap a heartbeat reveals, as (expected, got), or nil.
    mutating func heartbeat(sequence: UInt64, document: StreamDocuments.Heartbeat?) -> (UInt64, UInt64)? {
        guard let theme, let document else { return sequence >= next ? (next, sequence) : nil }
        for (topic, seq) in document.topics where OperatorClient.wanted(topic, theme: theme) && seq > (last[topic] ?? 0) {
            return ((last[topic] ?? 0) + 1, seq)
        }
        return nil
    }
}

/// When the stream last delivered something.
final class LastSeen: Sendable {
    private let value = Mutex(ContinuousClock.now)
    func touch() { value.withLock { $0 = .now } }
    var age: Duration { value.withLock { ContinuousClock.now - $0 } }
}

/// What one socket's monitor events say about its connection, read as they come.
final class ConnectionWatch: Sendable {
    private let monitor: SocketMonitor
    private let state: Mutex<ConnectionDiagnosis>

    /// Starts watching `socket`; call before it connects, on the thread that owns it.
    init(_ socket: Socket, endpoint: String) throws {
        monitor = try SocketMonitor(socket)
        state = Mutex(ConnectionDiagnosis(endpoint: endpoint))
        let events = monitor.events
        // Read on a queue of its own: a busy cooperative pool (two threads on two cores)
        // must not keep the verdict from arriving before a receive times out.
        Task.detached(executorPreference: MonitorReaderExecutor.shared) { [self] in
            do {
                for try await event in events { self.state.withLock { _ = $0.observe(event) } }
            } catch {}
        }
    }

    /// The diagnosis so far.
    var diagnosis: ConnectionDiagnosis { state.withLock { $0 } }

    /// The diagnosis once it has a verdict, waiting at most `grace` for the first one
    /// (the events may still be on their way when a receive times out).
    func settled(grace: Duration = .seconds(1)) -> ConnectionDiagnosis {
        let deadline = ContinuousClock.now + grace
        while diagnosis.verdict == nil && ContinuousClock.now < deadline { usleep(10_000) }
        return diagnosis
    }

    func close() async { await monitor.close() }
}

/// Runs monitor readers on a dispatch queue rather than the cooperative pool.
final class MonitorReaderExecutor: TaskExecutor, @unchecked Sendable {
    // Proof for Sendable: the queue is immutable and thread-safe.
    static let shared = MonitorReaderExecutor()
    let queue = DispatchQueue(label: "koers.operator.monitor", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// An operator command that cannot be done, with what to do.
public struct OperatorError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The aggregator's reason code, when it refused the request (SNAPSHOT_ERROR).
    public var code: ReasonCode?
    /// Why the aggregator did not answer, when it did not (from the socket's monitor).
    public var verdict: ConnectionDiagnosis.Verdict?
    public init(_ d: String) { description = d }

    /// No answer within `timeout`, and why, from the connection's monitor events.
    static func noAnswer(endpoint: String, timeout: Duration, diagnosis: ConnectionDiagnosis) -> OperatorError {
        let head = "no answer from the aggregator at \(endpoint) within \(timeout)"
        var e: OperatorError
        switch diagnosis.verdict {
        case .connected?:
            e = OperatorError("\(head), though connected: the encrypted handshake succeeded and the request was sent, but the aggregator did not answer in time; it may be busy or stuck: look at its log, and try again")
        case .nothingListening?:
            e = OperatorError("\(head): \(diagnosis.sentence) (the endpoint is the --snapshot option)")
        case .serverKeyWrong?:
            e = OperatorError("\(head): \(diagnosis.sentence)")
        case .clientKeyNotTrusted?:
            e = OperatorError("\(head): the aggregator refused this operator's key"
                + (diagnosis.zapStatus.map { " (ZAP status \($0))" } ?? "")
                + ": it does not trust it, or does not admit it on the snapshot channel; send the operator's public key (keys/operator.NAME.key) to the programme bureau and ask them to trust it as an operator (the aggregator reloads its trusted keys on SIGHUP)")
        case nil:
            e = OperatorError("\(head), and no connection attempt has finished yet: is it running, and is this key trusted?")
        }
        e.verdict = diagnosis.verdict
        return e
    }

    /// The aggregator refused a request: its code and sentence.
    static func refused(_ code: ReasonCode, _ detail: String) -> OperatorError {
        var e = OperatorError("the aggregator refused: \(code): \(detail)")
        e.code = code
        return e
    }
}
