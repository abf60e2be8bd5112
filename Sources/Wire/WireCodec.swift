import Plan

/// Encodes and strictly decodes Koers messages (`docs/protocol.md`).
///
/// Decoding checks structure only: frame sizes, the envelope, every field's presence,
/// size, encoding and range, and timestamps against the clock. Whether the ids exist
/// in the plan and belong to the sender is ``ReportValidator``'s job.
public struct WireCodec: Sendable {
    /// Limits a decoder enforces.
    public struct Limits: Sendable {
        /// Largest payload of a message from a theme service.
        public var ingestPayloadBytes = 4096
        /// Largest payload of a message on the operators' channels (snapshots).
        public var documentPayloadBytes = 256 << 20
        /// How far ahead of the receiver's clock `reported_at` and `sent_at` may be.
        public var clockSkewMilliseconds: Int64 = 5 * 60 * 1000
        /// Largest absolute value of a `value` field.
        public var maxAbsoluteValue = 1e12
        /// Most fields in one payload (extensions included).
        public var maxFields = 32
        public init() {}
    }

    public var limits: Limits

    public init(limits: Limits = Limits()) { self.limits = limits }

    // MARK: - Encoding

    /// The two frames of a message: envelope and payload.
    public func encode(_ message: WireMessage) -> (envelope: [UInt8], payload: [UInt8]) {
        (message.envelope.bytes, encodePayload(message.payload))
    }

    /// The payload frame.
    public func encodePayload(_ payload: Payload) -> [UInt8] {
        var w = FieldWriter()
        switch payload {
        case .hello(let h):
            w.id(.theme, h.theme); w.u64(.planVersion, h.planVersion); w.text(.service, h.service); w.u64(.lastSequence, h.lastSequence)
        case .heartbeat(let h):
            w.id(.theme, h.theme); w.u64(.lastSequence, h.lastSequence); w.u64(.outboxDepth, h.outboxDepth)
        case .milestoneProgress(let m):
            w.id(.theme, m.theme); w.id(.item, m.item); w.f64(.value, m.value); w.date(.asOf, m.asOf); w.i64(.reportedAt, m.reportedAt)
            if let n = m.note { w.text(.note, n) }
            if let r = m.reporter { w.text(.reporter, r) }
        case .indicatorMeasurement(let m):
            w.id(.theme, m.theme); w.id(.item, m.item); w.f64(.value, m.value)
            w.date(.periodStart, m.periodStart); w.date(.periodEnd, m.periodEnd); w.i64(.reportedAt, m.reportedAt)
            if let n = m.note { w.text(.note, n) }
            if let r = m.reporter { w.text(.reporter, r) }
        case .ack(let a): w.u64(.settledThrough, a.settledThrough)
        case .nack(let n): w.u64(.refusedSequence, n.refusedSequence); w.u16(.reason, n.reason.rawValue); w.text(.detail, n.detail)
        case .welcome(let x): w.u64(.settledThrough, x.settledThrough); w.u64(.planVersion, x.planVersion)
        case .snapshotRequest(let theme): if let theme { w.id(.filterTheme, theme) }
        case .snapshotReply(let d), .alertTransition(let d), .statusChange(let d), .alertAck(let d), .alertAckReply(let d):
            w.text(.document, d)
        case .snapshotError(let reason, let detail): w.u16(.reason, reason.rawValue); w.text(.detail, detail)
        case .streamHeartbeat(let d): if let d { w.text(.document, d) }
        }
        return w.bytes
    }

    // MARK: - Decoding

    /// Decodes the two frames of a message.
    ///
    /// - Parameter now: the receiver's clock, milliseconds since the Unix epoch, for
    ///   the future-timestamp check.
    /// - Throws: ``WireError`` with the specific ``ReasonCode``.
    public func decode(envelope: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, now: Int64) throws(WireError) -> WireMessage {
        let env = try Envelope(decoding: envelope)
        let limit = env.type.isIngest || env.type == .snapshotRequest || env.type == .alertAck ? limits.ingestPayloadBytes : limits.documentPayloadBytes
        guard payload.count <= limit else {
            throw WireError(.payloadTooLarge, "a \(env.type) payload may be at most \(limit) bytes, got \(payload.count)", frame: 1)
        }
        guard env.sentAt >= 0 else {
            throw WireError(.outOfRange, "sent_at \(env.sentAt) is negative; it is milliseconds since 1970-01-01 UTC", frame: 0)
        }
        guard env.sentAt <= now + limits.clockSkewMilliseconds else {
            throw WireError(.futureTimestamp, "sent_at \(env.sentAt) lies in the future (receiver's clock \(now)); check the sender's clock", frame: 0)
        }
        switch env.type {
        case .milestoneProgress, .indicatorMeasurement:
            guard env.sequence >= 1 else {
                throw WireError(.badSequence, "a report's sequence starts at 1; got 0", frame: 0)
            }
        case .hello, .heartbeat, .ack, .nack, .welcome:
            guard env.sequence == 0 else {
                throw WireError(.badSequence, "\(env.type) carries sequence 0 in its envelope; got \(env.sequence)", frame: 0)
            }
        default: break
        }
        let fields = try FieldReader.read(payload, type: env.type, maxFields: limits.maxFields)
        return WireMessage(envelope: env, payload: try decodePayload(env.type, fields, now: now))
    }

    /// Decodes a message from its byte arrays.
    public func decode(envelope: [UInt8], payload: [UInt8], now: Int64) throws(WireError) -> WireMessage {
        let r = envelope.withUnsafeBytes { e in
            payload.withUnsafeBytes { p in Result { () throws(WireError) in try decode(envelope: e, payload: p, now: now) } }
        }
        return try r.get()
    }

    private func decodePayload(_ type: MessageType, _ f: FieldReader, now: Int64) throws(WireError) -> Payload {
        switch type {
        case .hello:
            return .hello(Hello(theme: try f.id(.theme), planVersion: try f.u64(.planVersion), service: try f.text(.service),
                                lastSequence: try f.u64(.lastSequence)))
        case .heartbeat:
            return .heartbeat(Heartbeat(theme: try f.id(.theme), lastSequence: try f.u64(.lastSequence), outboxDepth: try f.u64(.outboxDepth)))
        case .milestoneProgress:
            let value = try reportValue(f)
            guard value >= 0 else {
                throw WireError(.outOfRange, "a milestone's value counts progress and cannot be negative; got \(value)", frame: 1, field: "value")
            }
            let asOf = try f.date(.asOf)
            let reportedAt = try reportedAt(f, now: now)
            try notAfter(asOf, now: now, field: .asOf)
            return .milestoneProgress(MilestoneProgress(theme: try f.id(.theme), item: try f.id(.item), value: value, asOf: asOf,
                                                        reportedAt: reportedAt, note: try f.optionalText(.note),
                                                        reporter: try f.optionalText(.reporter)))
        case .indicatorMeasurement:
            let value = try reportValue(f)
            let start = try f.date(.periodStart), end = try f.date(.periodEnd)
            guard end >= start else {
                throw WireError(.outOfRange, "period_end \(end) is before period_start \(start)", frame: 1, field: "period_end")
            }
            try notAfter(start, now: now, field: .periodStart)
            return .indicatorMeasurement(IndicatorMeasurement(
                theme: try f.id(.theme), item: try f.id(.item), value: value, periodStart: start, periodEnd: end,
                reportedAt: try reportedAt(f, now: now), note: try f.optionalText(.note), reporter: try f.optionalText(.reporter)))
        case .ack:
            return .ack(Ack(settledThrough: try f.u64(.settledThrough)))
        case .nack:
            return .nack(Nack(refusedSequence: try f.u64(.refusedSequence), reason: ReasonCode(rawValue: try f.u16(.reason)),
                              detail: try f.text(.detail)))
        case .welcome:
            return .welcome(Welcome(settledThrough: try f.u64(.settledThrough), planVersion: try f.u64(.planVersion)))
        case .snapshotRequest:
            return .snapshotRequest(theme: f.has(.filterTheme) ? try f.id(.filterTheme) : nil)
        case .snapshotReply: return .snapshotReply(document: try f.text(.document))
        case .alertAck: return .alertAck(document: try f.text(.document))
        case .alertAckReply: return .alertAckReply(document: try f.text(.document))
        case .alertTransition: return .alertTransition(document: try f.text(.document))
        case .statusChange: return .statusChange(document: try f.text(.document))
        case .snapshotError:
            return .snapshotError(reason: ReasonCode(rawValue: try f.u16(.reason)), detail: try f.text(.detail))
        case .streamHeartbeat: return .streamHeartbeat(document: try f.optionalText(.document))
        }
    }

    private func reportValue(_ f: FieldReader) throws(WireError) -> Double {
        let v = try f.f64(.value)
        guard v.isFinite else {
            throw WireError(.notFinite, "value must be a finite number; got \(v)", frame: 1, field: "value")
        }
        guard abs(v) <= limits.maxAbsoluteValue else {
            throw WireError(.outOfRange, "value \(v) is beyond ±\(limits.maxAbsoluteValue); no plan counts that high", frame: 1, field: "value")
        }
        return v
    }

    private func reportedAt(_ f: FieldReader, now: Int64) throws(WireError) -> Int64 {
        let t = try f.i64(.reportedAt)
        // 2000-01-01T00:00:00Z: nothing in any plan was reported before it.
        guard t >= 946_684_800_000 else {
            throw WireError(.outOfRange, "reported_at \(t) is before 2000-01-01; it is milliseconds since 1970-01-01 UTC", frame: 1, field: "reported_at")
        }
        guard t <= now + limits.clockSkewMilliseconds else {
            throw WireError(.futureTimestamp, "reported_at \(t) lies in the future (receiver's clock \(now))", frame: 1, field: "reported_at")
        }
        return t
    }

    private func notAfter(_ d: PlanDate, now: Int64, field: Field) throws(WireError) {
        let today = PlanDate(epochMilliseconds: now + limits.clockSkewMilliseconds)
        guard d <= today.adding(days: 1) else {
            // A date a person chose, not a clock: final (`210`), unlike `211`, which
            // would hold back every later report until that day.
            throw WireError(.outOfRange, "\(field) \(d) lies in the future, after tomorrow (today is \(today)); progress is reported once it happened",
                            frame: 1, field: field.description)
        }
    }
}

// MARK: - Field writing

struct FieldWriter {
    var bytes: [UInt8] = []

    /// `tag · length u16`; a length of 65,535 or more is written as the escape 0xFFFF
    /// followed by the length as u32 (`docs/protocol.md` §2.2).
    mutating func header(_ f: Field, _ length: Int) {
        bytes.append(f.rawValue)
        if length < 0xFFFF {
            bytes.append(UInt8(truncatingIfNeeded: length))
            bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        } else {
            bytes += [0xFF, 0xFF]
            bytes += withUnsafeBytes(of: UInt32(length).littleEndian, Array.init)
        }
    }
    mutating func text(_ f: Field, _ s: String) {
        let u = Array(s.utf8)
        header(f, u.count)
        bytes += u
    }
    mutating func id(_ f: Field, _ s: String) { text(f, s) }
    mutating func u16(_ f: Field, _ v: UInt16) { header(f, 2); bytes += withUnsafeBytes(of: v.littleEndian, Array.init) }
    mutating func u64(_ f: Field, _ v: UInt64) { header(f, 8); bytes += withUnsafeBytes(of: v.littleEndian, Array.init) }
    mutating func i64(_ f: Field, _ v: Int64) { header(f, 8); bytes += withUnsafeBytes(of: v.littleEndian, Array.init) }
    mutating func f64(_ f: Field, _ v: Double) { header(f, 8); bytes += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
    mutating func date(_ f: Field, _ d: PlanDate) { text(f, d.iso) }
}

// MARK: - Field reading

/// The fields of one payload, located and checked against the type's field list.
struct FieldReader {
    let buffer: UnsafeRawBufferPointer
    /// Offset and length per defined tag (index = tag), packed as offset << 32 | length;
    /// -1 when absent. Tags run 1…19, so a fixed 20 slots suffice.
    var slots: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
        (-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)

    subscript(tag: Int) -> Int {
        get { withUnsafeBytes(of: slots) { $0.load(fromByteOffset: tag * MemoryLayout<Int>.stride, as: Int.self) } }
        set { withUnsafeMutableBytes(of: &slots) { $0.storeBytes(of: newValue, toByteOffset: tag * MemoryLayout<Int>.stride, as: Int.self) } }
    }

    static func read(_ b: UnsafeRawBufferPointer, type: MessageType, maxFields: Int) throws(WireError) -> FieldReader {
        let (allowed, required) = type.fieldMasks
        var r = FieldReader(buffer: b)
        var seen: UInt32 = 0
        var offset = 0, count = 0
        while offset < b.count {
            guard b.count - offset >= 3 else {
                throw WireError(.truncatedField, "\(b.count - offset) stray byte(s) at offset \(offset): a field header is 3 bytes", frame: 1)
            }
            let tag = b[offset]
            var length = Int(b[offset + 1]) | Int(b[offset + 2]) << 8
            var start = offset + 3
            if length == 0xFFFF {
                // The long form: the length follows as u32.
                guard b.count - start >= 4 else {
                    throw WireError(.truncatedField, "field tag \(tag) at offset \(offset) has the long-length escape but only \(b.count - start) of its 4 length bytes",
                                    frame: 1, field: Field(rawValue: tag)?.description)
                }
                length = Int(b[start]) | Int(b[start + 1]) << 8 | Int(b[start + 2]) << 16 | Int(b[start + 3]) << 24
                start += 4
                guard length >= 0xFFFF else {
                    throw WireError(.fieldSize, "field tag \(tag) at offset \(offset) uses the long length form for \(length) bytes; below 65,535 the short form is required",
                                    frame: 1, field: Field(rawValue: tag)?.description)
                }
            }
            guard b.count - start >= length else {
                throw WireError(.truncatedField, "field tag \(tag) at offset \(offset) claims \(length) bytes; only \(b.count - start) remain",
                                frame: 1, field: Field(rawValue: tag)?.description)
            }
            count += 1
            guard count <= maxFields else {
                throw WireError(.tooManyFields, "more than \(maxFields) fields", frame: 1)
            }
            offset = start + length
            if tag >= 128 { continue }  // an extension: skipped
            guard let field = Field(rawValue: tag) else {
                throw WireError(.unknownField, "field tag \(tag) is not defined in protocol version 1", frame: 1)
            }
            let bit: UInt32 = 1 << UInt32(tag)
            guard allowed & bit != 0 else {
                throw WireError(.fieldNotAllowed, "\(type) has no field \(field)", frame: 1, field: field.description)
            }
            guard seen & bit == 0 else {
                throw WireError(.duplicateField, "field \(field) appears twice", frame: 1, field: field.description)
            }
            seen |= bit
            try check(field, b, start, length)
            r[Int(tag)] = start << 32 | length
        }
        if required & ~seen != 0 {
            let f = type.fields.required.first { seen & (1 << UInt32($0.rawValue)) == 0 }!
            throw WireError(.missingField, "\(type) needs field \(f) (tag \(f.rawValue))", frame: 1, field: f.description)
        }
        return r
    }

    /// Size and encoding checks that do not depend on the message type.
    static func check(_ f: Field, _ b: UnsafeRawBufferPointer, _ start: Int, _ length: Int) throws(WireError) {
        let bytes = UnsafeRawBufferPointer(rebasing: b[start..<start + length])
        func size(_ n: Int) throws(WireError) {
            guard length == n else { throw WireError(.fieldSize, "\(f) must be \(n) bytes, got \(length)", frame: 1, field: f.description) }
        }
        switch f.kind {
        case .u16: try size(2)
        case .u64, .i64, .f64: try size(8)
        case .date:
            try size(10)
            guard parseDate(bytes) != nil else {
                throw WireError(.badDate, "\(f) must be a real date written YYYY-MM-DD", frame: 1, field: f.description)
            }
        case .id:
            guard length >= 1, length <= 64 else {
                throw WireError(length == 0 ? .invalidID : .stringTooLong, "\(f) must be 1–64 bytes, got \(length)", frame: 1, field: f.description)
            }
            guard bytes.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
                if String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) == nil {
                    throw WireError(.invalidUTF8, "\(f) is not valid UTF-8", frame: 1, field: f.description)
                }
                throw WireError(.invalidID, "\(f) may hold only a-z, 0-9 and -: got \"\(String(decoding: bytes, as: UTF8.self))\"", frame: 1, field: f.description)
            }
        case .text(let max):
            guard length <= max else {
                throw WireError(.stringTooLong, "\(f) may be at most \(max) bytes, got \(length)", frame: 1, field: f.description)
            }
            guard String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) != nil else {
                throw WireError(.invalidUTF8, "\(f) is not valid UTF-8", frame: 1, field: f.description)
            }
            guard !bytes.contains(0) else {
                throw WireError(.invalidUTF8, "\(f) contains a NUL byte", frame: 1, field: f.description)
            }
        }
    }

    func has(_ f: Field) -> Bool { self[Int(f.rawValue)] >= 0 }

    private func slot(_ f: Field) throws(WireError) -> UnsafeRawBufferPointer {
        let packed = self[Int(f.rawValue)]
        guard packed >= 0 else {
            throw WireError(.missingField, "missing field \(f)", frame: 1, field: f.description)
        }
        let o = packed >> 32, n = packed & 0xFFFF_FFFF
        return UnsafeRawBufferPointer(rebasing: buffer[o..<o + n])
    }

    func text(_ f: Field) throws(WireError) -> String { String(decoding: try slot(f), as: UTF8.self) }
    func id(_ f: Field) throws(WireError) -> String { try text(f) }
    func optionalText(_ f: Field) throws(WireError) -> String? { has(f) ? try text(f) : nil }
    func u16(_ f: Field) throws(WireError) -> UInt16 { UInt16(littleEndian: try slot(f).loadUnaligned(as: UInt16.self)) }
    func u64(_ f: Field) throws(WireError) -> UInt64 { UInt64(littleEndian: try slot(f).loadUnaligned(as: UInt64.self)) }
    func i64(_ f: Field) throws(WireError) -> Int64 { Int64(littleEndian: try slot(f).loadUnaligned(as: Int64.self)) }
    func f64(_ f: Field) throws(WireError) -> Double { Double(bitPattern: UInt64(littleEndian: try slot(f).loadUnaligned(as: UInt64.self))) }
    func date(_ f: Field) throws(WireError) -> PlanDate { parseDate(try slot(f))! }
}

/// Parses `YYYY-MM-DD` from 10 bytes without allocating; nil unless it is a real date.
func parseDate(_ b: UnsafeRawBufferPointer) -> PlanDate? {
    guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D else { return nil }
    func digits(_ range: Range<Int>) -> Int? {
        var n = 0
        for i in range {
            let c = b[i]
            guard c >= 0x30 && c <= 0x39 else { return nil }
            n = n * 10 + Int(c - 0x30)
        }
        return n
    }
    guard let y = digits(0..<4), let m = digits(5..<7), let d = digits(8..<10) else { return nil }
    return PlanDate(year: y, month: m, day: d)
}
