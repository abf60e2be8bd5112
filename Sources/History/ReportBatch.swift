import Plan
import Wire

/// How the store keeps reports: one row of `report_batches` per publisher per committed
/// batch, its reports packed in one blob, in the order they arrived. A row per report
/// (its B-tree insert and a dozen bound columns) was more than half of the ingest
/// thread's time; a row per batch is one insert whatever the batch's size
/// (`docs/operations.md`, "Where data lives"; `docs/benchmarks.md`).
///
/// The blob: a version byte (1), then per report, little-endian: sequence (u64), message
/// type (u8), value (f64 bits), date and period start (days since 1970 as i32; the
/// period start `Int32.min` when there is none), reported at and received at (i64 ms),
/// then item, note, reporter and the report's payload as it arrived, each a u32 length
/// and its bytes (note and reporter `0xFFFF_FFFF` when absent).
public enum ReportBatch {
    public static let version: UInt8 = 1

    /// One stored report: what the aggregator's ingest path stores
    /// (`ReportStore.StoredReport` is this type) and what a batch row gives back. The
    /// publisher is the row's, not written per report.
    public struct Entry: Sendable, Equatable {
        public var publisher: String
        public var sequence: UInt64
        public var type: MessageType
        public var item: String
        public var value: Double
        /// `as_of` for progress, `period_end` for measurements.
        public var date: PlanDate
        public var periodStart: PlanDate?
        public var reportedAt: Int64
        public var receivedAt: Int64
        public var note: String?
        public var reporter: String?
        /// The report's payload as it arrived (a resend is compared with it).
        public var payload: [UInt8]

        public init(publisher: String, sequence: UInt64, type: MessageType, item: String, value: Double, date: PlanDate, periodStart: PlanDate?,
                    reportedAt: Int64, receivedAt: Int64, note: String?, reporter: String?, payload: [UInt8]) {
            self.publisher = publisher
            self.sequence = sequence
            self.type = type
            self.item = item
            self.value = value
            self.date = date
            self.periodStart = periodStart
            self.reportedAt = reportedAt
            self.receivedAt = receivedAt
            self.note = note
            self.reporter = reporter
            self.payload = payload
        }
    }

    /// Packs reports into one blob, in the order given.
    public static func encode(_ entries: some Sequence<Entry>) -> [UInt8] {
        var w = Writer(capacity: entries.underestimatedCount)
        for e in entries { w.append(e) }
        return w.bytes
    }

    /// Packs reports one by one.
    public struct Writer {
        public private(set) var bytes: [UInt8] = [ReportBatch.version]

        public init(capacity: Int) { bytes.reserveCapacity(1 + capacity * 200) }

        public mutating func append(_ e: Entry) {
            put(e.sequence, &bytes)
            bytes.append(e.type.rawValue)
            put(e.value.bitPattern, &bytes)
            put(UInt32(bitPattern: Int32(clamping: e.date.daysSinceEpoch)), &bytes)
            put(UInt32(bitPattern: e.periodStart.map { Int32(clamping: $0.daysSinceEpoch) } ?? Int32.min), &bytes)
            put(UInt64(bitPattern: e.reportedAt), &bytes)
            put(UInt64(bitPattern: e.receivedAt), &bytes)
            put(text: e.item, &bytes)
            put(text: e.note, &bytes)
            put(text: e.reporter, &bytes)
            put(e.payload, &bytes)
        }
    }

    /// The reports of one blob, in order, as `publisher`'s (the row's).
    ///
    /// - Throws: only ``Malformed``, when the blob is not one this version writes (cut short,
    ///   another version, text that is not UTF-8): the store is damaged.
    ///
    /// - Parameter item: only the reports about this item; the others are stepped over
    ///   without making their strings (an item's history reads every batch).
    public static func decode(_ blob: [UInt8], publisher: String, item wanted: String? = nil) throws -> [Entry] {
        let wantedBytes = wanted.map { Array($0.utf8) }
        return try blob.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> [Entry] in
            var r = Reader(bytes: raw)
            guard try r.byte() == version else { throw Malformed(reason: "version \(raw.first ?? 0), not \(version)") }
            var out: [Entry] = []
            while !r.atEnd {
                let sequence = try r.u64(), typeByte = try r.byte(), value = Double(bitPattern: try r.u64())
                guard let type = MessageType(rawValue: typeByte) else { throw Malformed(reason: "message type \(typeByte) at report \(sequence)") }
                let date = PlanDate(daysSinceEpoch: Int(Int32(bitPattern: try r.u32())))
                let start = Int32(bitPattern: try r.u32())
                let reportedAt = Int64(bitPattern: try r.u64()), receivedAt = Int64(bitPattern: try r.u64())
                if let wantedBytes {
                    let n = try r.u32()
                    guard n != absent else { throw Malformed(reason: "a report without an item") }
                    let itemBytes = try r.take(Int(n))
                    if !itemBytes.elementsEqual(wantedBytes) {
                        for _ in 0..<3 { try r.skip() }  // note, reporter, payload
                        continue
                    }
                    r.at -= Int(n) + 4
                }
                guard let item = try r.text() else { throw Malformed(reason: "a report without an item") }
                let note = try r.text(), reporter = try r.text()
                guard let payload = try r.field() else { throw Malformed(reason: "a report without a payload") }
                out.append(Entry(publisher: publisher, sequence: sequence, type: type, item: item, value: value, date: date,
                                 periodStart: start == Int32.min ? nil : PlanDate(daysSinceEpoch: Int(start)),
                                 reportedAt: reportedAt, receivedAt: receivedAt, note: note, reporter: reporter, payload: payload))
            }
            return out
        }
    }

    /// A blob that this version does not write.
    public struct Malformed: Error, CustomStringConvertible, Sendable {
        public var reason: String
        public var description: String { "a report batch that cannot be read: \(reason)" }
    }

    static let absent = UInt32.max

    static func put<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    static func put(text: String?, _ out: inout [UInt8]) {
        guard var text else { return put(absent, &out) }
        text.withUTF8 { b in
            put(UInt32(b.count), &out)
            out.append(contentsOf: b)
        }
    }

    static func put(_ bytes: [UInt8]?, _ out: inout [UInt8]) {
        guard let bytes else { return put(absent, &out) }
        put(UInt32(bytes.count), &out)
        out.append(contentsOf: bytes)
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var at = 0
        var atEnd: Bool { at == bytes.count }

        mutating func take(_ n: Int) throws(Malformed) -> UnsafeRawBufferPointer {
            guard n <= bytes.count - at else { throw Malformed(reason: "cut short at byte \(at) of \(bytes.count)") }
            defer { at += n }
            return UnsafeRawBufferPointer(rebasing: bytes[at..<at + n])
        }

        mutating func byte() throws(Malformed) -> UInt8 { try take(1)[0] }

        mutating func fixed<T: FixedWidthInteger>(_: T.Type) throws(Malformed) -> T {
            let b = try take(MemoryLayout<T>.size)
            var v = T.zero
            withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: b) }
            return T(littleEndian: v)
        }

        mutating func u32() throws(Malformed) -> UInt32 { try fixed(UInt32.self) }
        mutating func u64() throws(Malformed) -> UInt64 { try fixed(UInt64.self) }

        /// Steps over one length-prefixed field.
        mutating func skip() throws(Malformed) {
            let n = try u32()
            if n != ReportBatch.absent { _ = try take(Int(n)) }
        }

        mutating func field() throws(Malformed) -> [UInt8]? {
            let n = try u32()
            if n == ReportBatch.absent { return nil }
            return Array(try take(Int(n)))
        }

        mutating func text() throws(Malformed) -> String? {
            guard let b = try field() else { return nil }
            guard let s = String(validating: b, as: UTF8.self) else { throw Malformed(reason: "text that is not UTF-8 at byte \(at)") }
            return s
        }
    }
}
