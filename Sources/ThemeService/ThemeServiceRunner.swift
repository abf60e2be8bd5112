import Foundation
import Plan
import Logging
import ServiceLifecycle
import Wire
import ZeroMQ

/// How a theme service connects and paces itself.
public struct ThemeServiceConfiguration: Sendable {
    /// The theme this service publishes for; its key must authenticate as this theme.
    public var theme: String
    /// The aggregator's ingest endpoint.
    public var aggregatorEndpoint: String = "tcp://127.0.0.1:7401"
    /// This service's CURVE key pair; nil only in plain mode.
    public var keyPair: CurveKeyPair?
    /// The aggregator's public key; nil only in plain mode.
    public var aggregatorKey: CurvePublicKey?
    /// The outbox file.
    public var outboxPath: String
    /// Reports sent and not yet acknowledged, at most.
    public var window: Int = 1000
    /// A heartbeat goes out when nothing else has for this long.
    public var heartbeatInterval: Duration = .seconds(1)
    /// How often the outbox is checked for reports the CLI added.
    public var pollInterval: Duration = .milliseconds(100)
    /// libzmq's first reconnect delay; each process adds up to 50 % jitter so that
    /// services restarted together do not reconnect in step.
    public var reconnectInterval: Duration = .milliseconds(200)
    /// libzmq's reconnect delay doubles up to this cap.
    public var reconnectIntervalMax: Duration = .seconds(30)
    /// After an authentication refusal the service stops reconnecting for this long
    /// (plus jitter) and tells the team, instead of hammering the aggregator.
    public var authenticationRetry: Duration = .seconds(60)
    /// The plan version the service checks reports against.
    public var planVersion: UInt64 = 1
    /// After a non-final NACK (`211 future_timestamp`, a 5xx) the report is resent after
    /// this long, the delay doubling per further refusal up to ``retryMax``.
    public var retryInitial: Duration = .seconds(1)
    public var retryMax: Duration = .seconds(30)

    public init(theme: String, outboxPath: String) {
        self.theme = theme
        self.outboxPath = outboxPath
    }
}

/// The theme service's sender: sends the outbox to the aggregator over the ingest
/// channel and settles each report by the aggregator's ACK or NACK (`docs/protocol.md`).
public final class ThemeServiceRunner: Service, Sendable {
    public let configuration: ThemeServiceConfiguration
    let clock: any KoersClock
    let logger: Logger

    public init(configuration: ThemeServiceConfiguration, clock: any KoersClock = SystemClock(), logger: Logger) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    enum Event: Sendable {
        case message(Message)
        case monitor(MonitorEvent)
        case tick
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.serve() }
    }

    func serve() async throws {
        let c = configuration
        let outbox = try Outbox(path: c.outboxPath)
        let context = try Context()
        let socket = try context.socket(.dealer)
        let jitter = Double.random(in: 1.0...1.5)
        try socket.set(.immediate, true)
        try socket.set(.linger, .after(.zero))
        try socket.set(.sendHighWaterMark, Int32(c.window * 2))
        try socket.set(.receiveHighWaterMark, Int32(c.window * 2))
        try socket.set(.maxMessageSize, 64 << 10)
        try socket.set(.reconnectInterval, c.reconnectInterval * jitter)
        try socket.set(.reconnectIntervalMax, c.reconnectIntervalMax)
        try socket.set(.heartbeatInterval, .seconds(2))
        try socket.set(.heartbeatTimeout, .seconds(6))
        if let keys = c.keyPair, let server = c.aggregatorKey {
            try socket.makeCurveClient(keyPair: keys, serverKey: server)
        } else {
            logger.warning("PLAIN MODE: reports travel unencrypted and unauthenticated", metadata: ["theme": "\(c.theme)"])
        }
        let monitor = try SocketMonitor(socket)
        try socket.connect(c.aggregatorEndpoint)
        let dealer = AsyncSocket(socket)
        logger.info("theme service started", metadata: ["theme": "\(c.theme)", "aggregator": "\(c.aggregatorEndpoint)", "outbox": "\(c.outboxPath)"])

        let (events, sink) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(10_000))
        let feeders = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { do { for try await m in dealer.messages { sink.yield(.message(m)) } } catch {} }
                group.addTask { do { for try await e in monitor.events { sink.yield(.monitor(e)) } } catch {} }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: c.pollInterval)
                        sink.yield(.tick)
                    }
                }
            }
        }
        defer { feeders.cancel() }

        var session = Session(outbox: outbox, dealer: dealer, configuration: c, clock: clock, logger: logger)
        session.backoff = c.retryInitial
        do {
            for await event in events {
                try Task.checkCancellation()
                try await session.handle(event)
            }
        } catch is CancellationError {
            logger.info("theme service stopping", metadata: ["theme": "\(c.theme)"])
        } catch {
            logger.error("theme service failed", metadata: ["theme": "\(c.theme)", "error": "\(error)"])
            feeders.cancel()
            await dealer.close()
            await monitor.close()
            context.terminate()
            throw error
        }
        feeders.cancel()
        await dealer.close()
        await monitor.close()
        context.terminate()
    }

    /// The connection's state machine.
    struct Session {
        let outbox: Outbox
        let dealer: AsyncSocket
        let configuration: ThemeServiceConfiguration
        let clock: any KoersClock
        let logger: Logger
        let codec = WireCodec()

        var connected = false
        var welcomed = false
        var helloSentAt: ContinuousClock.Instant?
        var lastSendAt = ContinuousClock.now
        /// The next sequence to send.
        var nextToSend: UInt64 = 1
        /// The aggregator's cumulative acknowledgement.
        var settledThrough: UInt64 = 0
        /// Up to where this session's ACKs marked the outbox (WELCOME does not mark: §3).
        var markedThrough: UInt64 = 0
        var retryAfter: ContinuousClock.Instant?
        var authPausedUntil: ContinuousClock.Instant?
        /// A report a non-final NACK held back (211, 5xx): until it is settled, only it is
        /// in flight, so the reports behind it do not each earn a `402 sequence_gap`.
        var heldBack: UInt64?
        /// The delay before the held-back report is resent; doubles per refusal.
        var backoff: Duration = .seconds(1)
        /// Whether the recorded problem is the held-back report's (cleared once it is settled).
        var heldBackProblem = false
        /// What the monitor events say about the connection (`koers theme status` shows it).
        var diagnosis: ConnectionDiagnosis
        var lastMessageWarning: ContinuousClock.Instant?
        /// Successful handshakes since start: the first connection, then each reconnection.
        var handshakes = 0
        /// HELLOs said since start (the log counts them: one per connection).
        var hellos = 0

        init(outbox: Outbox, dealer: AsyncSocket, configuration: ThemeServiceConfiguration, clock: any KoersClock, logger: Logger) {
            self.outbox = outbox
            self.dealer = dealer
            self.configuration = configuration
            self.clock = clock
            self.logger = logger
            self.diagnosis = ConnectionDiagnosis(endpoint: configuration.aggregatorEndpoint)
        }

        var theme: String { configuration.theme }

        mutating func handle(_ event: Event) async throws {
            switch event {
            case .monitor(let e): try await handle(e)
            case .message(let m): try await handle(m)
            case .tick: try await tick()
            }
        }

        mutating func handle(_ e: MonitorEvent) async throws {
            if diagnosis.observe(e) != nil, let v = diagnosis.verdict {
                try outbox.recordDiagnosis(v.rawValue, sentence: diagnosis.sentence, now: clock.now())
                if diagnosis.isFailure {
                    logger.error("nothing can be delivered: \(diagnosis.sentence)", metadata: ["theme": "\(theme)", "diagnosis": "\(v.rawValue)"])
                    if v != .clientKeyNotTrusted { try outbox.recordProblem(diagnosis.sentence) }
                }
            }
            switch e {
            case .handshakeSucceeded:
                // A new connection (the first, or one libzmq made underneath after a
                // disconnect): the aggregator may have restarted or lost what was in
                // flight, so say HELLO and resume from WELCOME's settled_through.
                connected = true
                welcomed = false
                try outbox.recordProblem(nil)
                logger.info("connected to the aggregator", metadata: ["theme": "\(theme)"])
                handshakes += 1
                try await sendHello(why: handshakes == 1 ? "connected" : "reconnected")
            case .disconnected:
                if connected { logger.warning("lost the aggregator; reports wait in the outbox", metadata: ["theme": "\(theme)"]) }
                connected = false
                welcomed = false
                // What was sent but not acknowledged is resent after the next WELCOME;
                // anything still queued here would only arrive ahead of the HELLO.
                try await dealer.discardUnsent()
            case .handshakeFailedAuthentication(_, let status):
                connected = false
                welcomed = false
                let pause = configuration.authenticationRetry * Double.random(in: 1.0...1.25)
                let text = "the aggregator refused this service's key (ZAP status \(status)); ask the programme bureau to trust keys/\(theme).key. Retrying in \(pause)."
                logger.error("authentication refused", metadata: ["theme": "\(theme)", "status": "\(status)"])
                try outbox.recordProblem(text)
                authPausedUntil = .now + pause
                let endpoint = configuration.aggregatorEndpoint
                _ = try? await dealer.withSocket { try $0.disconnect(endpoint) }
            case .handshakeFailedProtocol(_, let code):
                // The diagnosis above recorded the problem for the team.
                logger.error("handshake failed", metadata: ["theme": "\(theme)", "code": "\(code)"])
            default: break
            }
        }

        mutating func handle(_ m: Message) async throws {
            guard m.count == 2 else {
                logger.warning("ignoring a message with \(m.count) frames from the aggregator")
                return
            }
            let now = clock.now()
            let decoded: WireMessage
            do {
                decoded = try m[0].withUnsafeBytes { e in
                    try m[1].withUnsafeBytes { p in try codec.decode(envelope: e, payload: p, now: now + PlanDate.millisecondsPerDay) }
                }
            } catch {
                logger.warning("ignoring an undecodable message from the aggregator", metadata: ["error": "\(error)"])
                return
            }
            switch decoded.payload {
            case .welcome(let w):
                welcomed = true
                settledThrough = w.settledThrough
                // Everything ≤ settled_through is settled, but a pending report in that
                // range was stored *or refused*: its NACK may have been lost with the old
                // connection. Resend from the first such report; the aggregator answers
                // each resend as the first time (ACK, or the stored refusal's NACK first).
                nextToSend = min(w.settledThrough + 1, try outbox.firstPending() ?? w.settledThrough + 1)
                try outbox.recordContact(now: now)
                if w.planVersion != configuration.planVersion {
                    let text = "the aggregator runs plan version \(w.planVersion), this service version \(configuration.planVersion)"
                    logger.warning("plan versions differ", metadata: ["theme": "\(theme)", "aggregator": "\(w.planVersion)", "service": "\(configuration.planVersion)"])
                    try outbox.recordProblem(text)
                }
                logger.info("welcomed", metadata: ["theme": "\(theme)", "settled_through": "\(w.settledThrough)"])
                try await sendBatch()
            case .ack(let a):
                settledThrough = max(settledThrough, a.settledThrough)
                if a.settledThrough > markedThrough {
                    // Final NACKs for reports up to here arrived before this ACK and marked
                    // them refused; the rest up to here are stored.
                    markedThrough = a.settledThrough
                    try outbox.markAcked(through: a.settledThrough, now: now)
                }
                if let held = heldBack, settledThrough >= held {
                    logger.info("a held-back report was settled; sending the rest", metadata: ["theme": "\(theme)", "seq": "\(held)"])
                    heldBack = nil
                    backoff = configuration.retryInitial
                    if heldBackProblem { try outbox.recordProblem(nil); heldBackProblem = false }
                }
                try await sendBatch()
            case .nack(let n):
                if n.reason == .sequenceGap {
                    // One resynchronisation at a time: later gap NACKs are for reports
                    // sent before it, which the WELCOME's resend covers.
                    if welcomed {
                        logger.warning("aggregator saw a gap; resynchronising", metadata: ["seq": "\(n.refusedSequence)"])
                        welcomed = false
                        try await dealer.discardUnsent()
                        try await sendHello(why: "resynchronising after a gap")
                    }
                } else if !n.reason.isFinal {
                    try holdBack(n, now: now)
                } else if n.refusedSequence > 0 {
                    try outbox.markRefused(n.refusedSequence, reason: n.reason, detail: n.detail, now: now)
                    logger.error("report refused", metadata: ["theme": "\(theme)", "seq": "\(n.refusedSequence)", "reason": "\(n.reason)", "detail": "\(n.detail)"])
                } else {
                    logger.error("aggregator refused a message", metadata: ["reason": "\(n.reason)", "detail": "\(n.detail)"])
                }
            default:
                logger.warning("ignoring \(decoded.envelope.type) on the ingest channel")
            }
        }

        mutating func tick() async throws {
            if let until = authPausedUntil, ContinuousClock.now >= until {
                authPausedUntil = nil
                let endpoint = configuration.aggregatorEndpoint
                logger.info("retrying the aggregator after an authentication refusal", metadata: ["theme": "\(theme)"])
                _ = try? await dealer.withSocket { try $0.connect(endpoint) }
            }
            guard connected else { return }
            if !welcomed {
                if let sent = helloSentAt, ContinuousClock.now - sent > .seconds(5) { try await sendHello() }
                return
            }
            if let r = retryAfter, ContinuousClock.now >= r { retryAfter = nil }
            // While a retry waits, sendBatch sends nothing; heartbeats still go out.
            try await sendBatch()
            if ContinuousClock.now - lastSendAt >= configuration.heartbeatInterval {
                let last = try outbox.lastSequence()
                try await send(.heartbeat(Heartbeat(theme: theme, lastSequence: last, outboxDepth: UInt64(try outbox.pendingCount()))), sequence: 0)
            }
        }

        /// A non-final NACK: the report stays pending and is resent after a backoff, alone
        /// until it is settled (`docs/protocol.md` §6).
        mutating func holdBack(_ n: Nack, now: Int64) throws {
            if n.refusedSequence == 0 {
                // HELLO or a heartbeat, refused for its sent_at: this machine's clock. A
                // HELLO is said again after 5 s; say so at most every 30 s.
                if let last = lastMessageWarning, ContinuousClock.now - last < .seconds(30) { return }
                lastMessageWarning = .now
                let text = n.reason == .futureTimestamp
                    ? "the aggregator finds this machine's clock ahead of its own (\(n.detail)); fix the clock (NTP)"
                    : "the aggregator could not take a message now (\(n.reason)); retrying"
                logger.error("message not taken: \(text)", metadata: ["theme": "\(theme)", "reason": "\(n.reason)"])
                try outbox.recordProblem(text)
                return
            }
            guard n.refusedSequence > settledThrough else { return }  // settled since
            let delay = backoff
            backoff = min(backoff * 2, configuration.retryMax)
            retryAfter = .now + delay
            heldBack = n.refusedSequence
            nextToSend = min(nextToSend, n.refusedSequence)
            if n.reason == .futureTimestamp {
                let text = "report #\(n.refusedSequence) is held back: its time (reported_at or sent_at) is ahead of the aggregator's clock by more than the 5-minute tolerance (\(n.detail)). "
                    + "One of the two clocks is wrong; fix it (NTP). The report is kept and resent every \(delay) or so until it is taken; later reports wait behind it."
                logger.error("REPORT HELD BACK, CHECK THE CLOCKS: \(text)", metadata: ["theme": "\(theme)", "seq": "\(n.refusedSequence)", "reason": "\(n.reason)"])
                try outbox.recordProblem(text)
                heldBackProblem = true
            } else {
                logger.warning("aggregator could not take a report now; will resend", metadata: [
                    "theme": "\(theme)", "seq": "\(n.refusedSequence)", "reason": "\(n.reason)", "retry_in": "\(delay)", "detail": "\(n.detail)"])
            }
        }

        mutating func sendHello(why: String = "no WELCOME yet") async throws {
            hellos += 1
            logger.info("saying HELLO", metadata: ["theme": "\(theme)", "why": "\(why)", "hellos": "\(hellos)"])
            helloSentAt = .now
            try await send(.hello(Hello(theme: theme, planVersion: configuration.planVersion, service: "koers-theme/0.1.0",
                                        lastSequence: try outbox.lastSequence())), sequence: 0)
        }

        /// Sends what the window allows, in sequence order.
        mutating func sendBatch() async throws {
            guard welcomed, retryAfter == nil else { return }
            let inFlight = Int(nextToSend - 1 - min(settledThrough, nextToSend - 1))
            let room = (heldBack == nil ? configuration.window : 1) - inFlight
            guard room > 0 else { return }
            let entries = try outbox.entries(from: nextToSend, limit: room)
            for e in entries {
                let env = Envelope(type: e.type, sequence: e.sequence, sentAt: clock.now())
                try await dealer.send(Message([Frame(env.bytes), Frame(e.payload)]))
                nextToSend = e.sequence + 1
            }
            if !entries.isEmpty { lastSendAt = .now }
        }

        mutating func send(_ payload: Payload, sequence: UInt64) async throws {
            let (e, p) = codec.encode(WireMessage(payload, sequence: sequence, sentAt: clock.now()))
            try await dealer.send(Message([Frame(e), Frame(p)]))
            lastSendAt = .now
        }
    }
}
