import Feed
import Foundation
import Logging
import Plan
import Status
import StreamProtocol
import Wire
import ZeroMQ

/// The aggregator's hot path, run by the ingest thread (``IngestLoop``) from the socket
/// to the stream with no hand-off between threads:
///
///     decode → authorise → deduplicate → validate     (Intake: pure decisions)
///       → apply → evaluate                            (StatusCore: the engines)
///       → persist                                     (one transaction per batch)
///       → publish                                     (PUB socket, then the hub)
///       → reply                                       (NACKs, WELCOMEs, one ACK per publisher)
///
/// It also runs what the others ask of the state (``StatusKeeper``, through the
/// ``Mailbox``) and the passage of time (``tick()``), between batches, so one thread
/// is the only writer of the status and of the store.
///
/// When the store does not take a write (a full disk, an I/O error), nothing of that
/// batch is acknowledged: its reports get `503 storage_unavailable` (not final: the
/// services keep them and resend), the state is rebuilt from what was stored, and
/// writes are tried again after a back-off, so ingest resumes by itself.
final class Pipeline {
    var intake: Intake
    var core: StatusCore
    let persist: Persist
    let publish: Publish
    let reply: Reply
    /// Peers that do not read their replies, not read until they do.
    var throttle = Throttle()
    let runtime: AggregatorRuntime
    /// When writes may be tried again after a failure.
    private var retryAt: ContinuousClock.Instant?
    private var backoff: Duration = .milliseconds(250)

    init(runtime: AggregatorRuntime, core: StatusCore, router: Socket, pub: Socket) throws {
        let c = runtime.configuration
        self.runtime = runtime
        self.core = core
        intake = Intake(index: runtime.index, planVersion: c.planVersion, plain: c.plain, settledThrough: try runtime.store.settledThrough())
        persist = Persist(store: runtime.store)
        publish = Publish(socket: pub, hub: runtime.hub, metrics: runtime.metrics, clock: runtime.clock)
        reply = Reply(socket: router)
    }

    var logger: Logger { runtime.logger }

    /// One batch from the ingest socket, through every stage.
    func ingest(_ all: [Message]) {
        let now = runtime.clock.now(), receivedAt = ContinuousClock.now
        let batch = throttle.isEmpty ? all : throttled(all, now: now)
        guard !batch.isEmpty else { return }
        let before = intake
        var outcome = intake.process(batch, now: now)
        answerResends(&outcome)
        if outcome.needsCommit {
            if let waiting = retryAt, ContinuousClock.now < waiting {
                return refuseUnstored(batch: batch, outcome: &outcome, restoring: before, now: now)
            }
            var levels: [String: UInt64] = [:]
            for p in outcome.advanced.keys { levels[p] = intake.settledThrough[p] }
            var events = core.apply(outcome.reports, heard: Set(outcome.liveness.keys).union(outcome.advanced.keys), at: now)
            for i in events.indices { events[i].receivedAt = receivedAt }
            do {
                runtime.metrics.committed(in: try persist(outcome, levels: levels, events: events, at: now))
                storeRecovered()
            } catch {
                storeFailed(error, at: now)
                return refuseUnstored(batch: batch, outcome: &outcome, restoring: before, now: now)
            }
            publish(events)
        }
        finish(batch: batch, outcome: outcome, now: now)
    }

    /// Replies, metrics and the log for a batch that was decided (stored, or with nothing to store).
    private func finish(batch: [Message], outcome: Intake.Outcome, now: Int64) {
        let sent = reply(outcome, levels: intake.settledThrough, now: now)
        stall(sent.stalled)
        var stored: [String: Int] = [:]
        for r in outcome.reports { stored[r.publisher, default: 0] += 1 }
        runtime.metrics.batch(messages: batch.count, received: outcome.received, stored: stored, refused: outcome.refused, repliesDropped: sent.dropped)
        logRefusals(outcome)
    }

    /// Peers whose reply queue is full stop being read.
    private func stall(_ ids: [[UInt8]]) {
        for id in ids where !throttle.stalled.contains(id) {
            logger.warning("a peer does not read its replies: its messages are dropped unread (502 too_fast) until it does",
                           metadata: ["routing_id": "\(id.map { String($0, radix: 16) }.joined())"])
        }
        throttle.stall(ids)
    }

    /// The batch without the stalled peers' messages, which are counted as refused
    /// `502`; each stalled peer is offered one NACK saying so, and read again once a
    /// reply reaches it.
    private func throttled(_ all: [Message], now: Int64) -> [Message] {
        let (read, dropped) = throttle.filter(all)
        var refused: [Intake.RefusalKey: Int] = [:]
        var sent = Reply.Sent()
        for (id, d) in dropped {
            refused[.init(theme: d.theme, code: .tooFast), default: 0] += d.count
            let before = sent.dropped
            reply.send(.nack(Nack(refusedSequence: 0, reason: .tooFast,
                                  detail: "\(d.count) messages dropped unread: this connection does not read its replies; read them, keep to the window, resend from settled_through + 1")),
                       to: d.routing, now: now, into: &sent)
            if sent.dropped == before {
                throttle.resume(id)
                logger.notice("a peer reads its replies again", metadata: ["theme": "\(d.theme ?? "-")"])
            }
        }
        runtime.metrics.batch(messages: all.count - read.count, received: [:], stored: [:], refused: refused, repliesDropped: sent.dropped)
        return read
    }

    private func answerResends(_ outcome: inout Intake.Outcome) {
        for r in outcome.resends {
            do {
                let answer = try Deduplicate.answer(r, store: runtime.store)
                if case .nack(let n) = answer, n.reason == .sequenceConflict { intake.count(.sequenceConflict, by: r.publisher, into: &outcome) }
                outcome.replies.append((r.routing, answer))
            } catch {
                outcome.replies.append((r.routing, .nack(Nack(refusedSequence: r.sequence, reason: .storageUnavailable,
                                                               detail: "the store could not be read to answer this resend: \(error)"))))
            }
        }
    }

    /// Nothing of this batch was stored: its levels are put back, its reports and
    /// refusals answered `503` so their senders keep them, and nothing is acknowledged.
    private func refuseUnstored(batch: [Message], outcome: inout Intake.Outcome, restoring before: Intake, now: Int64) {
        intake = before
        let detail = "the aggregator's store does not take writes (\(runtime.storeHealth.failure?.error ?? "failing")); keep the report and resend it later"
        // Only the refusals that name no report survive: a WELCOME or an answer about a
        // numbered report could speak of a level this batch did not store.
        var answered = outcome.replies.filter { if case .nack(let n) = $0.payload { return n.refusedSequence == 0 }; return false }
        // Every stored report and refusal set its publisher's routing in `advanced`.
        let unstored = outcome.reports.map { ($0.publisher, $0.sequence) } + outcome.refusals.map { ($0.publisher, $0.sequence) }
        for (publisher, sequence) in unstored {
            guard let routing = outcome.advanced[publisher] else { continue }
            answered.append((routing, .nack(Nack(refusedSequence: sequence, reason: .storageUnavailable, detail: detail))))
        }
        var refused: [Intake.RefusalKey: Int] = [:]
        for r in outcome.reports { refused[.init(theme: r.publisher, code: .storageUnavailable), default: 0] += 1 }
        let answers = Intake.Outcome(replies: answered, received: outcome.received, refused: refused)
        let sent = reply(answers, levels: [:], now: now)
        stall(sent.stalled)
        runtime.metrics.batch(messages: batch.count, received: outcome.received, stored: [:], refused: refused, repliesDropped: sent.dropped)
    }

    private func storeFailed(_ error: any Error, at now: Int64) {
        runtime.metrics.storeWriteFailed()
        if runtime.storeHealth.failed("\(error)", at: now) {
            logger.critical("the store does not take writes: nothing is acknowledged until it does; reports are refused with 503 and the services keep them",
                            metadata: ["store": "\(runtime.configuration.storePath)", "error": "\(error)",
                                       "what_to_do": "free disk space or fix the file system; ingest resumes by itself"])
        }
        retryAt = ContinuousClock.now + backoff
        backoff = min(backoff * 2, .seconds(30))
        rebuild()
    }

    /// The engine moved past the store when a write failed: take the state again from
    /// what was stored (as a restart does). If even that fails, the next retry does it.
    private func rebuild() {
        do {
            core = try StatusCore(index: runtime.index, store: runtime.store, hub: runtime.hub, nowMs: runtime.clock.now(),
                                  silenceGraceMs: runtime.configuration.silenceGraceMs)
        } catch {
            logger.error("the state could not be rebuilt from the store; trying again with the next write", metadata: ["error": "\(error)"])
        }
    }

    private func storeRecovered() {
        guard retryAt != nil else { return }
        retryAt = nil
        backoff = .milliseconds(250)
        if let outage = runtime.storeHealth.recovered() {
            logger.notice("the store takes writes again; ingest resumed", metadata: [
                "failing_since_ms": "\(outage.since)", "batches_refused": "\(outage.refusedBatches)"])
        }
    }

    private func logRefusals(_ outcome: Intake.Outcome) {
        for r in outcome.refusals {
            logger.warning("report refused", metadata: ["publisher": "\(r.publisher)", "seq": "\(r.sequence)", "reason": "\(r.reason)"])
        }
        for case (_, .nack(let n)) in outcome.replies {
            if n.refusedSequence > 0 && n.reason == .futureTimestamp {
                // Not settled, not stored: the sender keeps the report and resends it.
                logger.warning("report held back: the sender's time is ahead of this clock; it will resend", metadata: [
                    "seq": "\(n.refusedSequence)", "reason": "\(n.reason)", "detail": "\(n.detail)"])
            } else if n.refusedSequence == 0 {
                // Refusals without a report sequence (broken frames or envelopes, a bad
                // hello) are not stored; they are logged here and counted by the intake.
                logger.warning("message refused", metadata: ["reason": "\(n.reason)", "detail": "\(n.detail)"])
            }
        }
    }

    // MARK: - Time, and what the others ask

    /// The passage of time: scheduled re-evaluation, liveness, alert promotion; a
    /// heartbeat on the stream when it has been quiet.
    func tick() {
        defer {
            if ContinuousClock.now - publish.lastSent >= runtime.configuration.streamHeartbeat { publish.heartbeat(core.heartbeat()) }
        }
        if let waiting = retryAt, ContinuousClock.now < waiting { return }
        let now = runtime.clock.now()
        let events = core.tick(at: now)
        guard !events.isEmpty else { return }
        do {
            try runtime.store.appendStream(events, at: now)
            storeRecovered()
        } catch {
            return storeFailed(error, at: now)
        }
        publish(events)
    }

    /// An operator acknowledges an alert: the transition is stored with the log entry in
    /// one transaction, then published.
    func acknowledge(key: String, identity: String, person: String?, reason: String, until: PlanDate?) -> Result<AlertTransitionOutcome, AckFailure> {
        let by = [identity, person].compactMap { $0 }.joined(separator: "/")
        let now = runtime.clock.now()
        switch core.acknowledge(key: key, by: by, reason: reason, until: until) {
        case .failure(let e): return .failure(.refused(e))
        case .success(let event):
            do {
                try runtime.store.appendAcknowledgement(.init(sequence: event.sequence, alert: key, identity: identity, by: person, reason: reason,
                                                              until: until, date: core.today, at: now), stream: [event])
                storeRecovered()
            } catch {
                storeFailed(error, at: now)
                return .failure(.notStored("\(error)"))
            }
            publish([event])
            return .success(AlertTransitionOutcome(sequence: event.sequence))
        }
    }
}

/// An acknowledgement recorded: the stream message that carries it.
struct AlertTransitionOutcome: Sendable { var sequence: UInt64 }

/// Why an acknowledgement was not recorded.
enum AckFailure: Error, Sendable {
    case refused(AlertError)
    case notStored(String)
}
