import Foundation
import GRDB

extension ReportStore {
    /// What a back-up holds: enough for a person to tell one back-up from another.
    public struct BackupSummary: Sendable {
        /// Reports stored.
        public var reports: Int
        /// Each publisher's settled level (`settled_through`).
        public var settled: [String: UInt64]
        /// The last stream sequence.
        public var lastStreamSequence: UInt64
        /// The file's size in bytes.
        public var bytes: Int
    }

    /// Copies the store at `path` into a new file `to` with SQLite's online back-up API,
    /// safe while the aggregator runs: the copy is one consistent snapshot (a read
    /// transaction on the store; the writer is not blocked in WAL mode). The copy is made
    /// as `to.partial`, switched to a rollback journal (one self-contained file), passes
    /// `PRAGMA integrity_check`, is flushed, and only then renamed to `to`.
    ///
    /// - Throws: ``StoreProblem`` when the store is missing or the copy is damaged (the
    ///   store itself is, then: see ``ReportStore/init(path:)``); SQLite's error otherwise.
    @discardableResult
    public static func backup(store path: String, to file: String) throws -> BackupSummary {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreProblem(code: .missing, path: path, message: "no aggregator store at \(path)", fix: "Is --data right?")
        }
        let partial = file + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            let source = try DatabaseQueue(path: path)
            let copy = try DatabaseQueue(path: partial)
            try source.backup(to: copy)
            try source.close()
            try copy.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = DELETE") }
            let summary = try verify(copy, path: partial, restore: "No back-up was written: the store itself is damaged (`koers doctor` checks it); stop the aggregator and restore an older back-up")
            try copy.close()
            try flush(partial)
            try FileManager.default.moveItem(atPath: partial, toPath: file)
            try flush((file as NSString).deletingLastPathComponent.isEmpty ? "." : (file as NSString).deletingLastPathComponent)
            return summary
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    /// `PRAGMA integrity_check` (the full check, indexes too) and the schema of a copy.
    static func verify(_ db: DatabaseQueue, path: String, restore: String) throws(StoreProblem) -> BackupSummary {
        do { return try summarize(db, path: path, restore: restore) } catch let problem as StoreProblem { throw problem } catch {
            throw StoreProblem(code: .damaged, path: path, message: "\(path) cannot be read by SQLite: \(error)", fix: restore, cause: error)
        }
    }

    static func summarize(_ db: DatabaseQueue, path: String, restore: String) throws -> BackupSummary {
        try db.read { db in
            let lines = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            guard lines == ["ok"] else {
                throw StoreProblem(code: .damaged, path: path,
                                   message: "\(path) fails PRAGMA integrity_check: \(lines.prefix(3).joined(separator: "; "))",
                                   fix: restore)
            }
            let tables = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
            let applied = try db.tableExists("grdb_migrations") ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : []
            guard !tables.subtracting(["grdb_migrations"]).isEmpty else {
                throw StoreProblem(code: .empty, path: path, message: "\(path) is an SQLite file without tables, not a store", fix: restore)
            }
            try checkSchema(tables: tables, applied: applied, path: path, created: false, restore: restore)
            return BackupSummary(
                reports: try reportCount(db),
                settled: Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT publisher, acked_through FROM publishers").map {
                    ($0["publisher"] as String, UInt64($0["acked_through"] as Int64))
                }),
                lastStreamSequence: UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM stream") ?? 0),
                bytes: ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0)
        }
    }

    /// What a restore did.
    public struct RestoreResult: Sendable {
        /// What the restored store holds.
        public var summary: BackupSummary
        /// The files moved aside (the replaced store and its WAL, the notifiers' positions), kept, never deleted.
        public var movedAside: [String]
    }

    /// Puts a back-up in place as the store at `path`. The aggregator must not run on it
    /// (hold ``StoreLock`` first). The back-up is copied beside the store, checked there
    /// (`PRAGMA integrity_check` and the schema: the bytes checked are the bytes put in
    /// place), flushed; the current store with its `-wal` and `-shm` is moved aside (an
    /// old WAL beside a new store would be replayed into it), and so is
    /// `notify.sqlite`, whose positions count sequences of the replaced stream; then the
    /// copy is renamed into place.
    public static func restore(backup file: String, toStore path: String, now: Date = Date()) throws -> RestoreResult {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let staging = path + ".restoring"
        for f in [staging, staging + "-journal"] { try? FileManager.default.removeItem(atPath: f) }
        do {
            try FileManager.default.copyItem(atPath: file, toPath: staging)
            let refusal = "Use another back-up; the current store is left as it is"
            let db: DatabaseQueue
            do { db = try DatabaseQueue(path: staging) } catch {
                throw StoreProblem(code: .damaged, path: file, message: "\(file) cannot be opened by SQLite: \(error)", fix: refusal, cause: error)
            }
            let summary = try verify(db, path: file, restore: refusal)
            // One self-contained file: no WAL of the staging copy left behind under its name.
            try db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = DELETE") }
            try db.close()
            for f in [staging + "-wal", staging + "-shm"] { try? FileManager.default.removeItem(atPath: f) }
            try flush(staging)
            let stamp = ISO8601DateFormatter().string(from: now).replacingOccurrences(of: ":", with: "")
            var moved: [String] = []
            let aside = (dir as NSString).appendingPathComponent("koers-replaced-\(stamp).sqlite")
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.moveItem(atPath: path + suffix, toPath: aside + suffix)
                moved.append(aside + suffix)
            }
            let notify = (dir as NSString).appendingPathComponent("notify.sqlite")
            for suffix in ["", "-wal", "-shm", "-journal"] where FileManager.default.fileExists(atPath: notify + suffix) {
                let to = (dir as NSString).appendingPathComponent("notify-replaced-\(stamp).sqlite") + suffix
                try FileManager.default.moveItem(atPath: notify + suffix, toPath: to)
                moved.append(to)
            }
            try FileManager.default.moveItem(atPath: staging, toPath: path)
            try flush(dir)
            try writeMarker(forStore: path)
            return RestoreResult(summary: summary, movedAside: moved)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
    }

    /// fsync a file or a directory: a rename is durable once its directory is flushed.
    static func flush(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }
}

/// An exclusive lock on an aggregator's data directory (`DATA/aggregator/aggregator.lock`,
/// `flock`): held while `koers aggregator run` runs, so a second aggregator, or a restore,
/// on the same directory is refused. The kernel lets it go when the process ends, however
/// it ends (`kill -9` too): a lock file left behind never blocks a start.
public final class StoreLock: Sendable {
    let fd: Int32
    /// The lock file.
    public let path: String

    /// The lock file for the store at `storePath`.
    public static func path(forStore storePath: String) -> String {
        ((storePath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("aggregator.lock")
    }

    /// Takes the lock for the store at `storePath`, or throws saying who holds it.
    ///
    /// - Parameter purpose: what the lock is for, written into the file (`aggregator run`, `restore`).
    public init(store storePath: String, purpose: String) throws {
        path = Self.path(forStore: storePath)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreProblem(code: .missing, path: path, message: "cannot open \(path): \(String(cString: strerror(errno)))",
                               fix: "Check the data directory's owner and mode")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw StoreProblem(code: .locked, path: storePath,
                               message: "another process uses \(storePath)\(holder.isEmpty ? "" : " (\(holder))")",
                               fix: "Stop the aggregator on this data directory first (SIGTERM), or pass the --data of another")
        }
        let text = "pid \(getpid()): \(purpose)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { close(fd) }
}
