import Foundation
import Plan
import Status

/// Writes the stream documents as JSON directly, without `JSONEncoder`.
///
/// Every status change and alert transition becomes a JSON document on the ingest
/// path; with `JSONEncoder` that was a quarter of the aggregator's start-up with a large
/// plan and a large share of each report's cost. The output is what `JSONEncoder` with
/// `.sortedKeys` writes for the same value (keys sorted, `nil` left out, `/` escaped,
/// whole doubles without a fraction); `StreamDocumentTests` checks that byte for byte.
struct JSONText {
    private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = []

    init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    // MARK: - Structure

    mutating func object(_ body: (inout JSONText) -> Void) {
        value { w in
            w.bytes.append(UInt8(ascii: "{"))
            w.needsComma.append(false)
            body(&w)
            w.needsComma.removeLast()
            w.bytes.append(UInt8(ascii: "}"))
        }
    }

    mutating func array<S: Sequence>(_ elements: S, _ each: (inout JSONText, S.Element) -> Void) {
        value { w in
            w.bytes.append(UInt8(ascii: "["))
            w.needsComma.append(false)
            for e in elements { each(&w, e) }
            w.needsComma.removeLast()
            w.bytes.append(UInt8(ascii: "]"))
        }
    }

    /// A key of the object being written; the caller writes keys in sorted order.
    mutating func key(_ k: String) {
        if needsComma.last == true { bytes.append(UInt8(ascii: ",")) }
        quoted(k)
        bytes.append(UInt8(ascii: ":"))
        // The value that follows must not write another comma.
        needsComma[needsComma.count - 1] = false
        pendingKey = true
    }

    private var pendingKey = false

    private mutating func value(_ write: (inout JSONText) -> Void) {
        if !pendingKey, needsComma.last == true { bytes.append(UInt8(ascii: ",")) }
        pendingKey = false
        write(&self)
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = true }
    }

    // MARK: - Values

    mutating func string(_ s: String) { value { $0.quoted(s) } }

    mutating func number(_ d: Double) {
        // As JSONEncoder: the shortest form that reads back the same, without a trailing ".0".
        value { w in
            guard d.isFinite else { w.bytes.append(contentsOf: "null".utf8); return }
            let text = d.description
            w.bytes.append(contentsOf: text.hasSuffix(".0") ? text.utf8.dropLast(2) : text.utf8[...])
        }
    }

    /// A value already written as JSON (by this writer), inserted as is.
    mutating func raw(_ json: String) { value { $0.bytes.append(contentsOf: json.utf8) } }

    mutating func integer<I: BinaryInteger>(_ i: I) { value { $0.bytes.append(contentsOf: String(i).utf8) } }

    mutating func bool(_ b: Bool) { value { $0.bytes.append(contentsOf: (b ? "true" : "false").utf8) } }

    // Optional members: left out when nil, as the synthesised `Encodable` does.
    mutating func member(_ k: String, _ s: String?) { if let s { key(k); string(s) } }
    mutating func member(_ k: String, _ d: Double?) { if let d { key(k); number(d) } }
    mutating func member(_ k: String, _ i: Int?) { if let i { key(k); integer(i) } }
    mutating func member(_ k: String, _ date: PlanDate?) { if let date { key(k); string(date.iso) } }

    private mutating func quoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings need no escape: copied whole, not byte by byte.
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "/") }) {
            bytes.append(contentsOf: s.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "/"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "/")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

// MARK: - The documents

extension JSONText {
    mutating func write(_ e: Evidence) {
        object { w in
            w.member("ageDays", e.ageDays)
            w.member("deviation", e.deviation)
            w.member("expected", e.expected)
            w.member("forecast", e.forecast)
            w.member("lastDate", e.lastDate)
            w.member("lastValue", e.lastValue)
            w.member("reportedBy", e.reportedBy)
            w.key("summary"); w.string(e.summary)
        }
    }

    mutating func write(_ a: Alert) {
        object { w in
            if let ack = a.acknowledgement {
                w.key("acknowledgement")
                w.object { w in
                    w.key("by"); w.string(ack.by)
                    w.key("reason"); w.string(ack.reason)
                    w.member("until", ack.until)
                }
            }
            w.key("areas"); w.array(a.areas) { w, s in w.string(s) }
            w.key("evidence"); w.write(a.evidence)
            w.key("key"); w.string(a.key)
            w.member("owner", a.owner)
            if let r = a.resolvedBy {
                w.key("resolvedBy")
                w.object { w in
                    w.member("asOf", r.asOf)
                    w.key("on"); w.string(r.on.iso)
                    w.member("reportedBy", r.reportedBy)
                    w.key("summary"); w.string(r.summary)
                    w.member("value", r.value)
                }
            }
            w.key("rule"); w.string(a.rule)
            w.key("ruleVersion"); w.integer(a.ruleVersion)
            w.key("severity"); w.string(a.severity.rawValue)
            w.key("since"); w.string(a.since.iso)
            w.key("state"); w.string(a.state.rawValue)
            w.key("subject"); w.string(a.subject)
            w.member("theme", a.theme)
        }
    }

    mutating func write(_ s: ItemStatus) {
        object { w in
            w.key("evidence"); w.write(s.evidence)
            w.key("item"); w.string(s.item)
            w.member("progress", s.progress)
            w.key("state"); w.string(s.state.rawValue)
        }
    }

    mutating func write(_ d: StreamDocuments.StatusChange) {
        object { w in
            w.key("date"); w.string(d.date.iso)
            if let e = d.evidence { w.key("evidence"); w.write(e) }
            w.member("from", d.from?.rawValue)
            w.key("item"); w.string(d.item)
            if let p = d.previous { w.key("previous"); w.integer(p) }
            w.member("progress", d.progress)
            w.key("sequence"); w.integer(d.sequence)
            w.key("to"); w.string(d.to.rawValue)
            w.member("topic", d.topic)
            w.key("why"); w.string(d.why)
        }
    }

    mutating func write(_ d: StreamDocuments.AlertTransitionDocument, alertJSON: String? = nil) {
        object { w in
            w.key("alert")
            if let alertJSON { w.raw(alertJSON) } else { w.write(d.alert) }
            w.key("date"); w.string(d.date.iso)
            w.member("from", d.from?.rawValue)
            w.key("key"); w.string(d.key)
            if let p = d.previous { w.key("previous"); w.integer(p) }
            w.key("sequence"); w.integer(d.sequence)
            w.key("to"); w.string(d.to.rawValue)
            w.member("topic", d.topic)
        }
    }

    mutating func write(_ s: StreamDocuments.Snapshot) {
        object { w in
            w.key("alerts"); w.array(s.alerts) { w, a in w.write(a) }
            w.key("date"); w.string(s.date.iso)
            w.key("items"); w.array(s.items) { w, i in w.write(i) }
            w.key("planVersion"); w.integer(s.planVersion)
            w.key("rollups")
            w.array(s.rollups) { w, r in
                w.object { w in
                    w.key("counts")
                    w.object { w in for (k, v) in r.counts.sorted(by: { $0.key < $1.key }) { w.key(k); w.integer(v) } }
                    w.key("node"); w.string(r.node)
                    w.key("state"); w.string(r.state.rawValue)
                }
            }
            w.key("sequence"); w.integer(s.sequence)
            w.key("silentThemes"); w.array(s.silentThemes) { w, t in w.string(t) }
            if let topics = s.topics { w.key("topics"); w.write(topics) }
        }
    }

    mutating func write(_ topics: [String: UInt64]) {
        object { w in for (k, v) in topics.sorted(by: { $0.key < $1.key }) { w.key(k); w.integer(v) } }
    }

    mutating func write(_ h: StreamDocuments.Heartbeat) {
        object { w in
            w.key("sequence"); w.integer(h.sequence)
            w.key("topics"); w.write(h.topics)
        }
    }
}

extension StreamDocuments {
    public static func encode(_ d: StatusChange) -> String { var w = JSONText(); w.write(d); return w.string }
    public static func encode(_ d: AlertTransitionDocument) -> String { var w = JSONText(); w.write(d); return w.string }
    public static func encode(_ a: Alert) -> String { var w = JSONText(); w.write(a); return w.string }
    /// A transition whose alert is already encoded (the keeper stores that text as the open alert too).
    public static func encode(_ d: AlertTransitionDocument, alertJSON: String) -> String { var w = JSONText(); w.write(d, alertJSON: alertJSON); return w.string }
    public static func encode(_ h: Heartbeat) -> String { var w = JSONText(); w.write(h); return w.string }
    public static func encode(_ s: Snapshot) -> String {
        var w = JSONText(capacity: 256 * (s.items.count + s.alerts.count + s.rollups.count + 4))
        w.write(s)
        return w.string
    }
}
