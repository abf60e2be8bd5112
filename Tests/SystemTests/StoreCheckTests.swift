import Foundation
import Plan
import Testing
import Wire
@testable import Aggregator
@testable import ThemeService

/// Reports for the work theme (milestone `bvs-werksferen`), each distinct by its note.
func workReports(_ range: ClosedRange<Int>) -> [Payload] {
    range.map { i in
        .milestoneProgress(MilestoneProgress(theme: "work", item: "bvs-werksferen", value: Double(i % 10),
                                             asOf: PlanDate(iso: "2023-01-01")!.adding(days: i % 365), reportedAt: 1_700_000_000_000 + Int64(i),
                                             note: "report \(i)"))
    }
}

/// Writes 200 random bytes over the start of one leaf page of `table`'s B-tree, chosen at
/// random (SQLite's `dbstat`, read by Python's sqlite3): the page header and the cell
/// pointers, the structure SQLite checks. (Bytes that land only inside a stored value
/// change it without SQLite noticing: it keeps no page checksums; docs/operations.md.)
func damagePage(of table: String, in file: String) throws -> Int {
    let script = """
        import sqlite3, sys
        db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
        print(db.execute("PRAGMA page_size").fetchone()[0])
        print(" ".join(str(r[0]) for r in db.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'", (sys.argv[2],))))
        """
    let (code, out) = try runProgram("/usr/bin/python3", ["-c", script, file, table])
    let lines = out.split(separator: "\n")
    guard code == 0, lines.count == 2, let pageSize = Int(lines[0]) else { throw TestFailure("dbstat: \(out)") }
    let pages = lines[1].split(separator: " ").compactMap { Int($0) }
    guard let page = pages.randomElement() else { throw TestFailure("no leaf page of \(table) in \(file)") }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
    try handle.seek(toOffset: UInt64((page - 1) * pageSize + Int.random(in: 0..<8)))
    try handle.write(contentsOf: Data((0..<200).map { _ in UInt8.random(in: 0...255) }))
    try handle.close()
    return page
}

/// Runs a `koers` child until it exits by itself (it should refuse to start): its status
/// and what it logged (a `Child` starts its log afresh).
func expectRefusal(_ ws: Workspace, _ start: () throws -> Child, log name: String, within seconds: Double = 60) throws -> (Int32, String) {
    let child = try start()
    try eventually("\(name): the process to refuse and exit", within: seconds) { !child.process.isRunning }
    return (child.process.terminationStatus, (try? String(contentsOfFile: ws.dir + "/" + name, encoding: .utf8)) ?? "")
}

@Suite("A damaged, empty or missing store or outbox is never used", .serialized)
struct StoreCheckTests {
    @Test("200 random bytes in the store's data pages: the aggregator refuses to start and says how to restore")
    func damagedStore() async throws {
        try await bounded(240, "the damaged-store test") {
            let ws = try Workspace()
            try ws.outbox("safety").enqueue(safetyReports(1...2200), now: 1_700_000_000_000)
            let aggregator = try ws.aggregator()
            let service = try ws.theme("safety")
            try eventually("2,200 reports acknowledged", within: 120) { try ws.outbox("safety").summary().acked == 2200 }
            service.stop()
            aggregator.stop()
            let store = ws.data + "/aggregator/koers.sqlite"
            // The WAL folded into the file (a stopped aggregator may leave one), so the
            // damage below is in pages SQLite reads from the file.
            let (folded, said) = try runProgram("/usr/bin/python3", ["-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute('PRAGMA wal_checkpoint(TRUNCATE)').fetchone()); c.close()", store])
            #expect(folded == 0 && said.hasPrefix("(0,"), "\(said)")
            #expect(((try? FileManager.default.attributesOfItem(atPath: store + "-wal"))?[.size] as? Int ?? 0) == 0)
            let page = try damagePage(of: "report_batches", in: store)

            let (status, log) = try expectRefusal(ws, { try ws.aggregator() }, log: "aggregator.log")
            #expect(status != 0)
            #expect(log.contains("\(store) is damaged: "), "page \(page): \(log)")
            #expect(log.contains("koers aggregator restore BACKUP.sqlite --data \(ws.data)"), "\(log)")
        }
    }

    @Test("an empty, missing or table-less koers.sqlite where a store was kept is refused; a fresh data directory starts")
    func emptyStore() async throws {
        try await bounded(240, "the empty-store test") {
            let ws = try Workspace()
            let store = ws.data + "/aggregator/koers.sqlite"
            // A fresh data directory: the aggregator makes its store and serves.
            let first = try ws.aggregator()
            try eventually("the fresh aggregator to answer /healthz") { try httpGet(ws.httpURL + "/healthz").status == 200 }
            first.stop()
            func clear() { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store + s) } }

            clear()
            FileManager.default.createFile(atPath: store, contents: Data())
            var (status, log) = try expectRefusal(ws, { try ws.aggregator() }, log: "aggregator.log")
            #expect(status != 0)
            #expect(log.contains("\(store) is empty (0 bytes), but this data directory has held a store"), "\(log)")
            #expect(log.contains("koers aggregator restore"), "\(log)")

            clear()
            (status, log) = try expectRefusal(ws, { try ws.aggregator() }, log: "aggregator.log")
            #expect(status != 0)
            #expect(log.contains("\(store) is missing, but this data directory has held a store"), "\(log)")
            #expect(!FileManager.default.fileExists(atPath: store), "a missing store was made afresh")

            // An SQLite file without tables (what `sqlite3 koers.sqlite` leaves behind).
            let (made, said) = try runProgram("/usr/bin/python3", ["-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 1'); c.commit()", store])
            #expect(made == 0, "\(said)")
            (status, log) = try expectRefusal(ws, { try ws.aggregator() }, log: "aggregator.log")
            #expect(status != 0)
            #expect(log.contains("\(store) is an SQLite file without tables"), "\(log)")

            // A real store with a table gone.
            clear()
            try FileManager.default.removeItem(atPath: store + ".created")
            _ = try ReportStore(path: store)
            let (dropped, why) = try runProgram("/usr/bin/python3", ["-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('DROP TABLE report_batches'); c.commit()", store])
            #expect(dropped == 0, "\(why)")
            (status, log) = try expectRefusal(ws, { try ws.aggregator() }, log: "aggregator.log")
            #expect(status != 0)
            #expect(log.contains("\(store) lacks the table report_batches"), "\(log)")
        }
    }

    @Test("a damaged or emptied outbox: the theme service and `koers report` refuse it, saying what to do")
    func damagedOutbox() async throws {
        try await bounded(180, "the damaged-outbox test") {
            let ws = try Workspace()
            let outbox = ws.data + "/safety/outbox.sqlite"
            // Closed at once: the last connection folds the WAL into the file.
            try ws.outbox("safety").enqueue(safetyReports(1...2000), now: 1_700_000_000_000)
            #expect(((try? FileManager.default.attributesOfItem(atPath: outbox + "-wal"))?[.size] as? Int ?? 0) == 0)
            _ = try damagePage(of: "reports", in: outbox)
            var (status, log) = try expectRefusal(ws, { try ws.theme("safety") }, log: "safety.log")
            #expect(status != 0)
            #expect(log.contains("\(outbox) is damaged: "), "\(log)")
            #expect(log.contains("Stop the theme service, move outbox.sqlite* aside"), "\(log)")
            let (reported, said) = try ws.koers(["report", "safety", "milestone", "sociaal-veilig-uitrol", "--value", "5", "--as-of", "2023-02-01"])
            #expect(reported != 0)
            #expect(said.contains("is damaged"), "\(said)")

            for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: outbox + s) }
            FileManager.default.createFile(atPath: outbox, contents: Data())
            (status, log) = try expectRefusal(ws, { try ws.theme("safety") }, log: "safety.log")
            #expect(status != 0)
            #expect(log.contains("\(outbox) is empty (0 bytes), but an outbox was made here"), "\(log)")
        }
    }
}
