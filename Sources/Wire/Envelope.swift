/// The first frame of every Koers message: 24 bytes, little-endian.
///
/// ```text
/// offset size field
///  0     2    magic "KR" (0x4B 0x52)
///  2     1    version (1)
///  3     1    type (MessageType)
///  4     2    flags (reserved, 0)
///  6     2    reserved (0)
///  8     8    sequence (u64)
/// 16     8    sent_at (i64, milliseconds since 1970-01-01T00:00:00Z)
/// ```
///
/// Python: `struct.pack('<2sBBHHQq', b'KR', 1, type, 0, 0, sequence, sent_at_ms)`.
public struct Envelope: Sendable, Hashable {
    /// The envelope's size in bytes.
    public static let size = 24
    /// The protocol version this code speaks.
    public static let currentVersion: UInt8 = 1

    public var version: UInt8
    public var type: MessageType
    /// A report's per-publisher sequence; the stream's sequence on the operators'
    /// channel; a request id on snapshot requests; 0 where the spec says so.
    public var sequence: UInt64
    /// When this copy was sent (milliseconds since the Unix epoch, UTC). A resend has a
    /// new `sentAt`; the report's own `reportedAt` does not change.
    public var sentAt: Int64

    public init(type: MessageType, sequence: UInt64, sentAt: Int64, version: UInt8 = Envelope.currentVersion) {
        self.version = version
        self.type = type
        self.sequence = sequence
        self.sentAt = sentAt
    }

    /// The 24 bytes.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: Envelope.size)
        out[0] = 0x4B
        out[1] = 0x52
        out[2] = version
        out[3] = type.rawValue
        out.withUnsafeMutableBytes { b in
            b.storeBytes(of: sequence.littleEndian, toByteOffset: 8, as: UInt64.self)
            b.storeBytes(of: sentAt.littleEndian, toByteOffset: 16, as: Int64.self)
        }
        return out
    }

    /// Decodes and checks an envelope frame.
    public init(decoding b: UnsafeRawBufferPointer) throws(WireError) {
        guard b.count == Envelope.size else {
            throw WireError(.envelopeSize, "the envelope must be exactly 24 bytes, got \(b.count)", frame: 0)
        }
        guard b[0] == 0x4B, b[1] == 0x52 else {
            throw WireError(.badMagic, "the envelope must start with \"KR\" (4b 52), got \(hex(b[0])) \(hex(b[1]))", frame: 0)
        }
        guard b[2] == Envelope.currentVersion else {
            throw WireError(.unsupportedVersion, "protocol version \(b[2]) is not supported; this aggregator speaks version 1", frame: 0)
        }
        guard let type = MessageType(rawValue: b[3]) else {
            throw WireError(.unknownType, "unknown message type 0x\(hex(b[3]))", frame: 0)
        }
        let flags = b.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        guard flags == 0 else {
            throw WireError(.reservedBits, "flags and reserved bytes 4–7 must be 0", frame: 0)
        }
        self.version = b[2]
        self.type = type
        self.sequence = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        self.sentAt = Int64(littleEndian: b.loadUnaligned(fromByteOffset: 16, as: Int64.self))
    }
}

/// The message types of protocol version 1.
public enum MessageType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Theme service → aggregator, on connecting.
    case hello = 0x01
    /// Theme service → aggregator, when idle.
    case heartbeat = 0x02
    /// Theme service → aggregator: progress on a milestone.
    case milestoneProgress = 0x10
    /// Theme service → aggregator: a measurement of an indicator.
    case indicatorMeasurement = 0x11
    /// Aggregator → theme service: everything up to a sequence is stored.
    case ack = 0x20
    /// Aggregator → theme service: one report refused, with the reason.
    case nack = 0x21
    /// Aggregator → theme service: the answer to hello.
    case welcome = 0x22
    /// Operator → aggregator: send me the current state.
    case snapshotRequest = 0x30
    /// Aggregator → operator: the state, and the stream sequence it holds at.
    case snapshotReply = 0x31
    /// Operator → aggregator: acknowledge an alert (a JSON document).
    case alertAck = 0x32
    /// Aggregator → operator: the answer to an acknowledgement.
    case alertAckReply = 0x33
    /// Aggregator → operator: a request on the snapshot channel was refused (reason, detail).
    case snapshotError = 0x34
    /// Aggregator → operators (stream): an alert changed state.
    case alertTransition = 0x40
    /// Aggregator → operators (stream): an item's status changed.
    case statusChange = 0x41
    /// Aggregator → operators (stream): nothing happened; the sequence so far.
    case streamHeartbeat = 0x42

    public var description: String {
        switch self {
        case .hello: "HELLO"
        case .heartbeat: "HEARTBEAT"
        case .milestoneProgress: "MILESTONE_PROGRESS"
        case .indicatorMeasurement: "INDICATOR_MEASUREMENT"
        case .ack: "ACK"
        case .nack: "NACK"
        case .welcome: "WELCOME"
        case .snapshotRequest: "SNAPSHOT_REQUEST"
        case .snapshotReply: "SNAPSHOT_REPLY"
        case .alertAck: "ALERT_ACK"
        case .alertAckReply: "ALERT_ACK_REPLY"
        case .snapshotError: "SNAPSHOT_ERROR"
        case .alertTransition: "ALERT_TRANSITION"
        case .statusChange: "STATUS_CHANGE"
        case .streamHeartbeat: "STREAM_HEARTBEAT"
        }
    }

    /// Whether a theme service may send this type to the aggregator's ingest socket.
    public var isIngest: Bool { [.hello, .heartbeat, .milestoneProgress, .indicatorMeasurement].contains(self) }
}

func hex(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
}
