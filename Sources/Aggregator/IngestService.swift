import Foundation
import Logging
import Plan
import ServiceLifecycle
import Synchronization
import Wire
import ZeroMQ

/// The aggregator's ingest channel: a CURVE ROUTER guarded by the ZAP authenticator,
/// feeding ``IngestStage`` in batches, storing each batch in one transaction before
/// it acknowledges (`docs/protocol.md`, `docs/operations.md`).
public final class IngestService: Service, Sendable {
    let runtime: AggregatorRuntime

    public init(runtime: AggregatorRuntime) { self.runtime = runtime }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.serve() }
    }

    func serve() async throws {
        let c = runtime.configuration, store = runtime.store, logger = runtime.logger, clock = runtime.clock, metrics = runtime.metrics
        var stage = IngestStage(index: runtime.index, planVersion: c.planVersion, plain: c.plain, settledThrough: try store.settledThrough())
        if c.plain {
            logger.critical("PLAIN MODE: the ingest channel accepts unencrypted, unauthenticated reports; never use this outside a test")
        }
        let router = try runtime.serverSocket(.router, for: .ingest)
        try router.set(.routerMandatory, true)
        try router.set(.linger, .milliseconds(500))
        try router.set(.receiveHighWaterMark, 100_000)
        try router.set(.sendHighWaterMark, 100_000)
        // A frame over 64 KiB drops the connection before it is read (no NACK can be
        // sent: the message never arrives); the monitor below counts the drops. Payloads
        // of 4,097 bytes–64 KiB arrive and are refused with NACK 106 (§2.2).
        try router.set(.maxMessageSize, Self.maxMessageSize)
        try router.set(.heartbeatInterval, .seconds(2))
        try router.set(.heartbeatTimeout, .seconds(6))
        let monitor = try SocketMonitor(router)
        let dropped = Atomic<Int>(0)
        let watcher = Task { [logger, metrics] in
            do {
                for try await e in monitor.events {
                    guard case .disconnected(let peer) = e else { continue }
                    let n = dropped.add(1, ordering: .relaxed).newValue
                    metrics.connectionDropped()
                    logger.info("ingest connection dropped", metadata: [
                        "endpoint": "\(peer)", "dropped_since_start": "\(n)",
                        "why": "the peer went away or missed heartbeats, or sent a frame over \(Self.maxMessageSize) bytes (ZMQ_MAXMSGSIZE)"])
                }
            } catch {}
        }
        let endpoint = try router.bind(c.ingestEndpoint)
        let socket = AsyncSocket(router, configuration: { var x = AsyncSocket.Configuration(); x.inboxCapacity = 16_384; x.outboxCapacity = 16_384; return x }())
        logger.info("ingest listening", metadata: ["endpoint": "\(endpoint)", "store": "\(c.storePath)", "trusted_keys": "\(c.trustedKeys.count)"])
        let codec = WireCodec()

        var iterator = socket.messages.makeAsyncIterator()
        do {
            while let batch = try await iterator.nextBatch(max: c.batchLimit) {
                let now = clock.now(), receivedAt = ContinuousClock.now
                var outcome = stage.process(batch, now: now)
                try Self.answerResends(&outcome, store: store)
                // The status moves and everything is stored in one transaction; then reply.
                let heard = Array(outcome.liveness.keys) + outcome.reports.map(\.publisher)
                if !outcome.reports.isEmpty || !outcome.refusals.isEmpty || !heard.isEmpty {
                    var levels: [String: UInt64] = [:]
                    for p in outcome.advanced.keys { levels[p] = stage.settledThrough[p] }
                    let took = try await runtime.keeper.apply(reports: outcome.reports, refusals: outcome.refusals, acked: levels, heard: heard, at: now,
                                                   receivedAt: receivedAt)
                    if took > .zero { metrics.committed(in: took) }
                }
                var stored: [String: Int] = [:]
                for r in outcome.reports { stored[r.publisher, default: 0] += 1 }
                metrics.batch(messages: batch.count, received: outcome.received, stored: stored, refused: outcome.refused)
                for (routing, payload) in outcome.replies {
                    let (e, p) = codec.encode(WireMessage(payload, sequence: 0, sentAt: now))
                    try await socket.send(Message([routing, Frame(e), Frame(p)]))
                }
                for (publisher, routing) in outcome.advanced {
                    let (e, p) = codec.encode(WireMessage(.ack(Ack(settledThrough: stage.settledThrough[publisher] ?? 0)), sequence: 0, sentAt: now))
                    try await socket.send(Message([routing, Frame(e), Frame(p)]))
                }
                for r in outcome.refusals {
                    logger.warning("report refused", metadata: ["publisher": "\(r.publisher)", "seq": "\(r.sequence)", "reason": "\(r.reason)"])
                }
                // Not settled, not stored: the sender keeps the report and resends it.
                for case (_, .nack(let n)) in outcome.replies where n.refusedSequence > 0 && n.reason == .futureTimestamp {
                    logger.warning("report held back: the sender's time is ahead of this clock; it will resend", metadata: [
                        "seq": "\(n.refusedSequence)", "reason": "\(n.reason)", "detail": "\(n.detail)"])
                }
                // Refusals without a report sequence (broken frames or envelopes, a bad
                // hello) are not stored; they are logged here and counted by the stage.
                for case (_, .nack(let n)) in outcome.replies where n.refusedSequence == 0 {
                    logger.warning("message refused", metadata: ["reason": "\(n.reason)", "detail": "\(n.detail)"])
                }
            }
        } catch is CancellationError {
            logger.info("ingest stopping")
        }
        await socket.close()
        await monitor.close()
        watcher.cancel()
        let drops = dropped.load(ordering: .relaxed)
        if !stage.refusalCounts.isEmpty || drops > 0 {
            let counts = stage.refusalCounts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            logger.info("refusals since start", metadata: ["counts": "\(counts)", "connections_dropped": "\(drops)"])
        }
    }

    /// Resends: harmless ones are acknowledged again, conflicting ones refused.
    /// A stored one is answered with an ACK through its own sequence (true: all up to it
    /// is settled), not through the level, so that the answers to a run of resends keep
    /// the rule that a refused report's NACK comes before any ACK covering it (a service
    /// that lost both resends to learn which it was).
    static func answerResends(_ outcome: inout IngestStage.Outcome, store: ReportStore) throws {
        for r in outcome.resends {
            let earlier = try store.earlier(publisher: r.publisher, sequence: r.sequence)
            if let earlier, earlier.payload != r.payload {
                outcome.refused[.init(theme: r.publisher, code: .sequenceConflict), default: 0] += 1
                outcome.replies.append((r.routingID, .nack(Nack(refusedSequence: r.sequence, reason: .sequenceConflict,
                                                                 detail: "sequence \(r.sequence) was stored with a different payload"))))
            } else if let refusal = earlier?.refusal {
                outcome.replies.append((r.routingID, .nack(Nack(refusedSequence: r.sequence, reason: refusal.0, detail: refusal.1))))
            } else {
                outcome.replies.append((r.routingID, .ack(Ack(settledThrough: r.sequence))))
            }
        }
    }

    /// The ingest socket's `ZMQ_MAXMSGSIZE`: 64 KiB, far above the 4,096-byte payload
    /// limit, so an oversized report is answered (NACK 106) rather than cut off.
    public static let maxMessageSize: Int64 = 64 << 10
}
