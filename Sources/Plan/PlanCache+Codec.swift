/// The compiled plan cache's payload: a ``Plan`` in a compact binary form
/// (`docs/plan-format.md`, "The compiled plan cache").
///
/// Every string is written once, in a table at the start, and named by its number
/// after it, so a decoded plan shares one copy of each repeated string (units, owners,
/// area ids). Integers are LEB128 varints (signed ones zig-zagged), doubles their 8-byte
/// bit pattern, optionals a presence byte or a string number + 1. Reading checks every
/// length and value it meets: a payload that passed the checksum but is not a plan this
/// build wrote throws ``CacheFormatError``, it never traps.
struct CacheFormatError: Error, Sendable, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Writes the payload: the body first (collecting the strings), then table + body.
struct CacheWriter {
    private(set) var body: [UInt8] = []
    private var numbers: [String: UInt32] = [:]
    private var table: [String] = []

    init() { body.reserveCapacity(1 << 20) }

    mutating func byte(_ b: UInt8) { body.append(b) }

    mutating func unsigned(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            body.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        body.append(UInt8(v))
    }

    mutating func int(_ v: Int) { unsigned(UInt64(bitPattern: Int64((v << 1) ^ (v >> 63)))) }
    mutating func double(_ v: Double) { withUnsafeBytes(of: v.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
    mutating func bool(_ v: Bool) { body.append(v ? 1 : 0) }
    mutating func date(_ d: PlanDate) { int(d.daysSinceEpoch) }

    mutating func string(_ s: String) { unsigned(UInt64(number(s))) }
    mutating func optionalString(_ s: String?) { unsigned(s.map { UInt64(number($0)) + 1 } ?? 0) }
    mutating func strings(_ list: [String]) {
        unsigned(UInt64(list.count))
        for s in list { string(s) }
    }

    private mutating func number(_ s: String) -> UInt32 {
        if let n = numbers[s] { return n }
        let n = UInt32(table.count)
        numbers[s] = n
        table.append(s)
        return n
    }

    /// The string table, then the body.
    var payload: [UInt8] {
        var head = CacheWriter()
        head.unsigned(UInt64(table.count))
        for s in table {
            head.unsigned(UInt64(s.utf8.count))
            head.body.append(contentsOf: s.utf8)
        }
        return head.body + body
    }
}

/// Reads a payload written by ``CacheWriter``.
struct CacheReader {
    private let bytes: [UInt8]
    private var at = 0
    private var table: [String] = []

    init(_ bytes: [UInt8]) throws(CacheFormatError) {
        self.bytes = bytes
        let count = try length()
        table.reserveCapacity(count)
        for _ in 0..<count {
            let n = try length()
            let utf8 = bytes[at..<(at + n)]
            guard let s = String(validating: utf8, as: UTF8.self) else { throw CacheFormatError(message: "a string that is not UTF-8 at byte \(at)") }
            table.append(s)
            at += n
        }
    }

    /// Whether every byte was read (a plan followed by anything else is not this build's).
    var atEnd: Bool { at == bytes.count }

    mutating func byte() throws(CacheFormatError) -> UInt8 {
        guard at < bytes.count else { throw CacheFormatError(message: "the payload ends early") }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func unsigned() throws(CacheFormatError) -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw CacheFormatError(message: "an integer longer than 64 bits at byte \(at)") }
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    /// A count or a byte length: no larger than what is left to read.
    mutating func length() throws(CacheFormatError) -> Int {
        let v = try unsigned()
        guard v <= UInt64(bytes.count - at) else { throw CacheFormatError(message: "a length of \(v) beyond the payload's end at byte \(at)") }
        return Int(v)
    }

    mutating func int() throws(CacheFormatError) -> Int {
        let z = try unsigned()
        return Int(Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
    }

    mutating func double() throws(CacheFormatError) -> Double {
        guard bytes.count - at >= 8 else { throw CacheFormatError(message: "the payload ends early") }
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        at += 8
        return Double(bitPattern: bits)
    }

    mutating func bool() throws(CacheFormatError) -> Bool {
        switch try byte() {
        case 0: false
        case 1: true
        case let b: throw CacheFormatError(message: "a flag of \(b) at byte \(at - 1)")
        }
    }

    mutating func date() throws(CacheFormatError) -> PlanDate { PlanDate(daysSinceEpoch: try int()) }

    mutating func string() throws(CacheFormatError) -> String {
        let n = try unsigned()
        guard n < UInt64(table.count) else { throw CacheFormatError(message: "string \(n) of \(table.count) at byte \(at)") }
        return table[Int(n)]
    }

    mutating func optionalString() throws(CacheFormatError) -> String? {
        let n = try unsigned()
        guard n > 0 else { return nil }
        guard n <= UInt64(table.count) else { throw CacheFormatError(message: "string \(n - 1) of \(table.count) at byte \(at)") }
        return table[Int(n - 1)]
    }

    mutating func strings() throws(CacheFormatError) -> [String] { try list { r throws(CacheFormatError) in try r.string() } }

    mutating func list<T>(_ element: (inout CacheReader) throws(CacheFormatError) -> T) throws(CacheFormatError) -> [T] {
        let n = try length()
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try element(&self)) }
        return out
    }

    mutating func choice<E: RawRepresentable>(_ type: E.Type) throws(CacheFormatError) -> E where E.RawValue == String {
        let s = try string()
        guard let e = E(rawValue: s) else { throw CacheFormatError(message: "`\(s)` is no \(E.self)") }
        return e
    }

    mutating func cadence() throws(CacheFormatError) -> Cadence {
        let count = try int(), unit = try choice(Cadence.Unit.self)
        guard let c = Cadence(count: count, unit: unit) else { throw CacheFormatError(message: "a cadence of \(count) \(unit)") }
        return c
    }

    mutating func range() throws(CacheFormatError) -> DateRange { DateRange(start: try date(), end: try date()) }
}

// MARK: - The plan's types

/// A plan type as the cache writes and reads it; fields in declaration order.
protocol CacheCodable {
    func write(to w: inout CacheWriter)
    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Self
}

extension CacheWriter {
    mutating func list<T: CacheCodable>(_ items: [T]) {
        unsigned(UInt64(items.count))
        for i in items { i.write(to: &self) }
    }
    mutating func cadence(_ c: Cadence) { int(c.count); string(c.unit.rawValue) }
    mutating func range(_ d: DateRange) { date(d.start); date(d.end) }
}

extension CacheReader {
    mutating func list<T: CacheCodable>(of: T.Type) throws(CacheFormatError) -> [T] {
        try list { r throws(CacheFormatError) in try T.read(from: &r) }
    }
}

extension Plan: CacheCodable {
    func write(to w: inout CacheWriter) {
        w.int(format)
        programme.write(to: &w)
        w.int(version)
        w.list(revisions); w.list(leefgebieden); w.list(areas); w.list(organisations); w.list(funding); w.list(themes)
    }

    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Plan {
        Plan(format: try r.int(), programme: try Programme.read(from: &r), version: try r.int(), revisions: try r.list(of: Revision.self),
             leefgebieden: try r.list(of: Leefgebied.self), areas: try r.list(of: Area.self), organisations: try r.list(of: Organisation.self),
             funding: try r.list(of: FundingLine.self), themes: try r.list(of: Theme.self))
    }
}

extension Programme: CacheCodable {
    func write(to w: inout CacheWriter) { w.string(id); w.string(name); w.string(ambition); w.range(horizon) }
    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Programme {
        Programme(id: try r.string(), name: try r.string(), ambition: try r.string(), horizon: try r.range())
    }
}

extension Revision: CacheCodable {
    func write(to w: inout CacheWriter) { w.int(version); w.date(date); w.string(reason); w.list(changes) }
    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Revision {
        Revision(version: try r.int(), date: try r.date(), reason: try r.string(), changes: try r.list(of: Change.self))
    }
}

extension Revision.Change: CacheCodable {
    func write(to w: inout CacheWriter) { w.string(item); w.string(field.rawValue); w.string(from); w.string(to) }
    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Revision.Change {
        Revision.Change(item: try r.string(), field: try r.choice(Field.self), from: try r.string(), to: try r.string())
    }
}

extension Leefgebied: CacheCodable {
    func write(to w: inout CacheWriter) { w.string(id); w.string(name) }
    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Leefgebied { Leefgebied(id: try r.string(), name: try r.string()) }
}

extension Area: CacheCodable {
    func write(to w: inout CacheWriter) { w.string(id); w.string(name); w.bool(priority) }
    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Area {
        Area(id: try r.string(), name: try r.string(), priority: try r.bool())
    }
}

extension Organisation: CacheCodable {
    func write(to w: inout CacheWriter) { w.string(id); w.string(name) }
    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Organisation { Organisation(id: try r.string(), name: try r.string()) }
}

extension FundingLine: CacheCodable {
    func write(to w: inout CacheWriter) {
        w.string(id); w.string(name); w.string(source)
        w.bool(amountEUR != nil)
        if let amountEUR { w.int(amountEUR) }
        w.string(per.rawValue); w.range(period)
        w.bool(securedUntil != nil)
        if let securedUntil { w.date(securedUntil) }
        w.optionalString(note)
    }

    static func read(from r: inout CacheReader) throws(CacheFormatError) -> FundingLine {
        let id = try r.string(), name = try r.string(), source = try r.string()
        let amount = try r.bool() ? try r.int() : nil
        let per = try r.choice(Recurrence.self), period = try r.range()
        let secured = try r.bool() ? try r.date() : nil
        return FundingLine(id: id, name: name, source: source, amountEUR: amount, per: per, period: period, securedUntil: secured,
                           note: try r.optionalString())
    }
}

extension Theme: CacheCodable {
    func write(to w: inout CacheWriter) { w.string(id); w.string(name); w.strings(leefgebieden); w.cadence(heartbeat); w.list(goals) }
    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Theme {
        Theme(id: try r.string(), name: try r.string(), leefgebieden: try r.strings(), heartbeat: try r.cadence(), goals: try r.list(of: Goal.self))
    }
}

extension Goal: CacheCodable {
    func write(to w: inout CacheWriter) { w.string(id); w.string(name); w.list(interventions); w.list(indicators) }
    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Goal {
        Goal(id: try r.string(), name: try r.string(), interventions: try r.list(of: Intervention.self), indicators: try r.list(of: Indicator.self))
    }
}

extension Intervention: CacheCodable {
    func write(to w: inout CacheWriter) {
        w.string(id); w.string(name); w.optionalString(description); w.string(owner)
        w.strings(partners); w.strings(areas); w.strings(funding); w.list(milestones)
    }

    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Intervention {
        Intervention(id: try r.string(), name: try r.string(), description: try r.optionalString(), owner: try r.string(),
                     partners: try r.strings(), areas: try r.strings(), funding: try r.strings(), milestones: try r.list(of: Milestone.self))
    }
}

extension Milestone: CacheCodable {
    func write(to w: inout CacheWriter) {
        w.string(id); w.string(name); w.string(kind.rawValue); w.double(baseline); w.double(target); w.string(unit)
        w.date(start); w.date(due); w.list(checkpoints); w.cadence(cadence); w.strings(dependsOn); w.strings(areas)
        w.optionalString(secures); w.optionalString(note)
    }

    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Milestone {
        Milestone(id: try r.string(), name: try r.string(), kind: try r.choice(Kind.self), baseline: try r.double(), target: try r.double(),
                  unit: try r.string(), start: try r.date(), due: try r.date(), checkpoints: try r.list(of: Checkpoint.self),
                  cadence: try r.cadence(), dependsOn: try r.strings(), areas: try r.strings(),
                  secures: try r.optionalString(), note: try r.optionalString())
    }
}

extension Checkpoint: CacheCodable {
    func write(to w: inout CacheWriter) { w.date(date); w.double(value) }
    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Checkpoint { Checkpoint(date: try r.date(), value: try r.double()) }
}

extension Indicator: CacheCodable {
    func write(to w: inout CacheWriter) {
        w.string(id); w.string(name); w.string(unit); w.string(direction.rawValue); w.double(baseline); w.int(baselineYear)
        // Sorted, so the same plan always gives the same bytes.
        let refs = references.sorted { $0.key < $1.key }
        w.unsigned(UInt64(refs.count))
        for (k, v) in refs { w.string(k); w.double(v) }
        w.double(target); w.int(targetYear); w.string(targetBasis.rawValue); w.cadence(cadence); w.string(source); w.optionalString(sourceURL)
    }

    static func read(from r: inout CacheReader) throws(CacheFormatError) -> Indicator {
        let id = try r.string(), name = try r.string(), unit = try r.string(), direction = try r.choice(Direction.self)
        let baseline = try r.double(), baselineYear = try r.int()
        var references: [String: Double] = [:]
        for _ in 0..<(try r.length()) { references[try r.string()] = try r.double() }
        return Indicator(id: id, name: name, unit: unit, direction: direction, baseline: baseline, baselineYear: baselineYear,
                         references: references, target: try r.double(), targetYear: try r.int(), targetBasis: try r.choice(TargetBasis.self),
                         cadence: try r.cadence(), source: try r.string(), sourceURL: try r.optionalString())
    }
}
