/// The payload fields of protocol version 1. A payload is a sequence of fields, each
/// `tag (u8) · length (u16, little-endian) · value`. Tags 1–127 are defined here;
/// tags 128–255 are extensions, which a receiver skips.
public enum Field: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case theme = 1, item, value, asOf, periodStart, periodEnd, reportedAt, note, reporter, planVersion, service,
         lastSequence, outboxDepth, settledThrough, reason, detail, document, filterTheme, refusedSequence

    /// How a field's value is encoded.
    public enum Kind: Sendable, Equatable {
        /// UTF-8 text of at most this many bytes.
        case text(maxBytes: Int)
        /// An id: 1–64 bytes of `a-z`, `0-9` and `-`.
        case id
        case u16, u64, i64, f64
        /// `YYYY-MM-DD`, 10 ASCII bytes.
        case date
    }

    public var kind: Kind {
        switch self {
        case .theme, .item, .filterTheme: .id
        case .value: .f64
        case .asOf, .periodStart, .periodEnd: .date
        case .reportedAt: .i64
        case .note, .detail: .text(maxBytes: 1024)
        case .reporter, .service: .text(maxBytes: 128)
        case .planVersion, .lastSequence, .outboxDepth, .settledThrough, .refusedSequence: .u64
        case .reason: .u16
        case .document: .text(maxBytes: 256 << 20)
        }
    }

    /// The field's name in the spec (`as_of`).
    public var description: String {
        switch self {
        case .theme: "theme"
        case .item: "item"
        case .value: "value"
        case .asOf: "as_of"
        case .periodStart: "period_start"
        case .periodEnd: "period_end"
        case .reportedAt: "reported_at"
        case .note: "note"
        case .reporter: "reporter"
        case .planVersion: "plan_version"
        case .service: "service"
        case .lastSequence: "last_sequence"
        case .outboxDepth: "outbox_depth"
        case .settledThrough: "settled_through"
        case .reason: "reason"
        case .detail: "detail"
        case .document: "document"
        case .filterTheme: "filter_theme"
        case .refusedSequence: "refused_sequence"
        }
    }
}

extension MessageType {
    /// The fields each type must carry, and those it may.
    public var fields: (required: [Field], optional: [Field]) {
        switch self {
        case .hello: ([.theme, .planVersion, .service, .lastSequence], [])
        case .heartbeat: ([.theme, .lastSequence, .outboxDepth], [])
        case .milestoneProgress: ([.theme, .item, .value, .asOf, .reportedAt], [.note, .reporter])
        case .indicatorMeasurement: ([.theme, .item, .value, .periodStart, .periodEnd, .reportedAt], [.note, .reporter])
        case .ack: ([.settledThrough], [])
        case .nack: ([.refusedSequence, .reason, .detail], [])
        case .welcome: ([.settledThrough, .planVersion], [])
        case .snapshotRequest: ([], [.filterTheme])
        case .snapshotReply, .alertTransition, .statusChange, .alertAck, .alertAckReply: ([.document], [])
        case .snapshotError: ([.reason, .detail], [])
        case .streamHeartbeat: ([], [.document])
        }
    }
}

extension MessageType {
    /// Bit masks (bit = tag) of the fields a type may and must carry, computed once.
    var fieldMasks: (allowed: UInt32, required: UInt32) { MessageType.masks[Int(rawValue)] }

    private static let masks: [(allowed: UInt32, required: UInt32)] = (0..<256).map { raw in
        guard let t = MessageType(rawValue: UInt8(raw)) else { return (0, 0) }
        let req = t.fields.required.reduce(UInt32(0)) { $0 | 1 << UInt32($1.rawValue) }
        let opt = t.fields.optional.reduce(UInt32(0)) { $0 | 1 << UInt32($1.rawValue) }
        return (req | opt, req)
    }
}
