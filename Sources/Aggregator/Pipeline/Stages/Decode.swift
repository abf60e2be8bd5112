import Wire
import ZeroMQ

/// A message the ingest stages refused, and to whom the NACK goes.
struct Refused: Error, Sendable {
    var routing: Frame
    var code: ReasonCode
    var detail: String
    /// Who sent it, as far as known (a metric's label; nil: not known).
    var theme: String?
    /// The report's sequence, or 0 when the message could not name a report.
    var sequence: UInt64 = 0
}

/// Stage 1, decode the frames: a ROUTER message is [routing id, envelope, payload]. The
/// envelope is read here (its sequence decides whether a broken report uses up its
/// number); the payload is read by ``Validate``, after ``Deduplicate`` has skipped
/// resends and gaps without decoding them.
struct Decode: Sendable {
    /// One message with its envelope read.
    struct Framed: Sendable {
        var routing: Frame
        var envelopeFrame: Frame
        var payloadFrame: Frame
        var envelope: Envelope
        /// The CURVE identity the ZAP handler gave the connection (nil in plain mode).
        var identity: String?
        /// A report (progress or measurement), which has a sequence of its publisher's.
        var isReport: Bool { envelope.type == .milestoneProgress || envelope.type == .indicatorMeasurement }
    }

    enum Verdict: Sendable {
        case framed(Framed)
        case refused(Refused)
        /// Not even a routing id: nobody to answer.
        case dropped
    }

    func callAsFunction(_ m: Message) -> Verdict {
        guard m.count == 3 else {
            guard m.count >= 1 else { return .dropped }
            return .refused(Refused(routing: m[0], code: .frameCount, detail: "expected 2 frames (envelope, payload), got \(m.count - 1)",
                                    theme: m.count > 1 ? m[1].userID : nil))
        }
        let identity = m[1].userID
        do throws(WireError) {
            let envelope = try m[1].withUnsafeBytes { (b: UnsafeRawBufferPointer) throws(WireError) in try Envelope(decoding: b) }
            return .framed(Framed(routing: m[0], envelopeFrame: m[1], payloadFrame: m[2], envelope: envelope, identity: identity))
        } catch {
            return .refused(Refused(routing: m[0], code: error.code, detail: error.description,
                                    theme: identity ?? m[2].withUnsafeBytes { Authorise.themeGuess($0) }))
        }
    }
}
