import Wire
import ZeroMQ

/// Stage 3, deduplicate: a report's sequence against its publisher's settled level.
/// The next one is decoded and decided; one at or below the level is a resend, answered
/// from the store without deciding it again; one beyond the next is a gap (`402`), which
/// the sender answers by resending from the level.
struct Deduplicate: Sendable {
    /// Each publisher's level: every report up to it is stored or finally refused,
    /// including the batch in hand.
    private(set) var settledThrough: [String: UInt64]

    init(settledThrough: [String: UInt64]) { self.settledThrough = settledThrough }

    enum Verdict: Equatable, Sendable {
        case next
        case resend
        case gap(expected: UInt64)
    }

    func callAsFunction(publisher: String, sequence: UInt64) -> Verdict {
        let level = settledThrough[publisher] ?? 0
        if sequence <= level { return .resend }
        if sequence > level + 1 { return .gap(expected: level + 1) }
        return .next
    }

    /// The report `sequence` of `publisher` is settled (stored, or finally refused).
    mutating func settle(_ publisher: String, through sequence: UInt64) { settledThrough[publisher] = sequence }

    /// A resend of a report already settled.
    struct Resend: Sendable {
        var routing: Frame
        var publisher: String
        var sequence: UInt64
        var payload: [UInt8]
    }

    /// Resends, answered from the store: a harmless one is acknowledged through its own
    /// sequence (true: all up to it is settled), so that the answers to a run of resends
    /// keep the rule that a refused report's NACK comes before any ACK covering it; one
    /// that was refused gets its refusal again; one whose payload differs from what was
    /// stored under its number is refused (`401 sequence_conflict`).
    static func answer(_ r: Resend, store: ReportStore) throws -> Payload {
        let earlier = try store.earlier(publisher: r.publisher, sequence: r.sequence)
        if let earlier, earlier.payload != r.payload {
            return .nack(Nack(refusedSequence: r.sequence, reason: .sequenceConflict, detail: "sequence \(r.sequence) was stored with a different payload"))
        }
        if let refusal = earlier?.refusal {
            return .nack(Nack(refusedSequence: r.sequence, reason: refusal.0, detail: refusal.1))
        }
        return .ack(Ack(settledThrough: r.sequence))
    }
}
