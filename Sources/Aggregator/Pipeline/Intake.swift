import Foundation
import Plan
import Wire
import ZeroMQ

/// The first four stages, over one batch of messages: ``Decode``, ``Authorise``,
/// ``Deduplicate``, ``Validate``. Pure: no sockets, no disk (resends are answered by the
/// pipeline from the store), so a batch's decisions are testable alone.
struct Intake: Sendable {
    let decode = Decode()
    let authorise: Authorise
    var deduplicate: Deduplicate
    let validate: Validate
    let planVersion: UInt64
    /// Refusals counted per reason since start.
    private(set) var refusalCounts: [ReasonCode: Int] = [:]

    init(index: PlanIndex, planVersion: UInt64, plain: Bool, settledThrough: [String: UInt64]) {
        authorise = Authorise(plain: plain)
        deduplicate = Deduplicate(settledThrough: settledThrough)
        validate = Validate(index: index)
        self.planVersion = planVersion
    }

    /// Each publisher's level, including this batch's settled reports.
    var settledThrough: [String: UInt64] { deduplicate.settledThrough }

    /// What one batch produces.
    struct Outcome: Sendable {
        var reports: [ReportStore.StoredReport] = []
        var refusals: [ReportStore.Refusal] = []
        /// Replies to send after the batch is stored, by routing id, in order.
        var replies: [(routingID: Frame, payload: Payload)] = []
        /// Publishers whose level moved, to acknowledge after the commit.
        var advanced: [String: Frame] = [:]
        /// Resends, to answer from the store.
        var resends: [Deduplicate.Resend] = []
        /// Heartbeats and hellos seen: publisher → (last sequence, outbox depth).
        var liveness: [String: (lastSequence: UInt64, outboxDepth: UInt64?)] = [:]
        /// Reports received (resends included), by the identity they came with or claimed.
        var received: [String: Int] = [:]
        /// Messages refused, by identity (nil: none known) and reason.
        var refused: [RefusalKey: Int] = [:]
        /// Whether anything must be stored (reports, refusals, levels) or the status moved
        /// by who was heard.
        var needsCommit: Bool { !reports.isEmpty || !refusals.isEmpty || !liveness.isEmpty }
    }

    /// Who was refused, and why: a metric's labels.
    struct RefusalKey: Hashable, Sendable {
        var theme: String?
        var code: ReasonCode
    }

    /// Decides one batch.
    mutating func process(_ batch: [Message], now: Int64) -> Outcome {
        var out = Outcome()
        for m in batch { process(m, now: now, into: &out) }
        return out
    }

    mutating func refuse(_ r: Refused, into out: inout Outcome) {
        refusalCounts[r.code, default: 0] += 1
        out.refused[RefusalKey(theme: r.theme, code: r.code), default: 0] += 1
        out.replies.append((r.routing, .nack(Nack(refusedSequence: r.sequence, reason: r.code, detail: r.detail))))
    }

    /// Counts a refusal that is answered later (a resend found conflicting in the store).
    mutating func count(_ code: ReasonCode, by theme: String, into out: inout Outcome) {
        out.refused[RefusalKey(theme: theme, code: code), default: 0] += 1
    }

    mutating func process(_ m: Message, now: Int64, into out: inout Outcome) {
        let framed: Decode.Framed
        switch decode(m) {
        case .dropped: return
        case .refused(let r): return refuse(r, into: &out)
        case .framed(let f): framed = f
        }
        let publisher: String
        switch authorise(framed) {
        case .failure(let r): return refuse(r, into: &out)
        case .success(let p): publisher = p
        }
        let sequence = framed.envelope.sequence
        if framed.isReport {
            out.received[publisher, default: 0] += 1
            if sequence > 0 {
                switch deduplicate(publisher: publisher, sequence: sequence) {
                case .resend:
                    return out.resends.append(.init(routing: framed.routing, publisher: publisher, sequence: sequence, payload: framed.payloadFrame.bytes))
                case .gap(let expected):
                    return refuse(Refused(routing: framed.routing, code: .sequenceGap,
                                          detail: "expected sequence \(expected), got \(sequence); resend from \(expected)", theme: publisher, sequence: sequence), into: &out)
                case .next: break
                }
            }
        }
        switch validate(framed, now: now) {
        case .failure(let error): invalid(framed, publisher: publisher, error: error, now: now, into: &out)
        case .success(let decoded): accept(decoded, framed: framed, publisher: publisher, now: now, into: &out)
        }
    }

    /// A message that did not validate: a report's final refusal settles its number and
    /// is stored, so a resend gets the same answer; `211` and other codes that are not
    /// final leave the level, and the same report is taken once it can be.
    mutating func invalid(_ f: Decode.Framed, publisher: String, error: WireError, now: Int64, into out: inout Outcome) {
        let numbered = f.isReport && f.envelope.sequence > 0
        if numbered && error.code.isFinal {
            out.refusals.append(ReportStore.Refusal(publisher: publisher, sequence: f.envelope.sequence, reason: error.code,
                                                    detail: error.description, payload: f.payloadFrame.bytes, at: now))
            deduplicate.settle(publisher, through: f.envelope.sequence)
            // The NACK goes in `replies`, sent before the ACKs in `advanced`.
            out.advanced[publisher] = f.routing
        }
        refuse(Refused(routing: f.routing, code: error.code, detail: error.description, theme: publisher,
                       sequence: f.isReport ? f.envelope.sequence : 0), into: &out)
    }

    mutating func accept(_ decoded: WireMessage, framed f: Decode.Framed, publisher: String, now: Int64, into out: inout Outcome) {
        switch decoded.payload {
        case .hello(let h):
            out.liveness[publisher] = (h.lastSequence, nil)
            out.replies.append((f.routing, .welcome(Welcome(settledThrough: settledThrough[publisher] ?? 0, planVersion: planVersion))))
        case .heartbeat(let h):
            out.liveness[publisher] = (h.lastSequence, h.outboxDepth)
        case .milestoneProgress(let r):
            store(ReportStore.StoredReport(
                publisher: publisher, sequence: decoded.envelope.sequence, type: .milestoneProgress, item: r.item, value: r.value,
                date: r.asOf, periodStart: nil, reportedAt: r.reportedAt, receivedAt: now, note: r.note, reporter: r.reporter,
                payload: f.payloadFrame.bytes), routing: f.routing, into: &out)
        case .indicatorMeasurement(let r):
            store(ReportStore.StoredReport(
                publisher: publisher, sequence: decoded.envelope.sequence, type: .indicatorMeasurement, item: r.item, value: r.value,
                date: r.periodEnd, periodStart: r.periodStart, reportedAt: r.reportedAt, receivedAt: now, note: r.note,
                reporter: r.reporter, payload: f.payloadFrame.bytes), routing: f.routing, into: &out)
        default:
            break
        }
    }

    mutating func store(_ r: ReportStore.StoredReport, routing: Frame, into out: inout Outcome) {
        out.reports.append(r)
        deduplicate.settle(r.publisher, through: r.sequence)
        out.advanced[r.publisher] = routing
    }
}
