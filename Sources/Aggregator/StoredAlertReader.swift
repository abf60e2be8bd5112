import Plan
import Status

/// Reads the open-alert documents the store keeps (`open_alerts`, written by
/// `StreamDocuments.encode(_: Alert)`) without `JSONDecoder`, which took about 2 s for the
/// 100,000 open alerts of a large plan at every restart.
///
/// It reads exactly the JSON `JSONText` writes for an ``Alert`` (any key order, any
/// whitespace, every escape); a document it does not recognise in full (an unknown key, a
/// missing required member, a value of another type) gives nil, and the caller decodes
/// that one with `JSONDecoder` as before, so what is restored never depends on this fast
/// path (`StoredAlertReaderTests` compares the two).
enum StoredAlertReader {
    struct Unreadable: Error {}

    /// The alert in `json`, or nil when this reader does not recognise it in full.
    static func alert(_ json: String) -> Alert? {
        var json = json
        return json.withUTF8 { bytes in
            var c = JSONCursor(bytes)
            guard let a = try? c.alert(), c.atEnd else { return nil }
            return a
        }
    }
}

/// A position in JSON text, read value by value.
struct JSONCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var at = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var atEnd: Bool { mutating get { space(); return at == bytes.count } }

    mutating func space() {
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
    }

    mutating func take(_ c: UInt8) throws(StoredAlertReader.Unreadable) {
        space()
        guard at < bytes.count, bytes[at] == c else { throw StoredAlertReader.Unreadable() }
        at += 1
    }

    /// Consumes `null` when it comes next.
    mutating func null() -> Bool {
        space()
        guard bytes.count - at >= 4, bytes[at] == UInt8(ascii: "n"), bytes[at + 1] == UInt8(ascii: "u"),
              bytes[at + 2] == UInt8(ascii: "l"), bytes[at + 3] == UInt8(ascii: "l") else { return false }
        at += 4
        return true
    }

    /// The members of an object, each handed over by key.
    mutating func object(_ member: (inout JSONCursor, String) throws(StoredAlertReader.Unreadable) -> Void) throws(StoredAlertReader.Unreadable) {
        try take(UInt8(ascii: "{"))
        space()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return }
        repeat {
            let key = try string()
            try take(UInt8(ascii: ":"))
            try member(&self, key)
            space()
            guard at < bytes.count else { throw StoredAlertReader.Unreadable() }
            at += 1
            if bytes[at - 1] == UInt8(ascii: "}") { return }
            guard bytes[at - 1] == UInt8(ascii: ",") else { throw StoredAlertReader.Unreadable() }
        } while true
    }

    mutating func strings() throws(StoredAlertReader.Unreadable) -> [String] {
        try take(UInt8(ascii: "["))
        var out: [String] = []
        space()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return out }
        repeat {
            out.append(try string())
            space()
            guard at < bytes.count else { throw StoredAlertReader.Unreadable() }
            at += 1
            if bytes[at - 1] == UInt8(ascii: "]") { return out }
            guard bytes[at - 1] == UInt8(ascii: ",") else { throw StoredAlertReader.Unreadable() }
        } while true
    }

    mutating func string() throws(StoredAlertReader.Unreadable) -> String {
        try take(UInt8(ascii: "\""))
        let start = at
        while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\"), bytes[at] >= 0x20 { at += 1 }
        guard at < bytes.count else { throw StoredAlertReader.Unreadable() }
        if bytes[at] == UInt8(ascii: "\"") {
            at += 1
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<(at - 1)]), as: UTF8.self)
        }
        var out = Array(bytes[start..<at])
        while at < bytes.count {
            let b = bytes[at]
            at += 1
            switch b {
            case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"): try escape(into: &out)
            case 0..<0x20: throw StoredAlertReader.Unreadable()
            default: out.append(b)
            }
        }
        throw StoredAlertReader.Unreadable()
    }

    private mutating func escape(into out: inout [UInt8]) throws(StoredAlertReader.Unreadable) {
        guard at < bytes.count else { throw StoredAlertReader.Unreadable() }
        let e = bytes[at]
        at += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                try take(UInt8(ascii: "\\")); try take(UInt8(ascii: "u"))
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw StoredAlertReader.Unreadable() }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let u = Unicode.Scalar(scalar) else { throw StoredAlertReader.Unreadable() }
            out.append(contentsOf: String(Character(u)).utf8)
        default: throw StoredAlertReader.Unreadable()
        }
    }

    private mutating func hex4() throws(StoredAlertReader.Unreadable) -> UInt32 {
        guard bytes.count - at >= 4 else { throw StoredAlertReader.Unreadable() }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[at]
            at += 1
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = v << 4 | UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = v << 4 | UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = v << 4 | UInt32(b - UInt8(ascii: "A") + 10)
            default: throw StoredAlertReader.Unreadable()
            }
        }
        return v
    }

    /// A number's text, as JSON writes numbers.
    private mutating func numberText() throws(StoredAlertReader.Unreadable) -> Substring {
        space()
        let start = at
        while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) || bytes[at] == UInt8(ascii: "-")
                || (bytes[at] == UInt8(ascii: "+") && at > start && (bytes[at - 1] | 0x20) == UInt8(ascii: "e")) || bytes[at] == UInt8(ascii: ".") || bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            at += 1
        }
        guard at > start else { throw StoredAlertReader.Unreadable() }
        return Substring(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
    }

    mutating func double() throws(StoredAlertReader.Unreadable) -> Double? {
        if null() { return nil }
        guard let d = Double(try numberText()) else { throw StoredAlertReader.Unreadable() }
        return d
    }

    mutating func int() throws(StoredAlertReader.Unreadable) -> Int? {
        if null() { return nil }
        guard let i = Int(try numberText()) else { throw StoredAlertReader.Unreadable() }
        return i
    }

    mutating func optionalString() throws(StoredAlertReader.Unreadable) -> String? { null() ? nil : try string() }

    mutating func date() throws(StoredAlertReader.Unreadable) -> PlanDate? {
        guard let s = try optionalString() else { return nil }
        guard let d = PlanDate(iso: s) else { throw StoredAlertReader.Unreadable() }
        return d
    }

    mutating func choice<E: RawRepresentable>(_: E.Type) throws(StoredAlertReader.Unreadable) -> E where E.RawValue == String {
        guard let e = E(rawValue: try string()) else { throw StoredAlertReader.Unreadable() }
        return e
    }
}

// MARK: - The alert's members

extension JSONCursor {
    mutating func alert() throws(StoredAlertReader.Unreadable) -> Alert {
        var key: String?, rule: String?, subject: String?, theme: String?, severity: Severity?, state: AlertState?, since: PlanDate?
        var ack: Acknowledgement?, evidence: Evidence?, owner: String?, areas: [String]?, ruleVersion: Int?, resolvedBy: Resolution?
        try object { c, k throws(StoredAlertReader.Unreadable) in
            switch k {
            case "key": key = try c.string()
            case "rule": rule = try c.string()
            case "subject": subject = try c.string()
            case "theme": theme = try c.optionalString()
            case "severity": severity = try c.choice(Severity.self)
            case "state": state = try c.choice(AlertState.self)
            case "since": since = try c.date()
            case "acknowledgement": ack = c.null() ? nil : try c.acknowledgement()
            case "evidence": evidence = try c.evidence()
            case "owner": owner = try c.optionalString()
            case "areas": areas = try c.strings()
            case "ruleVersion": ruleVersion = try c.int()
            case "resolvedBy": resolvedBy = c.null() ? nil : try c.resolution()
            default: throw StoredAlertReader.Unreadable()
            }
        }
        guard let key, let rule, let subject, let severity, let state, let since, let evidence, let areas, let ruleVersion else {
            throw StoredAlertReader.Unreadable()
        }
        return Alert(key: key, rule: rule, subject: subject, theme: theme, severity: severity, state: state, since: since,
                     acknowledgement: ack, evidence: evidence, owner: owner, areas: areas, ruleVersion: ruleVersion, resolvedBy: resolvedBy)
    }

    mutating func evidence() throws(StoredAlertReader.Unreadable) -> Evidence {
        var e = Evidence(summary: "")
        var summary: String?
        try object { c, k throws(StoredAlertReader.Unreadable) in
            switch k {
            case "summary": summary = try c.string()
            case "lastValue": e.lastValue = try c.double()
            case "lastDate": e.lastDate = try c.date()
            case "reportedBy": e.reportedBy = try c.optionalString()
            case "expected": e.expected = try c.double()
            case "deviation": e.deviation = try c.double()
            case "ageDays": e.ageDays = try c.int()
            case "forecast": e.forecast = try c.date()
            default: throw StoredAlertReader.Unreadable()
            }
        }
        guard let summary else { throw StoredAlertReader.Unreadable() }
        e.summary = summary
        return e
    }

    mutating func acknowledgement() throws(StoredAlertReader.Unreadable) -> Acknowledgement {
        var by: String?, reason: String?, until: PlanDate?
        try object { c, k throws(StoredAlertReader.Unreadable) in
            switch k {
            case "by": by = try c.string()
            case "reason": reason = try c.string()
            case "until": until = try c.date()
            default: throw StoredAlertReader.Unreadable()
            }
        }
        guard let by, let reason else { throw StoredAlertReader.Unreadable() }
        return Acknowledgement(by: by, reason: reason, until: until)
    }

    mutating func resolution() throws(StoredAlertReader.Unreadable) -> Resolution {
        var summary: String?, on: PlanDate?, value: Double?, asOf: PlanDate?, reportedBy: String?
        try object { c, k throws(StoredAlertReader.Unreadable) in
            switch k {
            case "summary": summary = try c.string()
            case "on": on = try c.date()
            case "value": value = try c.double()
            case "asOf": asOf = try c.date()
            case "reportedBy": reportedBy = try c.optionalString()
            default: throw StoredAlertReader.Unreadable()
            }
        }
        guard let summary, let on else { throw StoredAlertReader.Unreadable() }
        return Resolution(summary: summary, on: on, value: value, asOf: asOf, reportedBy: reportedBy)
    }
}
