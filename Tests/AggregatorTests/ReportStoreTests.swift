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
        // Turn it back into a store of the v2 schema: a row per report, no items table, the
        // v3, v4 and v7 migrations not applied; opening it runs all three.
        try Self.unpack(path, forgetting: ["v3-items", "v4-no-item-index", "v7-report-batches"])
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "DROP TABLE items")
            try db.execute(sql: "CREATE INDEX reports_item ON reports(item, date)")
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
        #expect(try upgraded.reports().map(\.sequence) == [1, 2, 3, 4])
    }

    /// Makes a store's reports a row each again, in the `reports` table of the schema
    /// before `v7-report-batches`, and forgets the migrations named.
    static func unpack(_ path: String, forgetting migrations: [String]) throws {
        let reports = try ReportStore(path: path).reports()
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: """
                CREATE TABLE reports (
                    publisher TEXT NOT NULL, seq INTEGER NOT NULL, type INTEGER NOT NULL, item TEXT NOT NULL, value REAL NOT NULL,
                    date TEXT NOT NULL, period_start TEXT, reported_at INTEGER NOT NULL, received_at INTEGER NOT NULL,
                    note TEXT, reporter TEXT, payload BLOB NOT NULL, PRIMARY KEY (publisher, seq)
                ) WITHOUT ROWID
                """)
            for r in reports {
                try db.execute(sql: "INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               arguments: [r.publisher, Int64(r.sequence), Int(r.type.rawValue), r.item, r.value, r.date.iso, r.periodStart?.iso,
                                           r.reportedAt, r.receivedAt, r.note, r.reporter, Data(r.payload)])
            }
            try db.execute(sql: "DROP TABLE report_batches")
            for m in migrations { try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = ?", arguments: [m]) }
        }
    }

    @Test("a store of a row per report is packed into a row per publisher and batch, every field and the order kept")
    func packing() throws {
        let dir = NSTemporaryDirectory() + "koers-store-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/koers.sqlite"
        var all: [ReportStore.StoredReport] = []
        do {
            let store = try ReportStore(path: path)
            // Three commits; the second with two publishers and more than one row's worth for one.
            var seq: [String: UInt64] = [:]
            for (received, counts) in [(10, ["work": 3]), (20, ["work": 1_500, "talent": 2]), (30, ["talent": 1])] as [(Int64, [String: Int])] {
                var batch: [ReportStore.StoredReport] = []
                for (p, n) in counts.sorted(by: { $0.key < $1.key }) {
                    for _ in 0..<n {
                        seq[p, default: 0] += 1
                        var r = Self.report("m\(seq[p]! % 7)", seq[p]!, Double(seq[p]!), "2024-0\(1 + seq[p]! % 9)-01", received: received, publisher: p)
                        if seq[p]! % 5 == 0 { r.note = "toelichting \(seq[p]!) — één"; r.reporter = "Anne" }
                        if seq[p]! % 3 == 0 { r.type = .indicatorMeasurement; r.periodStart = PlanDate(iso: "2023-01-01") }
                        batch.append(r)
                    }
                }
                try store.commit(reports: batch, refusals: [], acked: seq)
                all += batch
            }
        }
        try Self.unpack(path, forgetting: ["v7-report-batches"])
        let store = try ReportStore(path: path)
        let rows = try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM report_batches") }
        #expect(rows == 5, "work 3; work 1,024 + 476 and talent 2; talent 1")
        let packed = try store.reports()
        #expect(packed.count == all.count)
        let key = { (r: ReportStore.StoredReport) in "\(r.receivedAt) \(r.publisher) \(r.sequence)" }
        #expect(packed.map(key) == all.sorted { ($0.receivedAt, $0.publisher, $0.sequence) < ($1.receivedAt, $1.publisher, $1.sequence) }.map(key))
        for (a, b) in zip(packed, all.sorted { ($0.receivedAt, $0.publisher, $0.sequence) < ($1.receivedAt, $1.publisher, $1.sequence) }) {
            #expect(a == b)
        }
        #expect(try store.earlier(publisher: "work", sequence: 1_100)?.payload == [UInt8(1_100 & 0xff)])
    }

    @Test("a resend is told apart by the batch row that holds its sequence, also past a refused one in the run")
    func earlierAcrossRows() throws {
        try withStore { store in
            let first = (1...4).map { Self.report("a", $0, 1, "2024-02-01", received: 10) }
            try store.commit(reports: first, refusals: [], acked: ["work": 4])
            // 5 refused, 6 and 7 stored: the row runs 6...7.
            try store.commit(reports: [Self.report("a", 6, 1, "2024-02-01", received: 20), Self.report("a", 7, 1, "2024-02-01", received: 20)],
                             refusals: [ReportStore.Refusal(publisher: "work", sequence: 5, reason: .unknownItem, detail: "no such item", payload: [9], at: 20)],
                             acked: ["work": 7])
            #expect(try store.earlier(publisher: "work", sequence: 3)?.payload == [3])
            #expect(try store.earlier(publisher: "work", sequence: 7)?.payload == [7])
            #expect(try store.earlier(publisher: "work", sequence: 5)?.refusal?.0 == .unknownItem)
            #expect(try store.earlier(publisher: "work", sequence: 8) == nil)
            #expect(try store.earlier(publisher: "talent", sequence: 1) == nil)
            let history = try StoreHistory(path: store.path).reports(item: "a", limit: 3)
            #expect(history.map(\.sequence) == [4, 6, 7], "the latest three, by date and then arrival")
        }
    }

    @Test("a batch blob round-trips every field, and one cut short or of another version is refused with the reason")
    func batchBlob() throws {
        let entries = [
            ReportBatch.Entry(publisher: "work", sequence: 1, type: .milestoneProgress, item: "wijk-één", value: -0.25, date: PlanDate(iso: "1969-12-31")!, periodStart: nil,
                              reportedAt: -5, receivedAt: 7, note: nil, reporter: "", payload: []),
            ReportBatch.Entry(publisher: "work", sequence: .max, type: .indicatorMeasurement, item: "x", value: .greatestFiniteMagnitude, date: PlanDate(iso: "2099-12-31")!,
                              periodStart: PlanDate(iso: "2099-01-01"), reportedAt: .max, receivedAt: .min, note: "n", reporter: nil, payload: [0, 255]),
        ]
        let blob = ReportBatch.encode(entries)
        #expect(try ReportBatch.decode(blob, publisher: "work") == entries)
        #expect(try ReportBatch.decode(blob, publisher: "work", item: "x") == [entries[1]])
        #expect(try ReportBatch.decode(blob, publisher: "work", item: "wijk-één") == [entries[0]])
        #expect(try ReportBatch.decode(blob, publisher: "work", item: "y").isEmpty)
        #expect(try ReportBatch.decode([ReportBatch.version], publisher: "work").isEmpty)
        #expect(throws: ReportBatch.Malformed.self) { try ReportBatch.decode(Array(blob.dropLast()), publisher: "work") }
        #expect(throws: ReportBatch.Malformed.self) { try ReportBatch.decode([99] + blob.dropFirst(), publisher: "work") }
        #expect(throws: ReportBatch.Malformed.self) { try ReportBatch.decode([], publisher: "work") }
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
