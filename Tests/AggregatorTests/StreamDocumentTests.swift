import Foundation
import Plan
@testable import Status
import Testing

@testable import Aggregator
@testable import StreamProtocol

/// The stream documents are written by `JSONText`, not `JSONEncoder`; operators read
/// them with `JSONDecoder`. The two must agree byte for byte.
@Suite("Stream documents")
struct StreamDocumentTests {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    func reference<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try Self.encoder.encode(value), as: UTF8.self)
    }

    static func evidence(_ summary: String, full: Bool) -> Evidence {
        var e = Evidence(summary: summary)
        guard full else { return e }
        e.lastValue = 7
        e.lastDate = PlanDate(iso: "2024-03-31")
        e.reportedBy = "work"
        e.expected = 7.25
        e.deviation = -0.1234567890123
        e.ageDays = 12
        e.forecast = PlanDate(iso: "2025-01-15")
        return e
    }

    /// Summaries with everything that needs escaping, and values that format differently.
    static let summaries = ["plain", "quote \" backslash \\ slash / tab \t newline \n cr \r", "control \u{01}\u{1f}", "ë ✓ 🚲", ""]

    @Test("a status change, with and without evidence and optional fields")
    func statusChange() throws {
        for (i, summary) in Self.summaries.enumerated() {
            for full in [false, true] {
                let doc = StreamDocuments.StatusChange(
                    sequence: UInt64(i) * 1_000_003, date: PlanDate(iso: "2024-04-01")!, item: "bvs-werksferen",
                    from: full ? .onTrack : nil, to: .lagging, why: summary, evidence: full ? Self.evidence(summary, full: true) : nil,
                    progress: full ? 0.5 : nil, topic: full ? "status.work" : nil, previous: full ? 0 : nil)
                #expect(StreamDocuments.encode(doc) == (try reference(doc)))
            }
        }
    }

    @Test("an alert transition and an open alert, acknowledged or not")
    func alert() throws {
        for (i, summary) in Self.summaries.enumerated() {
            for full in [false, true] {
                let alert = Alert(
                    key: "milestone-lagging:bvs-werksferen", rule: "milestone-lagging", subject: "bvs-werksferen",
                    theme: full ? "work" : nil, severity: .warning, state: full ? .acknowledged : .firing,
                    since: PlanDate(iso: "2024-04-01")!,
                    acknowledgement: full ? Acknowledgement(by: "operator:anna", reason: summary, until: i % 2 == 0 ? PlanDate(iso: "2024-05-01") : nil) : nil,
                    evidence: Self.evidence(summary, full: full), owner: full ? "vereniging-bvs" : nil,
                    areas: full ? ["gms", "vrieheide"] : [], ruleVersion: 1)
                var resolved = alert
                resolved.state = .resolved
                resolved.resolvedBy = Resolution(summary: summary, on: PlanDate(iso: "2024-06-01")!, value: full ? 8 : nil,
                                                 asOf: full ? PlanDate(iso: "2024-05-30") : nil, reportedBy: full ? "work" : nil)
                #expect(StreamDocuments.encode(alert) == (try reference(alert)))
                #expect(StreamDocuments.encode(resolved) == (try reference(resolved)))
                // The acknowledgement and resolution live behind one reference: they read
                // back, and an alert without them equals one that never had them.
                #expect(try JSONDecoder().decode(Alert.self, from: Data(try reference(resolved).utf8)) == resolved)
                var cleared = resolved
                cleared.acknowledgement = nil
                cleared.resolvedBy = nil
                var never = alert
                never.acknowledgement = nil
                never.state = .resolved
                #expect(cleared == never && cleared.hashValue == never.hashValue)
                #expect(cleared.resolvedBy == nil && resolved.acknowledgement == alert.acknowledgement)
                let t = StreamDocuments.AlertTransitionDocument(sequence: 42, date: PlanDate(iso: "2024-04-02")!, key: alert.key,
                                                                from: full ? .firing : nil, to: .acknowledged, alert: alert,
                                                                topic: full ? "alert.work.warning" : nil, previous: full ? 40 : nil)
                #expect(StreamDocuments.encode(t) == (try reference(t)))
                #expect(StreamDocuments.encode(t, alertJSON: StreamDocuments.encode(alert)) == (try reference(t)))
            }
        }
    }

    @Test("a heartbeat's topics")
    func heartbeat() throws {
        let hb = StreamDocuments.Heartbeat(sequence: 12, topics: ["status.work": 12, "alert.safety.warning": 9])
        #expect(StreamDocuments.encode(hb) == (try reference(hb)))
    }

    @Test("numbers: whole, fractional, tiny, huge and negative")
    func numbers() throws {
        for v in [0, 1, -1, 2.5, 0.1, 1.0 / 3, 1e-7, 123_456_789_012, 1e15, 1e16, 1e300, -0.0, 5e-324] as [Double] {
            let s = ItemStatus(item: "x", state: .onTrack, evidence: Evidence(summary: "s"), progress: v)
            #expect(StreamDocuments.encode(StreamDocuments.Snapshot(sequence: 1, date: PlanDate(iso: "2024-01-01")!, planVersion: 1,
                                                                     items: [s], rollups: [], alerts: [], silentThemes: []))
                    == (try reference(StreamDocuments.Snapshot(sequence: 1, date: PlanDate(iso: "2024-01-01")!, planVersion: 1,
                                                               items: [s], rollups: [], alerts: [], silentThemes: []))), "\(v)")
        }
    }

    @Test("a snapshot with items, roll-ups, alerts and silent themes reads back as written")
    func snapshot() throws {
        let items = (0..<5).map { ItemStatus(item: "m\($0)", state: ItemState.allCases[$0], evidence: Self.evidence("why \($0)", full: $0 % 2 == 0),
                                             progress: $0 == 3 ? nil : Double($0) / 4) }
        let rollups = [StreamDocuments.Rollup(node: "theme:work", state: .lagging, counts: ["lagging": 1, "on-track": 3, "done": 2]),
                       StreamDocuments.Rollup(node: "programme", state: .done, counts: [:])]
        let alert = Alert(key: "theme-silent:work", rule: "theme-silent", subject: "work", theme: "work", severity: .critical, state: .firing,
                          since: PlanDate(iso: "2024-04-01")!, acknowledgement: nil, evidence: Evidence(summary: "quiet"), owner: nil,
                          areas: [], ruleVersion: 1)
        let snap = StreamDocuments.Snapshot(sequence: 99, date: PlanDate(iso: "2024-04-03")!, planVersion: 2, items: items,
                                            rollups: rollups, alerts: [alert], silentThemes: ["work"],
                                            topics: ["status.work": 97, "alert.work.critical": 99, "status.programme": 3])
        let text = StreamDocuments.encode(snap)
        #expect(text == (try reference(snap)))
        let back = try JSONDecoder().decode(StreamDocuments.Snapshot.self, from: Data(text.utf8))
        #expect(back.items == items)
        #expect(back.alerts == [alert])
        #expect(back.rollups.map(\.counts) == rollups.map(\.counts))
    }
}
