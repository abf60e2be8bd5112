import Foundation
import Logging
import Plan
import Wire
import ZeroMQ

/// The ingest pipeline's decisions for one batch of messages: decode, authorise,
/// validate, deduplicate, and what to persist and reply. Pure: no sockets, no disk, so
/// each step is testable alone; ``IngestService`` does the I/O around it.
public struct IngestStage: Sendable {
    let codec = WireCodec()
    let validator: ReportValidator
    let planVersion: UInt64
    /// Whether identities may be missing (plain mode).
    let plain: Bool
    /// Each publisher's acknowledgement level, including this batch's accepted reports.
    public private(set) var settledThrough: [String: UInt64]
    /// Refusals counted per reason since start.
    public private(set) var refusalCounts: [ReasonCode: Int] = [:]

    public init(plan: Plan, planVersion: UInt64, plain: Bool, settledThrough: [String: UInt64]) {
        self.init(index: PlanIndex(plan), planVersion: planVersion, plain: plain, settledThrough: settledThrough)
    }

    public init(index: PlanIndex, planVersion: UInt64, plain: Bool, settledThrough: [String: UInt64]) {
        self.validator = ReportValidator(catalog: PlanCatalog(index: index))
        self.planVersion = planVersion
        self.plain = plain
        self.settledThrough = settledThrough
    }

    /// What one batch produces.
    public struct Outcome: Sendable {
        public var reports: [ReportStore.StoredReport] = []
        public var refusals: [ReportStore.Refusal] = []
        /// Replies to send after the batch is stored, by routing id.
        public var replies: [(routingID: Frame, payload: Payload)] = []
        /// Publishers whose level moved, to acknowledge after the commit.
        public var advanced: [String: Frame] = [:]
        /// Resends that need the store to tell harmless from conflicting.
        public var resends: [(routingID: Frame, publisher: String, sequence: UInt64, payload: [UInt8])] = []
        /// Heartbeats and hellos seen: publisher → (last sequence, outbox depth).
        public var liveness: [String: (lastSequence: UInt64, outboxDepth: UInt64?)] = [:]
        /// Reports received (resends included), by the identity they came with or claimed.
        public var received: [String: Int] = [:]
        /// Messages refused, by identity (nil: none known) and reason.
        public var refused: [RefusalKey: Int] = [:]
    }

    /// Who was refused, and why: a metric's labels.
    public struct RefusalKey: Hashable, Sendable {
        public var theme: String?
        public var code: ReasonCode
    }

    /// Decides one batch.
    public mutating func process(_ batch: [Message], now: Int64) -> Outcome {
        var out = Outcome()
        for m in batch { process(m, now: now, into: &out) }
        return out
    }

    mutating func refuse(_ code: ReasonCode, by theme: String?, into out: inout Outcome) {
        refusalCounts[code, default: 0] += 1
        out.refused[RefusalKey(theme: theme, code: code), default: 0] += 1
    }

    mutating func process(_ m: Message, now: Int64, into out: inout Outcome) {
        guard m.count == 3 else {
            refuse(.frameCount, by: m.count > 1 ? m[1].userID : nil, into: &out)
            if m.count >= 1 {
                out.replies.append((m[0], .nack(Nack(refusedSequence: 0, reason: .frameCount,
                                                      detail: "expected 2 frames (envelope, payload), got \(m.count - 1)"))))
            }
            return
        }
        let routing = m[0]
        let identity = m[1].userID
        if identity == nil && !plain {
            // Cannot happen with a CURVE server and a ZAP handler; refuse rather than trust.
            refuse(.identityMismatch, by: nil, into: &out)
            out.replies.append((routing, .nack(Nack(refusedSequence: 0, reason: .identityMismatch, detail: "the connection is not authenticated"))))
            return
        }
        let payloadBytes = m[2].bytes
        // The envelope first: its sequence decides whether a broken report uses up its number.
        let envelope: Envelope
        do throws(WireError) {
            envelope = try m[1].withUnsafeBytes { (b: UnsafeRawBufferPointer) throws(WireError) in try Envelope(decoding: b) }
        } catch {
            refuse(error.code, by: identity ?? Self.themeGuess(payloadBytes), into: &out)
            out.replies.append((routing, .nack(Nack(refusedSequence: 0, reason: error.code, detail: error.description))))
            return
        }
        let isReport = envelope.type == .milestoneProgress || envelope.type == .indicatorMeasurement
        let claimed = identity ?? Self.themeGuess(payloadBytes) ?? "?"
        if isReport { out.received[claimed, default: 0] += 1 }
        if isReport && envelope.sequence > 0 {
            let level = settledThrough[claimed] ?? 0
            if envelope.sequence <= level {
                out.resends.append((routing, claimed, envelope.sequence, payloadBytes))
                return
            }
            if envelope.sequence > level + 1 {
                refuse(.sequenceGap, by: claimed, into: &out)
                out.replies.append((routing, .nack(Nack(refusedSequence: envelope.sequence, reason: .sequenceGap,
                                                         detail: "expected sequence \(level + 1), got \(envelope.sequence); resend from \(level + 1)"))))
                return
            }
        }
        let decoded: WireMessage
        do throws(WireError) {
            decoded = try m[1].withUnsafeBytes { (e: UnsafeRawBufferPointer) throws(WireError) in
                try m[2].withUnsafeBytes { (p: UnsafeRawBufferPointer) throws(WireError) in try codec.decode(envelope: e, payload: p, now: now) }
            }
            guard decoded.envelope.type.isIngest else {
                throw WireError(.wrongDirection, "\(decoded.envelope.type) is not accepted on the ingest channel", frame: 0)
            }
            try validator.check(decoded.payload, identity: identity)
        } catch {
            refuse(error.code, by: claimed, into: &out)
            if isReport && envelope.sequence > 0 && !error.code.isFinal {
                // Not settled (`211 future_timestamp`: the clocks disagree): nothing is
                // stored and the level stays, so the same report is taken once the clocks
                // agree; later reports meanwhile get `402 sequence_gap`.
                out.replies.append((routing, .nack(Nack(refusedSequence: envelope.sequence, reason: error.code, detail: error.description))))
                return
            }
            if isReport && envelope.sequence > 0 {
                // Settled by a final refusal: the number is used up and the refusal is
                // stored, so a resend gets the same answer. The NACK is queued in
                // `replies`, which IngestService sends before the ACKs in `advanced`.
                out.refusals.append(ReportStore.Refusal(publisher: claimed, sequence: envelope.sequence, reason: error.code,
                                                        detail: error.description, payload: payloadBytes, at: now))
                settledThrough[claimed] = envelope.sequence
                out.advanced[claimed] = routing
            }
            out.replies.append((routing, .nack(Nack(refusedSequence: isReport ? envelope.sequence : 0, reason: error.code, detail: error.description))))
            return
        }
        let publisher = identity ?? claimed
        switch decoded.payload {
        case .hello(let h):
            out.liveness[publisher] = (h.lastSequence, nil)
            out.replies.append((routing, .welcome(Welcome(settledThrough: settledThrough[publisher] ?? 0, planVersion: planVersion))))
        case .heartbeat(let h):
            out.liveness[publisher] = (h.lastSequence, h.outboxDepth)
        case .milestoneProgress(let r):
            out.reports.append(ReportStore.StoredReport(
                publisher: publisher, sequence: decoded.envelope.sequence, type: .milestoneProgress, item: r.item, value: r.value,
                date: r.asOf.iso, periodStart: nil, reportedAt: r.reportedAt, receivedAt: now, note: r.note, reporter: r.reporter,
                payload: payloadBytes))
            settledThrough[publisher] = decoded.envelope.sequence
            out.advanced[publisher] = routing
        case .indicatorMeasurement(let r):
            out.reports.append(ReportStore.StoredReport(
                publisher: publisher, sequence: decoded.envelope.sequence, type: .indicatorMeasurement, item: r.item, value: r.value,
                date: r.periodEnd.iso, periodStart: r.periodStart.iso, reportedAt: r.reportedAt, receivedAt: now, note: r.note,
                reporter: r.reporter, payload: payloadBytes))
            settledThrough[publisher] = decoded.envelope.sequence
            out.advanced[publisher] = routing
        default:
            break
        }
    }

    /// In plain mode the theme field names the publisher; read it without a full decode.
    static func themeGuess(_ payload: [UInt8]) -> String? {
        guard payload.count >= 3, payload[0] == Field.theme.rawValue else { return nil }
        let n = Int(payload[1]) | Int(payload[2]) << 8
        guard payload.count >= 3 + n else { return nil }
        return String(decoding: payload[3..<3 + n], as: UTF8.self)
    }
}
