import Foundation
import GRDB

/// Why the aggregator's store is not opened: what is wrong with which file, and what to do.
public struct StoreProblem: Error, Sendable, CustomStringConvertible {
    /// What kind of problem it is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public var description: String { raw }
        /// The store is missing where this data directory has held one.
        public static let missing = Code(raw: "missing")
        /// The file is zero bytes long, or an SQLite file without tables, where a store was expected.
        public static let empty = Code(raw: "empty")
        /// The file is not an SQLite database, or SQLite finds it damaged.
        public static let damaged = Code(raw: "damaged")
        /// Tables of the schema are missing, or the schema is of a newer Koers.
        public static let schema = Code(raw: "schema")
        /// Another process (an aggregator, a restore) holds the data directory's lock.
        public static let locked = Code(raw: "locked")
    }

    public var code: Code
    /// The store's file.
    public var path: String
    /// What is wrong.
    public var message: String
    /// What to do.
    public var fix: String
    /// The underlying error (SQLite's), when there is one.
    public var cause: (any Error)?

    /// The message, then what to do.
    public var description: String { "\(message). \(fix)" }
}

extension ReportStore {
    /// What the check at open found, for the start-up log.
    public struct OpenCheck: Sendable {
        /// The store was created by this open (a fresh data directory).
        public var created: Bool
        /// How long `PRAGMA quick_check` took.
        public var quickCheck: Duration
        /// The store's size in pages, and the page size.
        public var pages: Int
        public var pageSize: Int
    }

    /// The tables every migration up to the newest leaves, by migration.
    static let tablesByMigration: [(migration: String, tables: [String])] = [
        ("v1", ["publishers", "reports", "refusals"]),
        ("v2-stream", ["stream", "open_alerts"]),
        ("v3-items", ["items"]),
        ("v4-no-item-index", []),
        ("v5-acknowledgements", ["acknowledgements"]),
        ("v6-stream-alert-index", []),
        ("v7-report-batches", ["report_batches"]),
    ]

    /// The tables a migration removes (its successor holds what they held).
    static let droppedByMigration: [String: [String]] = ["v7-report-batches": ["reports"]]

    /// The file beside the store that says a store was made here (`docs/operations.md`,
    /// "Where data lives"), written when a store is made or first opened by this version.
    public static func markerPath(forStore path: String) -> String { path + ".created" }

    /// Whether this data directory has held a store: its marker. (Not `notify.sqlite`:
    /// the notifiers make it before the store exists when a first start fails.)
    static func storeExpected(at path: String) -> [String] {
        [markerPath(forStore: path)].filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Checks the file before it is opened for writing: a missing or zero-length store
    /// where one was expected, or a file that is not an SQLite database, is refused.
    ///
    /// - Returns: whether the store is new (a fresh data directory).
    static func checkFile(at path: String, restore: String) throws(StoreProblem) -> Bool {
        let expected = storeExpected(at: path)
        let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
        let because = "this data directory has held a store (\(expected.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")) beside it)"
        if size == nil || size == 0 {
            guard expected.isEmpty else {
                throw StoreProblem(code: size == nil ? .missing : .empty, path: path,
                                   message: "\(path) is \(size == nil ? "missing" : "empty (0 bytes)"), but \(because); starting afresh would forget every stored report and acknowledgement",
                                   fix: "Restore the latest back-up: \(restore). Only to start a new, empty store on purpose: remove \(expected.joined(separator: " and "))")
            }
            return true
        }
        let header = FileHandle(forReadingAtPath: path).flatMap { h in defer { try? h.close() }; return try? h.read(upToCount: 16) }
        guard header == Data("SQLite format 3\0".utf8) else {
            throw StoreProblem(code: .damaged, path: path, message: "\(path) is not an SQLite database (its first 16 bytes are not SQLite's header)",
                               fix: "Stop, keep the file for inspection, and restore the latest back-up: \(restore)")
        }
        return false
    }

    /// Checks the open store: `PRAGMA quick_check` (every page of every B-tree; O(size),
    /// measured in `docs/operations.md`, "Back-up and restore"), then the schema: an
    /// SQLite file without tables where a store was expected, tables of a newer Koers, or
    /// a table of an applied migration missing, is refused.
    static func checkOpen(_ db: DatabasePool, path: String, created: Bool, restore: String) throws(StoreProblem) -> OpenCheck {
        let damaged = { (why: String, cause: (any Error)?) in
            StoreProblem(code: .damaged, path: path, message: "\(path) is damaged: \(why)",
                         fix: "The aggregator does not start on a damaged store (it would acknowledge reports into it). Restore the latest back-up: \(restore) (it keeps the damaged file, moved aside); the theme services resend what the back-up lacks",
                         cause: cause)
        }
        do {
            let started = ContinuousClock.now
            let lines = try db.read { try String.fetchAll($0, sql: "PRAGMA quick_check") }
            let took = ContinuousClock.now - started
            guard lines == ["ok"] else {
                throw damaged("PRAGMA quick_check found \(lines.prefix(3).joined(separator: "; "))\(lines.count > 3 ? "; … (\(lines.count) problems)" : "")", nil)
            }
            let (tables, applied, pages, pageSize) = try db.read { db in
                (Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")),
                 try db.tableExists("grdb_migrations") ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : [],
                 try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0, try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0)
            }
            try checkSchema(tables: tables, applied: applied, path: path, created: created, restore: restore)
            return OpenCheck(created: created || tables.isEmpty, quickCheck: took, pages: pages, pageSize: pageSize)
        } catch let problem as StoreProblem {
            throw problem
        } catch {
            throw damaged("SQLite cannot read it (\(error))", error)
        }
    }

    static func checkSchema(tables: Set<String>, applied: [String], path: String, created: Bool, restore: String) throws(StoreProblem) {
        // GRDB makes `grdb_migrations` before the first migration's transaction: a store
        // that holds only it was stopped while being made.
        if tables.subtracting(["grdb_migrations"]).isEmpty && applied.isEmpty {
            let expected = storeExpected(at: path)
            guard created || expected.isEmpty else {
                throw StoreProblem(code: .empty, path: path,
                                   message: "\(path) is an SQLite file without tables, but this data directory has held a store (\(expected.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")))",
                                   fix: "Restore the latest back-up: \(restore)")
            }
            return
        }
        let known = tablesByMigration.map(\.migration)
        guard !applied.isEmpty else {
            throw StoreProblem(code: .schema, path: path, message: "\(path) holds tables (\(tables.sorted().prefix(5).joined(separator: ", "))) but is not a Koers store (no migration record)",
                               fix: "Check --data; restore the aggregator's store from the latest back-up: \(restore)")
        }
        if let newer = applied.first(where: { !known.contains($0) }) {
            throw StoreProblem(code: .schema, path: path, message: "\(path) was written by a newer Koers (schema migration `\(newer)`)",
                               fix: "Run the Koers version that wrote it, or restore a back-up made by this one: \(restore)")
        }
        let dropped = Set(applied.flatMap { droppedByMigration[$0] ?? [] })
        let missing = tablesByMigration.filter { applied.contains($0.migration) }.flatMap(\.tables).filter { !tables.contains($0) && !dropped.contains($0) }
        guard missing.isEmpty else {
            throw StoreProblem(code: .schema, path: path, message: "\(path) lacks the table\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) that its schema should have",
                               fix: "Restore the latest back-up: \(restore)")
        }
    }

    /// SQLite's full `PRAGMA integrity_check` (indexes too; `koers doctor`), on a
    /// read-only connection: `["ok"]`, or the problems found. The aggregator may be running.
    public static func integrityCheck(path: String) throws -> [String] {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        let db = try DatabaseQueue(path: path, configuration: config)
        defer { try? db.close() }
        return try db.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
    }

    /// How to restore this store, for the messages: `koers aggregator restore` with its data directory.
    static func restoreCommand(forStore path: String) -> String {
        let dir = (path as NSString).deletingLastPathComponent
        let data = (dir as NSString).lastPathComponent == "aggregator" ? (dir as NSString).deletingLastPathComponent : "DATA"
        return "`koers aggregator restore BACKUP.sqlite --data \(data.isEmpty ? "." : data)` (docs/operations.md, \"Back-up and restore\")"
    }

    /// Writes the marker that a store was made here, once.
    static func writeMarker(forStore path: String) throws {
        let marker = markerPath(forStore: path)
        guard !FileManager.default.fileExists(atPath: marker) else { return }
        let text = "Koers made its store here (\((path as NSString).lastPathComponent)) on \(ISO8601DateFormatter().string(from: Date())).\n"
            + "While this file exists, a missing or empty store is refused rather than started afresh (docs/operations.md).\n"
        try text.write(toFile: marker, atomically: true, encoding: .utf8)
    }
}
