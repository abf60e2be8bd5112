import Foundation
import Plan
import Testing
@testable import Wire

let now: Int64 = 1_669_723_200_000  // 2022-11-29T12:00:00Z, the golden vectors' sent_at
let reported: Int64 = 1_669_719_600_000
let codec = WireCodec()

/// The golden vectors, read from docs/protocol.md itself so the spec and the code cannot drift.
func goldenVectors() throws -> [String: (envelope: [UInt8], payload: [UInt8])] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("docs/protocol.md"), encoding: .utf8)
    var out: [String: (envelope: [UInt8], payload: [UInt8])] = [:]
    var name: String?
    var env: [UInt8] = []
    for line in text.split(separator: "\n") {
        if line.hasPrefix("golden: ") { name = String(line.dropFirst(8)) }
        if line.hasPrefix("envelope: ") { env = bytes(fromHex: String(line.dropFirst(10))) }
        if line.hasPrefix("payload: "), let n = name {
            let hex = String(line.dropFirst(9))
            out[n] = (env, hex == "(empty)" ? [] : bytes(fromHex: hex))
        }
    }
    return out
}

func bytes(fromHex hex: String) -> [UInt8] {
    let chars = Array(hex.filter { !$0.isWhitespace })
    return stride(from: 0, to: chars.count, by: 2).map { UInt8(String(chars[$0...$0 + 1]), radix: 16)! }
}

let goldenExpected: [String: WireMessage] = [
    "hello": WireMessage(.hello(Hello(theme: "safety", planVersion: 1, service: "koers-theme/0.1.0", lastSequence: 41)), sequence: 0, sentAt: now),
    "heartbeat": WireMessage(.heartbeat(Heartbeat(theme: "safety", lastSequence: 42, outboxDepth: 3)), sequence: 0, sentAt: now),
    "milestone-progress": WireMessage(.milestoneProgress(MilestoneProgress(
        theme: "safety", item: "vc-intentieovereenkomst", value: 1, asOf: PlanDate(iso: "2022-11-28")!, reportedAt: reported,
        note: "Getekend door alle partners", reporter: "a.jansen")), sequence: 42, sentAt: now),
    "indicator-measurement": WireMessage(.indicatorMeasurement(IndicatorMeasurement(
        theme: "health", item: "gelukkig", value: 82, periodStart: PlanDate(iso: "2013-01-01")!, periodEnd: PlanDate(iso: "2022-12-31")!,
        reportedAt: reported)), sequence: 7, sentAt: now),
    "ack": WireMessage(.ack(Ack(settledThrough: 42)), sequence: 0, sentAt: now),
    "nack": WireMessage(.nack(Nack(refusedSequence: 43, reason: .unknownItem, detail: "`saffierflat-inhuzing` is not in the plan")), sequence: 0, sentAt: now),
    "welcome": WireMessage(.welcome(Welcome(settledThrough: 41, planVersion: 1)), sequence: 0, sentAt: now),
    "snapshot-request": WireMessage(.snapshotRequest(theme: "work"), sequence: 9, sentAt: now),
    "snapshot-reply": WireMessage(.snapshotReply(document: #"{"alerts":[],"date":"2022-11-29","items":[],"planVersion":1,"rollups":[],"sequence":1207,"silentThemes":[],"topics":{"status.work":1207}}"#), sequence: 1207, sentAt: now),
    "snapshot-error": WireMessage(.snapshotError(reason: .unknownTheme, detail: "filter_theme `wrk` is not a theme of the plan; did you mean `work`?"), sequence: 9, sentAt: now),
    "alert-ack": WireMessage(.alertAck(document: #"{"by":"bureau","key":"milestone-lagging:bvs-werksferen","reason":"werkgevers benaderd","until":"2023-07-01"}"#), sequence: 10, sentAt: now),
    "alert-ack-reply": WireMessage(.alertAckReply(document: #"{"ok":true}"#), sequence: 10, sentAt: now),
    "alert-transition": WireMessage(.alertTransition(document: #"{"alert":{"areas":["gms"],"evidence":{"summary":"4 of 10 werksferen on 2022-11-01; 6 expected by today"},"key":"milestone-lagging:bvs-werksferen","owner":"vereniging-bvs","rule":"milestone-lagging","ruleVersion":1,"severity":"warning","since":"2022-11-29","state":"firing","subject":"bvs-werksferen","theme":"work"},"date":"2022-11-29","from":"pending","key":"milestone-lagging:bvs-werksferen","previous":1190,"sequence":1208,"to":"firing","topic":"alert.work.warning"}"#), sequence: 1208, sentAt: now),
    "status-change": WireMessage(.statusChange(document: #"{"date":"2022-11-29","from":"on-track","item":"bvs-werksferen","previous":1201,"progress":0.4,"sequence":1209,"to":"lagging","topic":"status.work","why":"4 of 10 werksferen on 2022-11-01; 6 expected by today"}"#), sequence: 1209, sentAt: now),
    "stream-heartbeat": WireMessage(.streamHeartbeat(document: #"{"sequence":1209,"topics":{"alert.work.warning":1208,"status.work":1209}}"#), sequence: 1209, sentAt: now),
]

@Suite("Wire codec")
struct WireCodecTests {
    @Test("every message type has a golden vector in the spec")
    func goldenCoverage() throws {
        let golden = try goldenVectors()
        #expect(Set(golden.keys) == Set(goldenExpected.keys))
        #expect(Set(goldenExpected.values.map(\.envelope.type)) == Set(MessageType.allCases))
    }

    @Test("golden vectors decode to the expected message and re-encode byte for byte", arguments: goldenExpected.keys.sorted())
    func golden(name: String) throws {
        let vector = try #require(try goldenVectors()[name])
        let expected = try #require(goldenExpected[name])
        let decoded = try codec.decode(envelope: vector.envelope, payload: vector.payload, now: now)
        #expect(decoded == expected)
        let encoded = codec.encode(expected)
        #expect(encoded.envelope == vector.envelope)
        #expect(encoded.payload == vector.payload)
    }

    @Test("round trips", arguments: goldenExpected.keys.sorted())
    func roundTrip(name: String) throws {
        var message = try #require(goldenExpected[name])
        message.envelope.sentAt = now - 1234
        let (e, p) = codec.encode(message)
        #expect(try codec.decode(envelope: e, payload: p, now: now) == message)
    }

    @Test("a document of 65,535 bytes or more is written in the long form and reads back", arguments: [65_534, 65_535, 3 << 20])
    func longDocument(size: Int) throws {
        let doc = "{\"pad\":\"" + String(repeating: "x", count: size - 10) + "\"}"
        let (e, p) = codec.encode(WireMessage(.snapshotReply(document: doc), sequence: 1, sentAt: now))
        #expect(Array(p[1...2]) == (size >= 0xFFFF ? [0xFF, 0xFF] : [UInt8(size & 0xFF), UInt8(size >> 8)]))
        #expect(p.count == size + (size >= 0xFFFF ? 7 : 3))
        #expect(try codec.decode(envelope: e, payload: p, now: now).payload == .snapshotReply(document: doc))
    }

    @Test("fields may come in any order and extensions are skipped")
    func orderAndExtensions() throws {
        var w = FieldWriter()
        w.i64(.reportedAt, reported); w.date(.asOf, PlanDate(iso: "2022-11-01")!); w.f64(.value, 3)
        w.bytes += [200, 3, 0, 1, 2, 3]  // extension tag 200, skipped
        w.id(.item, "bvs-werksferen"); w.id(.theme, "work")
        let env = Envelope(type: .milestoneProgress, sequence: 5, sentAt: now).bytes
        let m = try codec.decode(envelope: env, payload: w.bytes, now: now)
        #expect(m.payload == .milestoneProgress(MilestoneProgress(theme: "work", item: "bvs-werksferen", value: 3,
                                                                  asOf: PlanDate(iso: "2022-11-01")!, reportedAt: reported)))
    }
}

// MARK: - Malformed input

/// A valid milestone report's fields, to break one at a time.
func progressFields(
    theme: [UInt8] = Array("work".utf8), item: [UInt8] = Array("bvs-werksferen".utf8),
    value: Double = 3, asOf: String = "2022-11-01", reportedAt: Int64 = reported,
    omit: Set<UInt8> = [], extra: [UInt8] = []
) -> [UInt8] {
    var out: [UInt8] = []
    func field(_ tag: UInt8, _ v: [UInt8]) {
        guard !omit.contains(tag) else { return }
        out += [tag, UInt8(v.count & 0xFF), UInt8(v.count >> 8)] + v
    }
    field(1, theme)
    field(2, item)
    field(3, withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init))
    field(4, Array(asOf.utf8))
    field(7, withUnsafeBytes(of: reportedAt.littleEndian, Array.init))
    return out + extra
}

func env(_ type: UInt8 = 0x10, seq: UInt64 = 1, sentAt: Int64 = now, magic: [UInt8] = [0x4B, 0x52], version: UInt8 = 1, flags: UInt16 = 0) -> [UInt8] {
    var e = magic + [version, type] + withUnsafeBytes(of: flags.littleEndian, Array.init) + [0, 0]
    e += withUnsafeBytes(of: seq.littleEndian, Array.init)
    e += withUnsafeBytes(of: sentAt.littleEndian, Array.init)
    return e
}

func f64(_ v: Double) -> [UInt8] { withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }

struct Malformed: Sendable, CustomTestStringConvertible {
    let name: String
    let envelope: [UInt8]
    let payload: [UInt8]
    let code: ReasonCode
    var testDescription: String { "\(name) → \(code)" }
}

let malformed: [Malformed] = [
    // Envelope
    Malformed(name: "empty envelope", envelope: [], payload: progressFields(), code: .envelopeSize),
    Malformed(name: "truncated envelope", envelope: Array(env().prefix(23)), payload: progressFields(), code: .envelopeSize),
    Malformed(name: "envelope one byte long", envelope: env() + [0], payload: progressFields(), code: .envelopeSize),
    Malformed(name: "bad magic", envelope: env(magic: [0x4B, 0x53]), payload: progressFields(), code: .badMagic),
    Malformed(name: "magic lower case", envelope: env(magic: Array("kr".utf8)), payload: progressFields(), code: .badMagic),
    Malformed(name: "version 0", envelope: env(version: 0), payload: progressFields(), code: .unsupportedVersion),
    Malformed(name: "version 2", envelope: env(version: 2), payload: progressFields(), code: .unsupportedVersion),
    Malformed(name: "unknown type 0x00", envelope: env(0x00), payload: [], code: .unknownType),
    Malformed(name: "unknown type 0x12", envelope: env(0x12), payload: progressFields(), code: .unknownType),
    Malformed(name: "unknown type 0xff", envelope: env(0xFF), payload: [], code: .unknownType),
    Malformed(name: "flags set", envelope: env(flags: 1), payload: progressFields(), code: .reservedBits),
    Malformed(name: "report with sequence 0", envelope: env(seq: 0), payload: progressFields(), code: .badSequence),
    Malformed(name: "heartbeat with a sequence", envelope: env(0x02, seq: 5), payload: [], code: .badSequence),
    Malformed(name: "sent_at far in the future", envelope: env(sentAt: now + 86_400_000), payload: progressFields(), code: .futureTimestamp),
    Malformed(name: "negative sent_at", envelope: env(sentAt: -1), payload: progressFields(), code: .outOfRange),
    // Payload structure
    Malformed(name: "oversized payload", envelope: env(), payload: progressFields(extra: [200, 0x10, 0x10] + [UInt8](repeating: 0, count: 0x1010)), code: .payloadTooLarge),
    Malformed(name: "stray byte after the fields", envelope: env(), payload: progressFields(extra: [1]), code: .truncatedField),
    Malformed(name: "field header cut short", envelope: env(), payload: progressFields(extra: [8, 5]), code: .truncatedField),
    Malformed(name: "field longer than the payload", envelope: env(), payload: progressFields(extra: [8, 50, 0, 65]), code: .truncatedField),
    Malformed(name: "long-length escape cut short", envelope: env(), payload: progressFields(extra: [8, 0xFF, 0xFF, 1, 0]), code: .truncatedField),
    Malformed(name: "long length beyond the payload", envelope: env(), payload: progressFields(extra: [8, 0xFF, 0xFF, 0, 0, 1, 0, 65]), code: .truncatedField),
    Malformed(name: "long form for a short value", envelope: env(), payload: progressFields(extra: [8, 0xFF, 0xFF, 1, 0, 0, 0, 65]), code: .fieldSize),
    Malformed(name: "empty payload", envelope: env(), payload: [], code: .missingField),
    Malformed(name: "missing theme", envelope: env(), payload: progressFields(omit: [1]), code: .missingField),
    Malformed(name: "missing item", envelope: env(), payload: progressFields(omit: [2]), code: .missingField),
    Malformed(name: "missing value", envelope: env(), payload: progressFields(omit: [3]), code: .missingField),
    Malformed(name: "missing as_of", envelope: env(), payload: progressFields(omit: [4]), code: .missingField),
    Malformed(name: "missing reported_at", envelope: env(), payload: progressFields(omit: [7]), code: .missingField),
    Malformed(name: "duplicate value", envelope: env(), payload: progressFields(extra: [3, 8, 0] + f64(4)), code: .duplicateField),
    Malformed(name: "duplicate theme", envelope: env(), payload: progressFields(extra: [1, 4, 0] + Array("work".utf8)), code: .duplicateField),
    Malformed(name: "undefined tag 99", envelope: env(), payload: progressFields(extra: [99, 1, 0, 0]), code: .unknownField),
    Malformed(name: "tag 0", envelope: env(), payload: progressFields(extra: [0, 0, 0]), code: .unknownField),
    Malformed(name: "period_start on a milestone report", envelope: env(), payload: progressFields(extra: [5, 10, 0] + Array("2022-01-01".utf8)), code: .fieldNotAllowed),
    Malformed(name: "document on a report", envelope: env(), payload: progressFields(extra: [17, 2, 0] + Array("{}".utf8)), code: .fieldNotAllowed),
    Malformed(name: "too many extension fields", envelope: env(), payload: progressFields(extra: Array((0..<30).map { _ in [UInt8(200), 0, 0] }.joined())), code: .tooManyFields),
    // Field values
    Malformed(name: "value of 4 bytes", envelope: env(), payload: progressFields(omit: [3], extra: [3, 4, 0, 0, 0, 0, 0]), code: .fieldSize),
    Malformed(name: "reported_at of 9 bytes", envelope: env(), payload: progressFields(omit: [7], extra: [7, 9, 0] + [UInt8](repeating: 1, count: 9)), code: .fieldSize),
    Malformed(name: "NaN value", envelope: env(), payload: progressFields(value: .nan), code: .notFinite),
    Malformed(name: "infinite value", envelope: env(), payload: progressFields(value: .infinity), code: .notFinite),
    Malformed(name: "minus infinity", envelope: env(), payload: progressFields(value: -.infinity), code: .notFinite),
    Malformed(name: "negative milestone value", envelope: env(), payload: progressFields(value: -1), code: .outOfRange),
    Malformed(name: "absurd value", envelope: env(), payload: progressFields(value: 1e15), code: .outOfRange),
    Malformed(name: "theme not UTF-8", envelope: env(), payload: progressFields(theme: [0xC3, 0x28]), code: .invalidUTF8),
    Malformed(name: "note not UTF-8", envelope: env(), payload: progressFields(extra: [8, 2, 0, 0xFF, 0xFE]), code: .invalidUTF8),
    Malformed(name: "note with NUL", envelope: env(), payload: progressFields(extra: [8, 3, 0, 0x61, 0, 0x62]), code: .invalidUTF8),
    Malformed(name: "note too long", envelope: env(), payload: progressFields(extra: [8, 0x01, 0x04] + [UInt8](repeating: 0x61, count: 1025)), code: .stringTooLong),
    Malformed(name: "item id too long", envelope: env(), payload: progressFields(item: [UInt8](repeating: 0x61, count: 65)), code: .stringTooLong),
    Malformed(name: "empty item id", envelope: env(), payload: progressFields(item: []), code: .invalidID),
    Malformed(name: "item id with capitals", envelope: env(), payload: progressFields(item: Array("BVS-Werksferen".utf8)), code: .invalidID),
    Malformed(name: "item id with a space", envelope: env(), payload: progressFields(item: Array("bvs werksferen".utf8)), code: .invalidID),
    Malformed(name: "date with a slash", envelope: env(), payload: progressFields(asOf: "2022/11/01"), code: .badDate),
    Malformed(name: "date that does not exist", envelope: env(), payload: progressFields(asOf: "2022-02-30"), code: .badDate),
    Malformed(name: "date too short", envelope: env(), payload: progressFields(asOf: "2022-1-1"), code: .fieldSize),
    Malformed(name: "as_of next year", envelope: env(), payload: progressFields(asOf: "2023-11-01"), code: .outOfRange),
    Malformed(name: "reported_at in the future", envelope: env(), payload: progressFields(reportedAt: now + 3_600_000), code: .futureTimestamp),
    Malformed(name: "reported_at in seconds, not ms", envelope: env(), payload: progressFields(reportedAt: 1_669_719_600), code: .outOfRange),
    Malformed(name: "measurement period ends before it starts", envelope: env(0x11),
              payload: progressFields(omit: [4]) + [5, 10, 0] + Array("2022-06-01".utf8) + [6, 10, 0] + Array("2022-01-01".utf8), code: .outOfRange),
    Malformed(name: "nack without detail", envelope: env(0x21, seq: 0), payload: [19, 8, 0] + [UInt8](repeating: 0, count: 8) + [15, 2, 0, 44, 1], code: .missingField),
    Malformed(name: "document not UTF-8", envelope: env(0x40, seq: 3), payload: [17, 1, 0, 0x80], code: .invalidUTF8),
]

@Suite("Malformed input")
struct MalformedTests {
    @Test("has at least 40 cases")
    func count() { #expect(malformed.count >= 40) }

    @Test("each malformed input is refused with its specific code", arguments: malformed)
    func refused(_ c: Malformed) {
        #expect {
            try codec.decode(envelope: c.envelope, payload: c.payload, now: now)
        } throws: { error in
            guard let e = error as? WireError else { return false }
            return e.code == c.code && !e.message.isEmpty
        }
    }

    @Test("the valid base case decodes")
    func base() throws {
        _ = try codec.decode(envelope: env(), payload: progressFields(), now: now)
    }
}

// MARK: - Plan checks

@Suite("Report validation against the plan")
struct ValidatorTests {
    static let validator = ReportValidator(catalog: PlanCatalog(try! PlanLoader.loadDefault(path: nil)))

    static func progress(theme: String = "work", item: String = "bvs-werksferen", value: Double = 3, asOf: String = "2022-11-01") -> Payload {
        .milestoneProgress(MilestoneProgress(theme: theme, item: item, value: value, asOf: PlanDate(iso: asOf)!, reportedAt: reported))
    }

    @Test("a correct report passes")
    func passes() throws {
        try Self.validator.check(Self.progress(), identity: "work")
        try Self.validator.check(.indicatorMeasurement(IndicatorMeasurement(
            theme: "health", item: "gelukkig", value: 82, periodStart: PlanDate(iso: "2013-01-01")!, periodEnd: PlanDate(iso: "2022-12-31")!,
            reportedAt: reported)), identity: "health")
    }

    @Test("plan and identity problems get their codes", arguments: [
        (ValidatorTests.progress(theme: "sport"), "work", ReasonCode.unknownTheme),
        (ValidatorTests.progress(), "talent", .identityMismatch),
        (ValidatorTests.progress(item: "bvs-werksferne"), "work", .unknownItem),
        (ValidatorTests.progress(item: "saffierflat-inhuizing"), "work", .itemNotInTheme),
        (ValidatorTests.progress(item: "gelukkig", value: 80), "work", .itemNotInTheme),
        (ValidatorTests.progress(theme: "health", item: "gelukkig", value: 80), "health", .wrongItemKind),
        (ValidatorTests.progress(value: 1000), "work", .valueOutOfRange),
        (ValidatorTests.progress(item: "bvs-do-vastgesteld", value: 0.5), "work", .valueOutOfRange),
        (ValidatorTests.progress(asOf: "2019-01-01"), "work", .outsideHorizon),
        (.welcome(Welcome(settledThrough: 1, planVersion: 1)), "work", .wrongDirection),
    ] as [(Payload, String, ReasonCode)])
    func refused(payload: Payload, identity: String, code: ReasonCode) {
        #expect {
            try Self.validator.check(payload, identity: identity)
        } throws: { ($0 as? WireError)?.code == code }
    }

    @Test("an unknown item gets the closest matches")
    func suggestions() {
        do {
            try Self.validator.check(Self.progress(item: "bvs-werksferne"), identity: "work")
            Issue.record("accepted")
        } catch {
            #expect(error.message.contains("`bvs-werksferen`"))
        }
    }
}

@Suite("The Python reference encoder")
struct PythonReferenceTests {
    @Test("docs/examples/koers_wire.py produces the spec's golden vectors", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func pythonMatchesSpec() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [root.appendingPathComponent("docs/examples/koers_wire.py").path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        var fromPython: [String: [UInt8]] = [:]
        var name = ""
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("golden: ") { name = String(line.dropFirst(8)) }
            if line.hasPrefix("envelope: ") { fromPython[name] = bytes(fromHex: String(line.dropFirst(10))) }
            if line.hasPrefix("payload: ") {
                let hex = String(line.dropFirst(9))
                fromPython[name, default: []] += hex == "(empty)" ? [] : bytes(fromHex: hex)
            }
        }
        let spec = try goldenVectors()
        #expect(Set(fromPython.keys) == Set(spec.keys))
        for (k, v) in spec { #expect(fromPython[k] == v.envelope + v.payload, "vector \(k)") }
    }
}

@Suite("Final and non-final codes, 1.1")
struct FinalityTests {
    /// The rows of §6's table in docs/protocol.md: code → (name, text).
    func specCodes() throws -> [UInt16: (name: String, meaning: String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/protocol.md"), encoding: .utf8)
        let section = text.components(separatedBy: "## 6. Reason codes")[1].components(separatedBy: "\n## ")[0]
        var out: [UInt16: (String, String)] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3, let code = UInt16(cells[0]) else { continue }
            out[code] = (cells[1], cells[2])
        }
        return out
    }

    @Test("§6 of the spec and ReasonCode agree on every name and on which codes are final")
    func specAgrees() throws {
        let spec = try specCodes()
        #expect(Set(spec.keys) == Set(ReasonCode.names.keys).union([307, 400]))
        for (code, row) in spec {
            let c = ReasonCode(rawValue: code)
            if code == 307 || code == 400 {
                #expect(row.name == "—" && row.meaning.hasPrefix("reserved"), "\(code) is reserved in 1.1")
                #expect(ReasonCode.names[code] == nil)
                continue
            }
            #expect(row.name == c.name, "\(code)")
            #expect(row.meaning.contains("**not final**") == !c.isFinal, "\(c): the table and isFinal disagree")
        }
        #expect(spec.keys.filter { !ReasonCode(rawValue: $0).isFinal }.sorted() == [211, 402, 500, 502, 503])
        #expect(!ReasonCode(rawValue: 599).isFinal && ReasonCode(rawValue: 399).isFinal, "unknown codes by their hundred")
    }

    @Test("reported_at and sent_at may be 5 minutes ahead, not a millisecond more; a future as_of is a final 210")
    func clockTolerance() throws {
        let skew = WireCodec().limits.clockSkewMilliseconds
        #expect(skew == 300_000)
        func decode(_ e: [UInt8], _ p: [UInt8]) -> ReasonCode? {
            do { _ = try codec.decode(envelope: e, payload: p, now: now); return nil } catch { return error.code }
        }
        #expect(decode(env(), progressFields(reportedAt: now + skew)) == nil)
        #expect(decode(env(), progressFields(reportedAt: now + skew + 1)) == .futureTimestamp)
        #expect(decode(env(sentAt: now + skew), progressFields()) == nil)
        #expect(decode(env(sentAt: now + skew + 1), progressFields()) == .futureTimestamp)
        #expect(ReasonCode.futureTimestamp.isFinal == false)
        // Tomorrow is allowed; the day after is a person's date, final.
        #expect(decode(env(), progressFields(asOf: "2022-11-30")) == nil)
        #expect(decode(env(), progressFields(asOf: "2022-12-01")) == .outOfRange)
        #expect(ReasonCode.outOfRange.isFinal)
    }
}
