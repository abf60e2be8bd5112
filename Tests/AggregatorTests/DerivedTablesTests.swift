import Foundation
import GRDB
import Plan
import Status
import Testing
import Wire

@testable import Aggregator
import History
@testable import StreamProtocol

/// A batch's transaction holds its own rows; the tables a restart reads (items, open
/// alerts, levels) are written later, and every reader folds in what came after them, so
/// what it returns is the same before a fold, after it, and after a crash between two.
@Suite("The derived tables, written later")
struct DerivedTablesTests {
    static func report(_ item: String, _ seq: UInt64, _ value: Double, _ date: String, received: Int64) -> ReportStore.StoredReport {
        ReportStoreTests.report(item, seq, value, date, received: received)
    }

    /// An alert transition as the pipeline numbers it: the open alert is the document's `alert` member.
    static func transition(_ seq: UInt64, _ alert: Alert, to: AlertState) -> ReportStore.StreamRecord {
        var a = alert
        a.state = to
        let json = StreamDocuments.encode(a)
        let doc = StreamDocuments.AlertTransitionDocument(sequence: seq, date: PlanDate(iso: "2024-05-01")!, key: a.key, from: nil, to: to, alert: a,
                                                          topic: "alert.work.warning", previous: nil)
        return ReportStore.StreamRecord(sequence: seq, type: .alertTransition, topic: "alert.work.warning",
                                        document: StreamDocuments.encode(doc, alertJSON: json), alert: (a.key, to == .resolved ? nil : json))
    }

    static func alert(_ n: Int) -> Alert {
        var a = StoredAlertReaderTests.alerts[n % 8]
        a.key = "milestone-lagging:m\(n)"
        a.subject = "m\(n)"
        a.resolvedBy = nil
        return a
    }

    /// Three batches: reports with out-of-order dates and ties, and alerts that fire,
    /// are acknowledged, resolve and fire again. Returns the open alerts it leaves.
    static func fill(_ store: ReportStore) throws -> [Alert] {
        try store.commit(reports: [report("a", 1, 1, "2024-02-01", received: 10), report("a", 2, 2, "2024-03-01", received: 10),
                                   report("b", 3, 5, "2024-03-01", received: 10)],
                         refusals: [], acked: ["work": 3],
                         stream: [transition(1, alert(1), to: .firing), transition(2, alert(2), to: .firing), transition(3, alert(3), to: .pending)])
        try store.commit(reports: [report("a", 4, 0.5, "2024-01-01", received: 20), report("a", 5, 3, "2024-03-01", received: 20)],
                         refusals: [], acked: ["work": 5],
                         stream: [transition(4, alert(1), to: .resolved), transition(5, alert(2), to: .acknowledged)])
        try store.commit(reports: [report("a", 6, 9, "2024-01-01", received: 30), report("b", 7, 6, "2024-04-01", received: 30)],
                         refusals: [], acked: ["work": 7], stream: [transition(6, alert(1), to: .firing)])
        var open = [alert(1), alert(2), alert(3)]
        open[0].state = .firing; open[1].state = .acknowledged; open[2].state = .pending
        return open
    }

    func withStore(_ body: (ReportStore) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "koers-derived-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(try ReportStore(path: dir + "/koers.sqlite"))
    }

    func rows(_ table: String, _ store: ReportStore) throws -> Int {
        try DatabaseQueue(path: store.path).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)") ?? -1 }
    }

    /// What the readers give, for comparing.
    func read(_ store: ReportStore) throws -> (items: [String: [Double]], alerts: [Alert], levels: [String: UInt64]) {
        let items = try store.itemObservations().mapValues { [$0.first.value, $0.latest.value] }
        return (items, try store.openAlerts(), try store.settledThrough())
    }

    @Test("a batch writes its own rows only; the readers fold in the rest and agree before the fold, after it, and after a restart")
    func laterButTheSame() throws {
        try withStore { store in
            let open = try Self.fill(store)
            #expect(try rows("items", store) == 0)
            #expect(try rows("open_alerts", store) == 0)
            #expect(try rows("publishers", store) == 0)
            let before = try read(store)
            #expect(before.items == ["a": [0.5, 3], "b": [5, 6]])
            #expect(before.alerts == open.sorted { $0.key < $1.key })
            #expect(before.levels == ["work": 7])
            // Every open document was found in its transition: none stored twice.
            #expect(try rows("stream WHERE alert_document IS NOT NULL", store) == 0)

            // A crash now: a new store on the same file reads the same.
            let reopened = try ReportStore(path: store.path)
            #expect(try read(reopened) == before)

            try store.foldDerived()
            #expect(try rows("items", store) == 2)
            #expect(try rows("open_alerts", store) == 3)
            #expect(try read(store) == before)
            // And what comes after the fold is folded in on top of it.
            try store.commit(reports: [Self.report("a", 8, 7, "2024-05-01", received: 40)], refusals: [], acked: ["work": 8],
                             stream: [Self.transition(7, Self.alert(2), to: .resolved)])
            let after = try read(store)
            #expect(after.items["a"] == [0.5, 7])
            #expect(after.alerts.map(\.key) == [Self.alert(1).key, Self.alert(3).key])
            #expect(after.levels == ["work": 8])
            try store.foldDerived()
            #expect(try read(try ReportStore(path: store.path)) == after)
            #expect(try rows("open_alerts", store) == 2)
        }
    }

    @Test("the engine's rule holds whatever the fold splits: first and latest as a replay of every report derives them")
    func sameAsReplay() throws {
        try withStore { store in
            _ = try Self.fill(store)
            try store.foldDerived()
            try store.commit(reports: [Self.report("b", 8, 1, "2024-01-01", received: 40), Self.report("b", 9, 2, "2024-04-01", received: 40)],
                             refusals: [], acked: ["work": 9])
            let kept = try store.itemObservations()
            let replayed = try StoreHistory(path: store.path).itemObservations(asOf: PlanDate(iso: "9999-12-31")!)
            for item in ["a", "b"] {
                #expect(kept[item]?.first == replayed[item]?.first, "first of \(item)")
                #expect(kept[item]?.latest == replayed[item]?.latest, "latest of \(item)")
            }
            #expect(kept["b"]?.first.value == 1)
            #expect(kept["b"]?.latest.value == 2)
        }
    }

    @Test("a batch with a refusal writes its levels at once: a refusal row does not say when it came")
    func refusalWritesLevels() throws {
        try withStore { store in
            let refusal = ReportStore.Refusal(publisher: "work", sequence: 2, reason: .unknownItem, detail: "no such item", payload: [1], at: 5)
            try store.commit(reports: [Self.report("a", 1, 1, "2024-02-01", received: 10)], refusals: [refusal], acked: ["work": 2])
            #expect(try rows("publishers", store) == 1)
            #expect(try store.settledThrough() == ["work": 2])
            try store.commit(reports: [Self.report("a", 3, 1, "2024-02-02", received: 11)], refusals: [], acked: ["work": 3])
            #expect(try store.settledThrough() == ["work": 3])
        }
    }

    @Test("a write that brings the waiting records to the limit folds them in its own transaction")
    func foldsWhenFull() throws {
        try withStore { store in
            let n = ReportStore.foldAfter
            let reports = (1...n).map { Self.report("m\($0 % 500)", UInt64($0), Double($0), "2024-02-01", received: 10) }
            try store.commit(reports: Array(reports.prefix(n - 1)), refusals: [], acked: ["work": UInt64(n - 1)])
            #expect(try rows("items", store) == 0)
            try store.commit(reports: [reports[n - 1]], refusals: [], acked: ["work": UInt64(n)])
            #expect(try rows("items", store) == 500)
            #expect(try rows("publishers", store) == 1)
            #expect(try store.settledThrough() == ["work": UInt64(n)])
        }
    }

    @Test("an open document that is not its transition's alert member is stored beside it")
    func separateDocument() throws {
        try withStore { store in
            let json = StreamDocuments.encode(Self.alert(4))
            try store.appendStream([ReportStore.StreamRecord(sequence: 1, type: .alertTransition, topic: "alert.work.warning", document: "{}",
                                                             alert: (Self.alert(4).key, json))], at: 0)
            #expect(try rows("stream WHERE alert_document IS NOT NULL", store) == 1)
            #expect(try store.openAlerts() == [Self.alert(4)])
            try store.foldDerived()
            #expect(try store.openAlerts() == [Self.alert(4)])
        }
    }

    @Test("an alert member is found in its document, byte for byte", arguments: [false, true])
    func alertMember(escaped: Bool) {
        var a = Self.alert(5)
        if escaped { a.evidence.summary = #"a "quoted" {brace} \ and ü"# }
        let record = Self.transition(1, a, to: .firing)
        let json = StreamDocuments.encode(a)
        #expect(AlertMember.embeds(json, in: record.document))
        #expect(AlertMember.slice(of: record.document, length: json.utf8.count) == json)
        #expect(!AlertMember.embeds(json + " ", in: record.document))
        #expect(!AlertMember.embeds(json, in: "{}"))
    }
}
