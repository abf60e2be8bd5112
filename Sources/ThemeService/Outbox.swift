import Foundation
import GRDB
import Wire

/// The theme service's durable outbox (SQLite in WAL mode).
///
/// Every report is stored, with its per-publisher sequence, before anything is sent;
/// it stays until the aggregator acknowledges it and is kept afterwards as the team's
/// record. Sequences come from SQLite (`AUTOINCREMENT`) inside the inserting
/// transaction, so they only grow, across restarts and across processes (the CLI and
/// the running service write the same file). Commits are `synchronous = FULL`.
public final class Outbox: Sendable {
    /// Where a report stands.
    public enum State: String, Sendable { case pending, acked, refused }

    /// One stored report.
    public struct Entry: Sendable, Hashable {
        public var sequence: UInt64
        public var type: MessageType
        public var item: String
        /// The encoded payload frame, sent unchanged on every resend.
        public var payload: [UInt8]
        public var createdAt: Int64
        public var state: State
        public var reason: ReasonCode?
        public var detail: String?
    }

    /// What `koers theme status` shows.
    public struct Summary: Sendable {
        public var pending: Int
        public var acked: Int
        public var refused: [Entry]
        public var lastSequence: UInt64
        public var settledThrough: UInt64
        public var lastContact: Int64?
        public var lastProblem: String?
        /// The running service's latest connection diagnosis (``recordDiagnosis(_:sentence:now:)``).
        public var diagnosis: Diagnosis?
    }

    /// Why the service is or is not connected, as it last recorded it.
    public struct Diagnosis: Sendable, Hashable {
        /// A `ConnectionDiagnosis.Verdict` raw value: `connected`, `nothing_listening`,
        /// `server_key_wrong` or `client_key_not_trusted`.
        public var verdict: String
        /// The sentence for a person.
        public var sentence: String
        /// When it was recorded, ms since the Unix epoch.
        public var at: Int64
    }

    let db: DatabasePool
    /// The file.
    public let path: String

    /// Opens (creating when needed) the outbox at `path`, after checking it.
    ///
    /// - Throws: ``OutboxProblem`` when the file is damaged (`PRAGMA quick_check`), not
    ///   an outbox, or missing or empty where an outbox was made before (its marker
    ///   `outbox.sqlite.created` is beside it): a new outbox would number reports from 1
    ///   again, and the aggregator would refuse them as conflicting resends.
    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let marker = path + ".created"
        let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
        if size ?? 0 == 0 && FileManager.default.fileExists(atPath: marker) {
            throw OutboxProblem(path: path, message: "\(path) is \(size == nil ? "missing" : "empty (0 bytes)"), but an outbox was made here (\(marker) says when)")
        }
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            db = try DatabasePool(path: path, configuration: config)
            // GRDB's pool sets `synchronous = NORMAL` on the writer when it turns WAL on, after
            // `prepareDatabase`: NORMAL does not sync the WAL at commit, so an acknowledged batch
            // could be lost to a power cut. Set FULL again, on the writer, once it is open.
            try db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            let lines = try db.read { try String.fetchAll($0, sql: "PRAGMA quick_check") }
            guard lines == ["ok"] else {
                throw OutboxProblem(path: path, message: "\(path) is damaged: PRAGMA quick_check found \(lines.prefix(3).joined(separator: "; "))")
            }
            let (tables, applied) = try db.read { db in
                (Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")),
                 try db.tableExists("grdb_migrations") ? Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")) : [])
            }
            // GRDB makes `grdb_migrations` before the migration's transaction: a file that
            // holds only it is one another process is creating right now.
            let own = tables.subtracting(["grdb_migrations", "sqlite_sequence"])
            if (!own.isEmpty && !tables.contains("grdb_migrations")) || (applied.contains("v1") && !own.isSuperset(of: ["reports", "meta"])) {
                throw OutboxProblem(path: path, message: "\(path) is not a theme service's outbox, or tables are missing (its tables are \(tables.sorted().joined(separator: ", ")))")
            }
        } catch let problem as OutboxProblem {
            throw problem
        } catch {
            throw OutboxProblem(path: path, message: "\(path) is damaged: SQLite cannot read it (\(error))")
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE reports (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    type INTEGER NOT NULL,
                    item TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acked', 'refused')),
                    reason INTEGER,
                    detail TEXT,
                    settled_at INTEGER
                );
                CREATE INDEX reports_state ON reports(state, seq);
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        try migrator.migrate(db)
        if !FileManager.default.fileExists(atPath: marker) {
            try "Koers made this theme's outbox here on \(ISO8601DateFormatter().string(from: Date())); while this file exists a missing or empty outbox is refused.\n"
                .write(toFile: marker, atomically: true, encoding: .utf8)
        }
    }

    /// Stores reports in one transaction (all or none) and returns their sequences.
    @discardableResult
    public func enqueue(_ payloads: [Payload], now: Int64) throws -> [UInt64] {
        let codec = WireCodec()
        return try db.write { db in
            var seqs: [UInt64] = []
            for p in payloads {
                let item: String
                switch p {
                case .milestoneProgress(let m): item = m.item
                case .indicatorMeasurement(let m): item = m.item
                default: preconditionFailure("only reports go into the outbox")
                }
                try db.execute(sql: "INSERT INTO reports (type, item, payload, created_at) VALUES (?, ?, ?, ?)",
                               arguments: [Int(p.type.rawValue), item, Data(codec.encodePayload(p)), now])
                seqs.append(UInt64(db.lastInsertedRowID))
            }
            return seqs
        }
    }

    /// Reports with a sequence of at least `from`, in order, whatever their state (the
    /// aggregator decides; see `docs/protocol.md` §4).
    public func entries(from: UInt64, limit: Int) throws -> [Entry] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM reports WHERE seq >= ? ORDER BY seq LIMIT ?", arguments: [Int64(from), limit]).map(Self.entry)
        }
    }

    static func entry(_ r: Row) -> Entry {
        Entry(sequence: UInt64(r["seq"] as Int64), type: MessageType(rawValue: UInt8(r["type"] as Int))!, item: r["item"],
              payload: [UInt8](r["payload"] as Data), createdAt: r["created_at"], state: State(rawValue: r["state"])!,
              reason: (r["reason"] as Int?).map { ReasonCode(rawValue: UInt16($0)) }, detail: r["detail"])
    }

    /// The highest sequence assigned (0 if none).
    public func lastSequence() throws -> UInt64 {
        try db.read { db in UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM reports") ?? 0) }
    }

    /// Reports not yet acknowledged or refused.
    public func pendingCount() throws -> Int {
        try db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reports WHERE state = 'pending'") ?? 0 }
    }

    /// Marks every pending report up to `through` acknowledged and remembers the aggregator's figure.
    public func markAcked(through: UInt64, now: Int64) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE reports SET state = 'acked', settled_at = ? WHERE state = 'pending' AND seq <= ?",
                           arguments: [now, Int64(through)])
            let before = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'acked_through'").flatMap(UInt64.init) ?? 0
            try Self.set(db, "acked_through", String(max(before, through)))
            try Self.set(db, "last_contact", String(now))
        }
    }

    /// The lowest sequence still pending: sent perhaps, its fate not yet known here.
    public func firstPending() throws -> UInt64? {
        try db.read { db in try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM reports WHERE state = 'pending'").map(UInt64.init) }
    }

    /// Marks one report refused, with the aggregator's reason.
    public func markRefused(_ seq: UInt64, reason: ReasonCode, detail: String, now: Int64) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE reports SET state = 'refused', reason = ?, detail = ?, settled_at = ? WHERE seq = ?",
                           arguments: [Int(reason.rawValue), detail, now, Int64(seq)])
            try Self.set(db, "last_contact", String(now))
        }
    }

    /// Records that the aggregator was heard from.
    public func recordContact(now: Int64) throws {
        try db.write { db in try Self.set(db, "last_contact", String(now)) }
    }

    /// Records a problem the team should see (an authentication refusal, say); nil clears it.
    public func recordProblem(_ text: String?) throws {
        try db.write { db in
            if let text { try Self.set(db, "last_problem", text) } else { try db.execute(sql: "DELETE FROM meta WHERE key = 'last_problem'") }
        }
    }

    /// Records the running service's connection diagnosis for `koers theme status`.
    public func recordDiagnosis(_ verdict: String, sentence: String, now: Int64) throws {
        try db.write { db in
            try Self.set(db, "diagnosis", verdict)
            try Self.set(db, "diagnosis_sentence", sentence)
            try Self.set(db, "diagnosis_at", String(now))
        }
    }

    static func set(_ db: Database, _ key: String, _ value: String) throws {
        try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       arguments: [key, value])
    }

    /// Everything `koers theme status` shows.
    public func summary(refusedLimit: Int = 20) throws -> Summary {
        try db.read { db in
            let meta = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT key, value FROM meta").map { ($0["key"] as String, $0["value"] as String) })
            return Summary(
                pending: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reports WHERE state = 'pending'") ?? 0,
                acked: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reports WHERE state = 'acked'") ?? 0,
                refused: try Row.fetchAll(db, sql: "SELECT * FROM reports WHERE state = 'refused' ORDER BY seq DESC LIMIT ?",
                                          arguments: [refusedLimit]).map(Self.entry),
                lastSequence: UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM reports") ?? 0),
                settledThrough: meta["acked_through"].flatMap(UInt64.init) ?? 0,
                lastContact: meta["last_contact"].flatMap(Int64.init),
                lastProblem: meta["last_problem"],
                diagnosis: meta["diagnosis"].map { Diagnosis(verdict: $0, sentence: meta["diagnosis_sentence"] ?? "",
                                                              at: meta["diagnosis_at"].flatMap(Int64.init) ?? 0) })
        }
    }
}

extension Outbox {
    /// The writer's `PRAGMA synchronous` (2 is FULL: every commit syncs the WAL).
    func writerSynchronous() throws -> Int {
        try db.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }
    }
}

/// Why an outbox is not opened. Nothing is sent from, or queued into, a damaged outbox:
/// the reports it holds are the team's only copy of what the aggregator has not settled.
public struct OutboxProblem: Error, Sendable, CustomStringConvertible {
    /// The outbox file.
    public var path: String
    /// What is wrong.
    public var message: String

    /// The message, then what to do.
    public var description: String {
        "\(message). Stop the theme service, move \((path as NSString).lastPathComponent)* aside (keep it: it holds the reports), "
            + "and restore the outbox from a back-up; the aggregator keeps everything it acknowledged "
            + "(docs/operations.md, \"Back-up and restore\")"
    }
}
