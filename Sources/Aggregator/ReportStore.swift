import Feed
import Foundation
import Logging
import GRDB
import GRDBSQLite
import History
import Plan
import Synchronization
import Status
import Wire

/// The aggregator's durable store (SQLite, WAL, `synchronous = FULL`).
///
/// One transaction per ingest batch holds every report and refusal of the batch and
/// each publisher's new acknowledgement level; the ACKs go out only after it commits.
public final class ReportStore: Sendable {
    let db: DatabasePool
    public let path: String

    /// A report accepted for storage (one type with what a batch row gives back).
    public typealias StoredReport = ReportBatch.Entry

    /// A report refused with a NACK; its sequence is used up.
    public struct Refusal: Sendable {
        public var publisher: String
        public var sequence: UInt64
        public var reason: ReasonCode
        public var detail: String
        public var payload: [UInt8]
        public var at: Int64
    }

    /// What the check at open found (``OpenCheck``), for the start-up log.
    public let openCheck: OpenCheck

    /// Opens the store at `path`, creating it in a fresh data directory, after checking it.
    ///
    /// - Throws: ``StoreProblem`` when the store is damaged (`PRAGMA quick_check`), not an
    ///   SQLite database, of another schema, or missing or empty where this directory has
    ///   held a store; the message says how to restore it.
    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let restore = Self.restoreCommand(forStore: path)
        let created = try Self.checkFile(at: path, restore: restore)
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Checkpoints run on their own connection (`startCheckpoints`), not in the
            // commit that happens to cross SQLite's threshold; this one is the fallback.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
        }
        do { db = try DatabasePool(path: path, configuration: config) } catch {
            throw StoreProblem(code: .damaged, path: path, message: "\(path) cannot be opened: \(error)",
                               fix: "If it is damaged, restore the latest back-up: \(restore)", cause: error)
        }
        // GRDB's pool sets `synchronous = NORMAL` on the writer when it turns WAL on, after
        // `prepareDatabase`: NORMAL does not sync the WAL at commit, so an acknowledged batch
        // could be lost to a power cut. Set FULL again, on the writer, once it is open.
        try db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        openCheck = try Self.checkOpen(db, path: path, created: created, restore: restore)
        try Self.migrator.migrate(db)
        try Self.writeMarker(forStore: path)
    }

    /// The schema, one migration per change, in order (`docs/operations.md`, "Where data lives").
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE publishers (
                    publisher TEXT PRIMARY KEY,
                    acked_through INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE TABLE reports (
                    publisher TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    type INTEGER NOT NULL,
                    item TEXT NOT NULL,
                    value REAL NOT NULL,
                    date TEXT NOT NULL,
                    period_start TEXT,
                    reported_at INTEGER NOT NULL,
                    received_at INTEGER NOT NULL,
                    note TEXT,
                    reporter TEXT,
                    payload BLOB NOT NULL,
                    PRIMARY KEY (publisher, seq)
                ) WITHOUT ROWID;
                CREATE INDEX reports_item ON reports(item, date);
                CREATE TABLE refusals (
                    publisher TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    reason INTEGER NOT NULL,
                    detail TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    at INTEGER NOT NULL,
                    PRIMARY KEY (publisher, seq)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2-stream") { db in
            try db.execute(sql: """
                CREATE TABLE stream (
                    seq INTEGER PRIMARY KEY,
                    type INTEGER NOT NULL,
                    topic TEXT NOT NULL,
                    document TEXT NOT NULL,
                    at INTEGER NOT NULL
                );
                CREATE TABLE open_alerts (key TEXT PRIMARY KEY, document TEXT NOT NULL) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3-items") { db in
            // Per item, the first and the latest observation, kept with each commit, so a
            // restart reads one row per item instead of every report ever stored.
            try db.execute(sql: """
                CREATE TABLE items (
                    item TEXT PRIMARY KEY,
                    first_value REAL NOT NULL, first_date TEXT NOT NULL, first_publisher TEXT NOT NULL,
                    latest_value REAL NOT NULL, latest_date TEXT NOT NULL, latest_publisher TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
            try db.execute(sql: "INSERT INTO items " + Self.itemObservationsOfReportRows)
        }
        migrator.registerMigration("v4-no-item-index") { db in
            // Only a replay looked reports up by item, and it sorts them anyway; the index
            // cost a B-tree insert per report on the ingest path.
            try db.execute(sql: "DROP INDEX IF EXISTS reports_item")
        }
        migrator.registerMigration("v5-acknowledgements") { db in
            // Every acknowledgement, with the key that made it, the person it names and
            // why: the stream carries the transition, this table is the log of decisions.
            try db.execute(sql: """
                CREATE TABLE acknowledgements (
                    seq INTEGER PRIMARY KEY,
                    alert TEXT NOT NULL,
                    identity TEXT NOT NULL,
                    by TEXT,
                    reason TEXT NOT NULL,
                    until TEXT,
                    date TEXT NOT NULL,
                    at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v6-stream-alert-index") { db in
            // The notifiers read the alert transitions after their position; without this
            // they scanned every stream row (mostly status changes) to find them. Partial:
            // only an alert transition's row (type 0x40) costs an index entry on ingest.
            try db.execute(sql: "CREATE INDEX stream_alert_transitions ON stream(seq) WHERE type = \(Int(MessageType.alertTransition.rawValue))")
        }
        migrator.registerMigration("v7-report-batches") { db in
            try Self.packReports(db)
        }
        return migrator
    }

    /// For `v3-items`: per item, the first and the latest observation by the status
    /// engine's rule (the latest has the latest date, and of those the last received; the
    /// first the earliest date, and of those the first received), over the `reports`
    /// table of a row per report that stores had until `v7-report-batches`. One publisher
    /// owns an item and numbers its reports in sending order, so (received_at, seq) is
    /// the order of arrival.
    static let itemObservationsOfReportRows = """
        WITH r AS (
            SELECT item, value, date, publisher,
                   ROW_NUMBER() OVER (PARTITION BY item ORDER BY date ASC, received_at ASC, publisher ASC, seq ASC) AS f,
                   ROW_NUMBER() OVER (PARTITION BY item ORDER BY date DESC, received_at DESC, publisher DESC, seq DESC) AS l
            FROM reports
        )
        SELECT a.item, a.value, a.date, a.publisher, b.value, b.date, b.publisher
        FROM r a JOIN r b ON a.item = b.item AND a.f = 1 AND b.l = 1
        """

    /// `v7-report-batches`: the reports move from a row each into a row per publisher and
    /// batch (`History.ReportBatch`): the stored runs of one publisher's reports received
    /// together, at most 1,024 to a row, in the order they arrived.
    static func packReports(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE report_batches (
                id INTEGER PRIMARY KEY,
                publisher TEXT NOT NULL,
                first_seq INTEGER NOT NULL,
                last_seq INTEGER NOT NULL,
                count INTEGER NOT NULL,
                reports BLOB NOT NULL
            );
            CREATE UNIQUE INDEX report_batches_seq ON report_batches(publisher, first_seq);
            """)
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM reports ORDER BY received_at, publisher, seq")
        var run: [StoredReport] = []
        while let row = try rows.next() {
            let r = Self.report(row)
            if let last = run.last, last.publisher != r.publisher || last.receivedAt != r.receivedAt || run.count == 1_024 {
                try insertBatch(run, into: db)
                run.removeAll(keepingCapacity: true)
            }
            run.append(r)
        }
        try insertBatch(run, into: db)
        try db.execute(sql: "DROP TABLE reports")
    }

    /// One publisher's reports, in arrival order, as one row.
    static func insertBatch(_ reports: some Collection<StoredReport>, into db: Database) throws {
        guard let first = reports.first else { return }
        let statement = try db.cachedStatement(sql: "INSERT INTO report_batches (publisher, first_seq, last_seq, count, reports) VALUES (?, ?, ?, ?, ?)")
        let row = RowBinder(statement.sqliteStatement, db)
        var blob = ReportBatch.Writer(capacity: reports.count), last = first.sequence
        for r in reports {
            blob.append(r)
            last = max(last, r.sequence)
        }
        try row.run {
            $0.text(1, first.publisher); $0.int(2, Int64(first.sequence)); $0.int(3, Int64(last))
            $0.int(4, Int64(reports.count)); $0.blob(5, blob.bytes)
        }
    }

    /// Appends the stream messages of an acknowledgement and its log entry (the type
    /// `StoreHistory` reads back) in one transaction, both at `ack.at`. The entry is keyed
    /// by `ack.sequence`, the sequence of the transition's stream message (the last of
    /// `records`); its dates are stored as `YYYY-MM-DD`.
    public func appendAcknowledgement(_ ack: StoreHistory.Acknowledgement, stream records: [StreamRecord]) throws {
        assert(records.last?.sequence == ack.sequence, "an acknowledgement is keyed by its transition's stream sequence")
        try db.write { db in
            try Self.insert(records, at: ack.at, into: db)
            try db.execute(sql: "INSERT INTO acknowledgements (seq, alert, identity, by, reason, until, date, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [Int64(ack.sequence), ack.alert, ack.identity, ack.by, ack.reason, ack.until?.iso, ack.date.iso, ack.at])
        }
    }

    /// Each stream topic's latest sequence (for the per-topic `previous` links).
    public func lastTopicSequences() throws -> [String: UInt64] {
        try db.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT topic, MAX(seq) AS seq FROM stream GROUP BY topic").map {
                ($0["topic"] as String, UInt64($0["seq"] as Int64))
            })
        }
    }

    /// Copies the write-ahead log into the database every `interval` from a thread and a
    /// connection of its own, until ``stopCheckpoints()``. A checkpoint flushes the database
    /// file, milliseconds that would otherwise land on whichever commit crossed SQLite's
    /// threshold and on the acknowledgement waiting for it. A passive checkpoint does not
    /// block the writer.
    public func startCheckpoints(every interval: Duration) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: config)
        let stop = checkpointStop
        Thread {
            while !stop.value.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
                _ = try? queue.writeWithoutTransaction { try $0.checkpoint(.passive) }
            }
        }.start()
    }

    public func stopCheckpoints() { checkpointStop.value.store(true, ordering: .relaxed) }

    /// Folds the whole write-ahead log into the database and empties it (a clean stop).
    public func foldLog(logger: Logger) {
        do {
            _ = try db.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        } catch {
            logger.warning("the write-ahead log was not folded in at stop; the next start does it", metadata: ["error": "\(error)"])
        }
    }

    final class Flag: Sendable { let value = Atomic<Bool>(false) }
    let checkpointStop = Flag()

    /// One numbered message of the operators' stream, as stored.
    public struct StreamRecord: Sendable {
        public var sequence: UInt64
        public var type: MessageType
        public var topic: String
        public var document: String
        /// For an alert transition: the alert's key, and the alert's document while it is
        /// open (nil once resolved); kept in `open_alerts` for restarts.
        public var alert: (key: String, openDocument: String?)?
        /// The document as a value, for the parts that follow the stream in-process.
        public var content: FeedDocument.Content?
        /// When the report that caused it was received.
        public var receivedAt: ContinuousClock.Instant?

        /// The message as the stream's subscribers receive it, without what only the store needs.
        public var forPublishing: FeedDocument {
            FeedDocument(sequence: sequence, kind: type == .statusChange ? .statusChange : .alertTransition, topic: topic,
                         json: document, content: content, receivedAt: receivedAt)
        }

        public init(sequence: UInt64, type: MessageType, topic: String, document: String, alert: (key: String, openDocument: String?)? = nil,
                    content: FeedDocument.Content? = nil, receivedAt: ContinuousClock.Instant? = nil) {
            self.sequence = sequence
            self.type = type
            self.topic = topic
            self.document = document
            self.alert = alert
            self.content = content
            self.receivedAt = receivedAt
        }
    }

    /// Appends numbered stream messages and keeps the table of open alerts current.
    public func appendStream(_ records: [StreamRecord], at: Int64) throws {
        guard !records.isEmpty else { return }
        try db.write { db in try Self.insert(records, at: at, into: db) }
    }

    static func insert(_ records: [StreamRecord], at: Int64, into db: Database) throws {
        guard !records.isEmpty else { return }
        let insert = try db.cachedStatement(sql: "INSERT INTO stream (seq, type, topic, document, at) VALUES (?, ?, ?, ?, ?)")
        let open = try db.cachedStatement(sql: """
            INSERT INTO open_alerts (key, document) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET document = excluded.document
            """)
        let close = try db.cachedStatement(sql: "DELETE FROM open_alerts WHERE key = ?")
        for r in records {
            try insert.execute(arguments: [Int64(r.sequence), Int(r.type.rawValue), r.topic, r.document, at])
            guard let (key, document) = r.alert else { continue }
            if let document {
                try open.execute(arguments: [key, document])
            } else {
                try close.execute(arguments: [key])
            }
        }
    }

    /// The highest stream sequence stored (0 if none).
    public func lastStreamSequence() throws -> UInt64 {
        try db.read { db in UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM stream") ?? 0) }
    }

    /// Alerts not resolved, as last stored. Read by ``StoredAlertReader`` (a restart with a
    /// large plan restores 100,000 of them); a document it does not recognise goes through
    /// `JSONDecoder` as before, and one neither can read is left out, as before.
    public func openAlerts() throws -> [Alert] {
        try db.read { db in
            try String.fetchAll(db, sql: "SELECT document FROM open_alerts ORDER BY key").compactMap {
                StoredAlertReader.alert($0) ?? (try? JSONDecoder().decode(Alert.self, from: Data($0.utf8)))
            }
        }
    }

    /// Per item, the first and the latest observation, for rebuilding the status: the
    /// `items` table, one row per item, kept with every commit.
    public func itemObservations() throws -> [String: (first: StatusModel.Observation, latest: StatusModel.Observation)] {
        try db.read { db in try StoreHistory.observations(try Row.fetchCursor(db, sql: "SELECT * FROM items")) }
    }

    /// Each publisher's acknowledgement level: everything up to it is stored or refused.
    public func settledThrough() throws -> [String: UInt64] {
        try db.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT publisher, acked_through FROM publishers").map {
                ($0["publisher"] as String, UInt64($0["acked_through"] as Int64))
            })
        }
    }

    /// Stores a batch in one transaction: its reports and refusals, each publisher's new
    /// acknowledgement level, and the stream messages the batch causes, so the stream
    /// log never misses or outruns what was stored.
    public func commit(reports: [StoredReport], refusals: [Refusal], acked: [String: UInt64],
                       stream: [StreamRecord] = [], at streamAt: Int64 = 0) throws {
        try db.write { db in
            try Self.insert(stream, at: streamAt, into: db)
            // One row per publisher: its reports of the batch, in arrival order.
            // By index: a report is a dozen references, and copying them showed in the profile.
            var byPublisher: [String: [Int]] = [:]
            for i in reports.indices { byPublisher[reports[i].publisher, default: []].append(i) }
            for p in byPublisher.keys.sorted() { try Self.insertBatch(byPublisher[p]!.lazy.map { reports[$0] }, into: db) }
            let refuse = try db.cachedStatement(sql: "INSERT INTO refusals (publisher, seq, reason, detail, payload, at) VALUES (?, ?, ?, ?, ?, ?)")
            for r in refusals {
                try refuse.execute(arguments: [r.publisher, Int64(r.sequence), Int(r.reason.rawValue), r.detail, Data(r.payload), r.at])
            }
            let level = try db.cachedStatement(sql: """
                INSERT INTO publishers (publisher, acked_through) VALUES (?, ?)
                ON CONFLICT(publisher) DO UPDATE SET acked_through = excluded.acked_through
                """)
            for (p, n) in acked { try level.execute(arguments: [p, Int64(n)]) }
            // The batch's effect on each item's first and latest observation, folded in
            // arrival order first (the engine's rule), then one upsert per item.
            var touched = ObservationFold()
            for r in reports { touched.add(item: r.item, StatusModel.Observation(value: r.value, date: r.date, publisher: r.publisher)) }
            let item = try db.cachedStatement(sql: """
                INSERT INTO items (item, first_value, first_date, first_publisher, latest_value, latest_date, latest_publisher)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(item) DO UPDATE SET
                    first_value = CASE WHEN excluded.first_date < first_date THEN excluded.first_value ELSE first_value END,
                    first_publisher = CASE WHEN excluded.first_date < first_date THEN excluded.first_publisher ELSE first_publisher END,
                    first_date = MIN(first_date, excluded.first_date),
                    latest_value = CASE WHEN excluded.latest_date >= latest_date THEN excluded.latest_value ELSE latest_value END,
                    latest_publisher = CASE WHEN excluded.latest_date >= latest_date THEN excluded.latest_publisher ELSE latest_publisher END,
                    latest_date = MAX(latest_date, excluded.latest_date)
                """)
            for (id, o) in touched.items {
                try item.execute(arguments: [id, o.first.value, o.first.date.iso, o.first.publisher, o.latest.value, o.latest.date.iso, o.latest.publisher])
            }
        }
    }

    /// What a publisher sent under a sequence before: the payload and, if it was
    /// refused, why. Used to tell a harmless resend from a conflicting one.
    public func earlier(publisher: String, sequence: UInt64) throws -> (payload: [UInt8], refusal: (ReasonCode, String)?)? {
        try db.read { db in
            // The row whose run starts at or before the sequence, the latest such.
            if let blob = try Data.fetchOne(db, sql: """
                SELECT reports FROM report_batches WHERE publisher = ? AND first_seq <= ? AND last_seq >= ?
                ORDER BY first_seq DESC LIMIT 1
                """, arguments: [publisher, Int64(sequence), Int64(sequence)]),
               let e = try ReportBatch.decode([UInt8](blob), publisher: publisher).first(where: { $0.sequence == sequence }) {
                return (e.payload, nil)
            }
            if let r = try Row.fetchOne(db, sql: "SELECT payload, reason, detail FROM refusals WHERE publisher = ? AND seq = ?",
                                        arguments: [publisher, Int64(sequence)]) {
                return ([UInt8](r["payload"] as Data), (ReasonCode(rawValue: UInt16(r["reason"] as Int)), r["detail"] as String))
            }
            return nil
        }
    }

    /// Stored reports, in the order they arrived (for replay, status and tests).
    public func reports(publisher: String? = nil) throws -> [StoredReport] {
        try db.read { db in
            let rows = publisher == nil
                ? try Row.fetchCursor(db, sql: "SELECT publisher, reports FROM report_batches ORDER BY id")
                : try Row.fetchCursor(db, sql: "SELECT publisher, reports FROM report_batches WHERE publisher = ? ORDER BY first_seq", arguments: [publisher])
            var out: [StoredReport] = []
            while let row = try rows.next() {
                let p: String = row[0]
                out += try ReportBatch.decode([UInt8](row[1] as Data), publisher: p)
            }
            return out
        }
    }

    /// A row of the `reports` table that `v7-report-batches` packs.
    static func report(_ r: Row) -> StoredReport {
        StoredReport(publisher: r["publisher"], sequence: UInt64(r["seq"] as Int64), type: MessageType(rawValue: UInt8(r["type"] as Int))!,
                     item: r["item"], value: r["value"], date: PlanDate(iso: r["date"]) ?? PlanDate(daysSinceEpoch: 0),
                     periodStart: (r["period_start"] as String?).flatMap(PlanDate.init(iso:)),
                     reportedAt: r["reported_at"], receivedAt: r["received_at"], note: r["note"], reporter: r["reporter"],
                     payload: [UInt8](r["payload"] as Data))
    }

    /// How many reports are stored.
    public func reportCount() throws -> Int {
        try db.read { db in try Self.reportCount(db) }
    }

    /// How many reports a store holds, before `v7-report-batches` (a back-up of an
    /// older Koers) or after.
    static func reportCount(_ db: Database) throws -> Int {
        try db.tableExists("report_batches")
            ? Int.fetchOne(db, sql: "SELECT COALESCE(SUM(count), 0) FROM report_batches") ?? 0
            : Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reports") ?? 0
    }
}

/// Binds one row's values to a prepared statement with SQLite's C API and runs it.
struct RowBinder {
    let statement: OpaquePointer
    let db: Database
    /// SQLite copies the bytes before the call returns.
    static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    init(_ statement: OpaquePointer, _ db: Database) {
        self.statement = statement
        self.db = db
    }

    func run(_ bind: (RowBinder) -> Void) throws {
        _ = sqlite3_reset(statement)
        bind(self)
        let code = sqlite3_step(statement)
        _ = sqlite3_reset(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    // Binding a valid index of a prepared statement cannot fail; the step reports any error.
    func int(_ i: Int32, _ v: Int64) { _ = sqlite3_bind_int64(statement, i, v) }
    func double(_ i: Int32, _ v: Double) { _ = sqlite3_bind_double(statement, i, v) }

    func text(_ i: Int32, _ v: String?) {
        guard var v else { _ = sqlite3_bind_null(statement, i); return }
        v.withUTF8 { b in
            // An empty buffer may have no address, which SQLite would store as NULL.
            if b.isEmpty { _ = sqlite3_bind_text(statement, i, "", 0, Self.transient) } else {
                _ = b.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(statement, i, $0.baseAddress, Int32($0.count), Self.transient) }
            }
        }
    }

    func blob(_ i: Int32, _ v: [UInt8]) {
        v.withUnsafeBytes { b in
            if b.isEmpty { _ = sqlite3_bind_zeroblob(statement, i, 0) } else { _ = sqlite3_bind_blob(statement, i, b.baseAddress, Int32(b.count), Self.transient) }
        }
    }
}

extension ReportStore {
    /// The writer's `PRAGMA synchronous` (2 is FULL: every commit syncs the WAL).
    func writerSynchronous() throws -> Int {
        try db.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }
    }
}
