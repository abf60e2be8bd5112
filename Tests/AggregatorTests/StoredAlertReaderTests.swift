import Foundation
import Plan
import Status
import Testing
import Wire

@testable import Aggregator
@testable import StreamProtocol

/// The open alerts a restart restores are read by `StoredAlertReader`, not `JSONDecoder`;
/// for every document the store can hold, the two must give the same alert.
@Suite("Stored alert reader")
struct StoredAlertReaderTests {
    /// Alerts with every optional member present or absent, and summaries that need escaping.
    static var alerts: [Alert] {
        var out: [Alert] = []
        for (i, summary) in StreamDocumentTests.summaries.enumerated() {
            for full in [false, true] {
                var a = Alert(key: "milestone-lagging:m\(i)", rule: "milestone-lagging", subject: "m\(i)", theme: full ? "work" : nil,
                              severity: full ? .warning : .critical, state: [.pending, .firing, .acknowledged, .flapping][i % 4], since: PlanDate(iso: "2024-04-01")!,
                              acknowledgement: full ? Acknowledgement(by: "operator:anna", reason: summary, until: i % 2 == 0 ? PlanDate(iso: "2024-05-01") : nil) : nil,
                              evidence: StreamDocumentTests.evidence(summary, full: full), owner: full ? "vereniging-bvs" : nil,
                              areas: full ? ["gms", "vrieheide"] : [], ruleVersion: 1)
                out.append(a)
                a.resolvedBy = Resolution(summary: summary, on: PlanDate(iso: "2024-06-01")!, value: full ? 8.125 : nil,
                                          asOf: full ? PlanDate(iso: "2024-05-30") : nil, reportedBy: full ? "work" : nil)
                out.append(a)
            }
        }
        for v in [0, -1, 2.5, 1.0 / 3, 1e-7, 123_456_789_012, 1e16, 1e300, -0.0, 5e-324] as [Double] {
            var e = Evidence(summary: "n")
            e.lastValue = v; e.expected = -v; e.deviation = v / 7
            out.append(Alert(key: "data-missing:x", rule: "data-missing", subject: "x", theme: "t", severity: .warning, state: .pending,
                             since: PlanDate(iso: "2026-12-04")!, acknowledgement: nil, evidence: e, owner: "o", areas: ["a"], ruleVersion: 2))
        }
        return out
    }

    @Test("what the store holds reads back as JSONDecoder reads it, and as it was")
    func sameAsJSONDecoder() throws {
        for alert in Self.alerts {
            let json = StreamDocuments.encode(alert)
            let fast = try #require(StoredAlertReader.alert(json), "\(json)")
            let reference = try JSONDecoder().decode(Alert.self, from: Data(json.utf8))
            #expect(fast == reference, "\(json)")
            #expect(fast == alert, "\(json)")
            #expect(fast.evidence.deviation?.sign == alert.evidence.deviation?.sign)
        }
    }

    @Test("escapes, whitespace and member order that JSONText does not write still read the same")
    func otherSpellings() throws {
        let json = """
             { "theme" : "w\\u00ebrk" , "subject":"m\\ud83d\\udeb2", "state":"firing","since":"2024-04-01",
               "severity":"info", "rule":"milestone-at-risk", "key":"milestone-at-risk:m\\ud83d\\udeb2",
               "evidence":{"summary":"a\\tb\\u0001", "ageDays": 3, "lastValue": 1E+2},
               "areas":[ ], "ruleVersion":1, "owner":null, "acknowledgement":null }
            """
        let fast = try #require(StoredAlertReader.alert(json))
        #expect(fast == (try JSONDecoder().decode(Alert.self, from: Data(json.utf8))))
        #expect(fast.subject == "m🚲" && fast.theme == "wërk" && fast.evidence.summary == "a\tb\u{01}" && fast.evidence.lastValue == 100)
    }

    @Test("a document it does not recognise in full is left to JSONDecoder", arguments: [
        #"{"key":"k"}"#,  // required members missing
        #"{"areas":[],"evidence":{"summary":"s"},"key":"k","rule":"r","ruleVersion":1,"severity":"warning","since":"2024-04-01","state":"firing","subject":"s","extra":1}"#,
        #"{"areas":[],"evidence":{"summary":"s"},"key":"k","rule":"r","ruleVersion":1.5,"severity":"warning","since":"2024-04-01","state":"firing","subject":"s"}"#,
        #"{"areas":[],"evidence":{"summary":"s"},"key":"k","rule":"r","ruleVersion":1,"severity":"loud","since":"2024-04-01","state":"firing","subject":"s"}"#,
        #"{"areas":[],"evidence":{"summary":"s"},"key":"k","rule":"r","ruleVersion":1,"severity":"warning","since":"2024-02-30","state":"firing","subject":"s"}"#,
        #"{"areas":[],"evidence":{"summary":"s"},"key":"k","rule":"r","ruleVersion":1,"severity":"warning","since":"2024-04-01","state":"firing","subject":"s"} x"#,
        #"{"areas":[],"evidence":{"summary":"s"},"key":"k","rule":"r","ruleVersion":1,"severity":"warning","since":"2024-04-01","state":"firing","subject":"s""#,
        #"{"areas":[],"evidence":{"summary":"s\u12"},"key":"k","rule":"r","ruleVersion":1,"severity":"warning","since":"2024-04-01","state":"firing","subject":"s"}"#,
        "",
    ])
    func unrecognised(json: String) {
        #expect(StoredAlertReader.alert(json) == nil)
    }

    @Test("the store's open alerts come back as stored, through the reader")
    func throughTheStore() throws {
        let dir = NSTemporaryDirectory() + "koers-alert-reader-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ReportStore(path: dir + "/koers.sqlite")
        let open = Self.alerts.filter { $0.resolvedBy == nil }.enumerated().map { n, a in
            var a = a
            a.key = "\(a.rule):m\(n)"
            return a
        }
        let records = open.enumerated().map { n, a in
            ReportStore.StreamRecord(sequence: UInt64(n + 1), type: .alertTransition, topic: "alert.work.warning", document: "{}",
                                     alert: (a.key, StreamDocuments.encode(a)))
        }
        try store.appendStream(records, at: 0)
        #expect(try store.openAlerts() == open.sorted { $0.key < $1.key })
    }
}
