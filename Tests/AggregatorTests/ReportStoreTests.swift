import Foundation
import GRDB
import Plan
import Status
import Testing
import Wire

@testable import Aggregator
import History

/// The store keeps each item's first and latest observation as it commits, so a restart
/// reads one row per item; a replay derives the same from every report.
@Suite("The report store")
struct ReportStoreTests {
    static func report(_ item: String, _ seq: UInt64, _ value: Double, _ date: String, received: Int64, publisher: String = "work") -> ReportStore.StoredReport {
        ReportStore.StoredReport(publisher: publisher, sequence: seq, type: .milestoneProgress, item: item, value: value, date: PlanDate(iso: date)!,
                                 periodStart: nil, reportedAt: received, receivedAt: received, note: nil, reporter: nil, payload: [UInt8(seq & 0xff)])
    }

    func withStore(_ body: (ReportStore) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "koers-store-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(try ReportStore(path: dir + "/koers.sqlite"))
    }

    @Test("every commit syncs: the writer runs synchronous = FULL (GRDB's WAL set-up would leave it NORMAL)")
    func synchronousFull() throws {
        try withStore { store in
            let level = try store.writerSynchronous()
            #expect(level == 2)
        }
    }

    @Test("first and latest per item follow the engine's rule across batches, out-of-order dates and ties")
    func firstAndLatest() throws {
        try withStore { store in
            // Arrival order: batches in order, reports in order within a batch.
            let batches: [[ReportStore.StoredReport]] = [
                [Self.report("a", 1, 1, "2024-02-01", received: 10), Self.report("a", 2, 2, "2024-03-01", received: 10),
                 Self.report("b", 3, 5, "2024-03-01", received: 10)],
                // An older date: a new first, not a new latest. A tie on the latest date: the later one wins.
                [Self.report("a", 4, 0.5, "2024-01-01", received: 20), Self.report("a", 5, 3, "2024-03-01", received: 20),
                 Self.report("b", 6, 4, "2024-02-15", received: 20)],
                // A tie on the first date: the earlier one stays first.
                [Self.report("a", 7, 9, "2024-01-01", received: 30), Self.report("b", 8, 6, "2024-04-01", received: 30)],
            ]
            var engine: [String: (first: StatusModel.Observation, latest: StatusModel.Observation)] = [:]
            var seq: UInt64 = 0
            for batch in batches {
                seq = batch.last!.sequence
                try store.commit(reports: batch, refusals: [], acked: ["work": seq])
                for r in batch {
                    let o = StatusModel.Observation(value: r.value, date: r.date, publisher: r.publisher)
                    var e = engine[r.item] ?? (o, o)
                    if o.date >= e.latest.date { e.latest = o }
                    if o.date < e.first.date { e.first = o }
                    engine[r.item] = e
                }
            }
            let kept = try store.itemObservations()
            let derived = try StoreHistory(path: store.path).itemObservations(asOf: PlanDate(iso: "9999-12-31")!)
            for item in ["a", "b"] {
                #expect(kept[item]?.first == engine[item]?.first, "first of \(item)")
                #expect(kept[item]?.latest == engine[item]?.latest, "latest of \(item)")
                #expect(derived[item]?.first == engine[item]?.first, "first of \(item), derived")
                #expect(derived[item]?.latest == engine[item]?.latest, "latest of \(item), derived")
            }
            #expect(kept["a"]?.first.value == 0.5)
            #expect(kept["a"]?.latest.value == 3)
            #expect(kept["b"]?.latest.value == 6)
            // As of a date: only reports about dates up to then.
            let early = try StoreHistory(path: store.path).itemObservations(asOf: PlanDate(iso: "2024-02-20")!)
            #expect(early["a"]?.latest.value == 1)
            #expect(early["b"]?.latest.value == 4)
        }
    }

    @Test("a store from before the items table is upgraded: the table is filled from the stored reports")
    func upgrade() throws {
        let dir = NSTemporaryDirectory() + "koers-store-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/koers.sqlite"
        let batch = [Self.report("a", 1, 1, "2024-02-01", received: 10), Self.report("a", 2, 2, "2024-03-01", received: 11),
                     Self.report("b", 3, 5, "2024-03-01", received: 12), Self.report("a", 4, 0.5, "2024-01-01", received: 13)]
        let expected: [String: (first: StatusModel.Observation, latest: StatusModel.Observation)]
        do {
            let store = try ReportStore(path: path)
            try store.commit(reports: batch, refusals: [], acked: ["work": 4])
            expected = try store.itemObservations()
        }
        // Turn it back into a store of the v2 schema: no items table, the v3 and v4 migrations not applied.
        do {
            let db = try DatabaseQueue(path: path)
            try db.write { db in
                try db.execute(sql: "DROP TABLE items")
                try db.execute(sql: "CREATE INDEX reports_item ON reports(item, date)")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier IN ('v3-items', 'v4-no-item-index')")
            }
        }
        let upgraded = try ReportStore(path: path)
        let got = try upgraded.itemObservations()
        #expect(got.count == 2)
        for item in ["a", "b"] {
            #expect(got[item]?.first == expected[item]?.first, "first of \(item)")
            #expect(got[item]?.latest == expected[item]?.latest, "latest of \(item)")
        }
        #expect(got["a"]?.first.value == 0.5)
        #expect(got["a"]?.latest.value == 2)
        #expect(try upgraded.reportCount() == 4)
    }

    @Test("an engine rebuilt from the store has the live engine's states, forecasts included")
    func rebuild() throws {
        let plan = try PlanLoader.loadDefault(path: nil)
        let today = PlanDate(iso: "2024-06-30")!
        try withStore { store in
            var live = StatusEngine(plan: plan, today: today)
            let milestones = plan.milestones.filter { $0.milestone.kind == .quantitative }.prefix(6)
            var seq: UInt64 = 0
            for (n, p) in milestones.enumerated() {
                let m = p.milestone
                var batch: [ReportStore.StoredReport] = []
                // Three reports each, dates not in order, so first ≠ latest and a pace exists.
                for (k, day) in ["2023-03-01", "2024-05-01", "2023-09-01"].enumerated() {
                    seq += 1
                    let value = m.baseline + (m.target - m.baseline) * Double(k + n) / 10
                    batch.append(Self.report(m.id, seq, value, day, received: Int64(seq), publisher: p.theme))
                    _ = live.record(item: m.id, observation: .init(value: value, date: PlanDate(iso: day)!, publisher: p.theme))
                }
                try store.commit(reports: batch, refusals: [], acked: [p.theme: seq])
            }
            let rebuilt = StatusEngine(plan: plan, today: today, observations: try store.itemObservations())
            #expect(rebuilt.states == live.states)
            #expect(milestones.contains { live.states[$0.milestone.id]?.evidence.forecast != nil })
        }
    }
}
