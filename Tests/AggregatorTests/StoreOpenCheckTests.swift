import Foundation
import Plan
import GRDB
import Testing

@testable import Aggregator

/// The checks a store passes before the aggregator writes to it, on real SQLite files.
@Suite("The store's check at open, back-up and restore")
struct StoreOpenCheckTests {
    /// A data directory's store path, in a fresh temporary directory removed afterwards.
    func withDataDirectory(_ body: (String) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "koers-check-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir + "/data/aggregator/koers.sqlite")
    }

    func fill(_ store: ReportStore, _ n: Int, from first: Int = 1) throws {
        let reports = (first...n).map { i in
            ReportStore.StoredReport(publisher: "work", sequence: UInt64(i), type: .milestoneProgress, item: "m\(i % 7)", value: Double(i), date: PlanDate(iso: "2024-01-01")!,
                                     periodStart: nil, reportedAt: 1, receivedAt: 1, note: "report \(i)", reporter: nil, payload: [UInt8](repeating: UInt8(i & 0xff), count: 140))
        }
        try store.commit(reports: reports, refusals: [], acked: ["work": UInt64(n)])
    }

    func expectProblem(_ code: StoreProblem.Code, containing text: String, _ open: () throws -> Void) {
        #expect {
            try open()
        } throws: { e in
            guard let p = e as? StoreProblem else { return false }
            return p.code == code && p.description.contains(text) && p.description.contains("koers aggregator restore")
        }
    }

    @Test("a fresh data directory gets a store and its marker; a second open finds it whole")
    func fresh() throws {
        try withDataDirectory { path in
            let store = try ReportStore(path: path)
            #expect(store.openCheck.created)
            #expect(FileManager.default.fileExists(atPath: ReportStore.markerPath(forStore: path)))
            try fill(store, 10)
            let again = try ReportStore(path: path)
            #expect(!again.openCheck.created)
            #expect(try again.reportCount() == 10)
        }
    }

    @Test("missing or zero-length where the marker says a store was kept: refused")
    func missingOrEmpty() throws {
        try withDataDirectory { path in
            _ = try ReportStore(path: path)
            for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) }
            expectProblem(.missing, containing: "is missing, but this data directory has held a store (koers.sqlite.created beside it)") { _ = try ReportStore(path: path) }
            #expect(!FileManager.default.fileExists(atPath: path))
            FileManager.default.createFile(atPath: path, contents: Data())
            expectProblem(.empty, containing: "is empty (0 bytes)") { _ = try ReportStore(path: path) }
            // The notifiers' positions are no sign of a store: they are made before it.
            try FileManager.default.removeItem(atPath: ReportStore.markerPath(forStore: path))
            FileManager.default.createFile(atPath: (path as NSString).deletingLastPathComponent + "/notify.sqlite", contents: Data("x".utf8))
            #expect(try ReportStore(path: path).openCheck.created)
        }
    }

    @Test("a zero-length file in a directory that never held a store is a new store")
    func zeroLengthFresh() throws {
        try withDataDirectory { path in
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: path, contents: Data())
            #expect(try ReportStore(path: path).openCheck.created)
        }
    }

    @Test("not SQLite, damaged pages, a dropped table, a newer schema: refused, each with its reason")
    func damaged() throws {
        try withDataDirectory { path in
            try fill(try ReportStore(path: path), 3000)
            let pristine = try Data(contentsOf: URL(fileURLWithPath: path))
            // The root page of `report_batches`, header and cell pointers overwritten.
            let root = try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'report_batches'")! }
            var broken = pristine
            broken.replaceSubrange((root - 1) * 4096..<(root - 1) * 4096 + 200, with: (0..<200).map { _ in UInt8.random(in: 0...255) })
            try broken.write(to: URL(fileURLWithPath: path))
            expectProblem(.damaged, containing: "is damaged") { _ = try ReportStore(path: path) }

            try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: path))
            expectProblem(.damaged, containing: "is not an SQLite database") { _ = try ReportStore(path: path) }

            try pristine.write(to: URL(fileURLWithPath: path))
            try DatabaseQueue(path: path).write { try $0.execute(sql: "DROP TABLE items") }
            expectProblem(.schema, containing: "lacks the table items") { _ = try ReportStore(path: path) }

            try pristine.write(to: URL(fileURLWithPath: path))
            try DatabaseQueue(path: path).write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99-future')") }
            expectProblem(.schema, containing: "written by a newer Koers (schema migration `v99-future`)") { _ = try ReportStore(path: path) }
        }
    }

    @Test("a back-up is one checked file; a restore checks it, moves the store and its WAL aside, and puts it in place")
    func backupRestore() throws {
        try withDataDirectory { path in
            let backup = (path as NSString).deletingLastPathComponent + "/backup.sqlite"
            do {
                let store = try ReportStore(path: path)
                try fill(store, 100)
                let summary = try ReportStore.backup(store: path, to: backup)
                #expect(summary.reports == 100 && summary.settled == ["work": 100])
                #expect(!FileManager.default.fileExists(atPath: backup + ".partial") && !FileManager.default.fileExists(atPath: backup + "-wal"))
                try fill(store, 150, from: 101)
            }
            let result = try ReportStore.restore(backup: backup, toStore: path)
            #expect(result.summary.reports == 100)
            let aside = try #require(result.movedAside.first { $0.hasSuffix(".sqlite") })
            #expect(aside.contains("koers-replaced-"))
            #expect(try DatabaseQueue(path: aside).read { try Int.fetchOne($0, sql: "SELECT SUM(count) FROM report_batches") } == 150)
            let restored = try ReportStore(path: path)
            #expect(try restored.reportCount() == 100)
            #expect(try restored.settledThrough() == ["work": 100])
        }
    }

    @Test("the data directory's lock: a second holder is refused, naming the first")
    func lock() throws {
        try withDataDirectory { path in
            do {
                let lock = try StoreLock(store: path, purpose: "koers aggregator run")
                #expect {
                    _ = try StoreLock(store: path, purpose: "koers aggregator restore")
                } throws: { e in
                    (e as? StoreProblem)?.code == .locked && "\(e)".contains("pid \(getpid()): koers aggregator run")
                }
                withExtendedLifetime(lock) {}
            }
            _ = try StoreLock(store: path, purpose: "after the first let go")
        }
    }
}
