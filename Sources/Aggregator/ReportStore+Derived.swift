import Foundation
import GRDB
import History
import Plan
import Status
import Synchronization

/// The derived tables, written after the rows they derive from.
///
/// `items` (each item's first and latest observation), `open_alerts` (each open alert's
/// latest document) and `publishers` (each publisher's acknowledgement level) are there so
/// that a restart reads a row per item, alert and publisher instead of every report and
/// transition ever stored. Kept in every batch's transaction, they cost it more than its
/// own rows: a random leaf of `items` per item reported and of `open_alerts` per alert
/// transition, each a 4 KB frame in the write-ahead log beside the few the batch's rows
/// take, written and synced before the batch is acknowledged (`docs/benchmarks.md`,
/// "Fewer pages per commit").
///
/// So a batch's transaction holds its own rows only (its reports, refusals and stream
/// messages), and the derived tables are brought up to date later, for everything since
/// they last were: inside a write's own transaction once `foldAfter` records wait (no
/// sync of its own; each item, alert and publisher written once however often it moved),
/// and at a clean stop (``foldDerived()``). `derived_through` says which batch row and
/// stream message they reflect up to.
/// Every reader (``itemObservations()``, ``openAlerts()``, ``settledThrough()``) folds in
/// the rows after it, so what a reader gets never depends on when the last fold ran, and
/// a crash between two folds loses nothing: the rows are the truth, the tables a summary.
/// (Not on a timer: a fold of its own is a transaction and a sync of its own, in front of
/// whichever report arrives just then; folded by count, it rides on a write that syncs anyway.)
extension ReportStore {
    /// Records (reports and stream messages) written since the last fold at which a write
    /// folds them in its own transaction. What a restart may read beyond the tables stays
    /// that small (milliseconds); a fold costs the commit that makes it the pages of the
    /// items and alerts those records moved, once each (`docs/benchmarks.md`, "Fewer pages
    /// per commit").
    static let foldAfter = 4_096

    /// How many records the derived tables lack (an estimate: what the writes since the
    /// last fold added; the tables and `derived_through` are the truth).
    final class DerivedState: Sendable {
        let pending = Atomic<Int>(0)
        func folded() { pending.store(0, ordering: .relaxed) }
    }

    /// `v8-derived-later`: the stream row of an alert transition says which alert it moves
    /// and where its open document is, so the open alerts can be folded from the stream;
    /// `derived_through` starts at what the tables already reflect (everything).
    static func migrateDerivedLater(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE stream ADD COLUMN alert_key TEXT;
            ALTER TABLE stream ADD COLUMN alert_open INTEGER;
            ALTER TABLE stream ADD COLUMN alert_document TEXT;
            CREATE TABLE derived_through (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                batch_id INTEGER NOT NULL,
                stream_seq INTEGER NOT NULL
            );
            INSERT INTO derived_through (id, batch_id, stream_seq)
                VALUES (1, (SELECT IFNULL(MAX(id), 0) FROM report_batches), (SELECT IFNULL(MAX(seq), 0) FROM stream));
            """)
    }

    /// The last batch row and stream message the derived tables reflect; nil in a store
    /// from before `v8-derived-later` (a back-up of an older Koers), whose tables reflect all.
    static func derivedThrough(_ db: Database) throws -> (batch: Int64, stream: Int64)? {
        guard try db.tableExists("derived_through"),
              let row = try Row.fetchOne(db, sql: "SELECT batch_id, stream_seq FROM derived_through WHERE id = 1") else { return nil }
        return (row[0], row[1])
    }

    // MARK: - Reading: the tables, and what came after them

    /// Each item's first and latest observation: the `items` table, then the reports after it.
    static func observations(_ db: Database) throws -> [String: ObservationFold.FirstAndLatest] {
        var fold = ObservationFold(try StoreHistory.observations(try Row.fetchCursor(db, sql: "SELECT * FROM items")))
        if let through = try derivedThrough(db) { try foldReports(db, after: through.batch, into: &fold) }
        return fold.items
    }

    /// Folds the reports of the batch rows after `batch`, in the order they arrived.
    static func foldReports(_ db: Database, after batch: Int64, into fold: inout ObservationFold) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT publisher, reports FROM report_batches WHERE id > ? ORDER BY id", arguments: [batch])
        while let row = try rows.next() {
            let publisher: String = row[0]
            for e in try ReportBatch.decode([UInt8](row[1] as Data), publisher: publisher) {
                fold.add(item: e.item, StatusModel.Observation(value: e.value, date: e.date, publisher: publisher))
            }
        }
    }

    /// Each publisher's acknowledgement level: `publishers`, raised by the batch rows after it.
    static func settled(_ db: Database) throws -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT publisher, acked_through FROM publishers") { out[row[0]] = UInt64(row[1] as Int64) }
        guard let through = try derivedThrough(db) else { return out }
        for (p, n) in try tailLevels(db, after: through.batch) { out[p] = max(out[p] ?? 0, n) }
        return out
    }

    /// The highest sequence of each publisher's batch rows after `batch`. (A batch with a
    /// refusal writes its levels at once: a refusal row does not say when it came.)
    static func tailLevels(_ db: Database, after batch: Int64) throws -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT publisher, MAX(last_seq) FROM report_batches WHERE id > ? GROUP BY publisher", arguments: [batch]) {
            out[row[0]] = UInt64(row[1] as Int64)
        }
        return out
    }

    /// The open alerts' documents by key: `open_alerts`, then the transitions after it.
    static func openAlertDocuments(_ db: Database) throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, document FROM open_alerts") { out[row[0]] = row[1] }
        guard let through = try derivedThrough(db) else { return out }
        try forEachTailAlert(db, after: through.stream) { key, document in out[key] = document }
        return out
    }

    /// The alert transitions after stream message `seq`, in order, one at a time (a large
    /// plan's first start folds 16,384 of them): each alert's key and its open document,
    /// nil once resolved.
    static func forEachTailAlert(_ db: Database, after seq: Int64, _ body: (String, String?) throws -> Void) throws {
        let rows = try Row.fetchCursor(db, sql: """
            SELECT alert_key, alert_open, alert_document, document FROM stream WHERE seq > ? AND alert_key IS NOT NULL ORDER BY seq
            """, arguments: [seq])
        while let row = try rows.next() {
            let separate: String? = row[2], embedded: Int64? = row[1]
            try body(row[0], separate ?? embedded.map { AlertMember.slice(of: row[3], length: Int($0)) })
        }
    }

    // MARK: - Writing

    /// Brings the derived tables up to date with everything stored, in one transaction.
    public func foldDerived() throws {
        try db.write { try Self.fold($0) }
        derived.folded()
    }

    /// Inside a write's transaction that adds `count` records: folds there when
    /// `foldAfter` would be reached. Returns whether it did, for ``written(_:folded:)``.
    func foldIfFull(adding count: Int, _ db: Database) throws -> Bool {
        guard derived.pending.load(ordering: .relaxed) + count >= Self.foldAfter else { return false }
        try Self.fold(db)
        return true
    }

    /// After that transaction committed.
    func written(_ count: Int, folded: Bool) {
        if folded { derived.folded() } else { derived.pending.add(count, ordering: .relaxed) }
    }

    /// Writes into the derived tables what the rows after `derived_through` say, and moves it.
    static func fold(_ db: Database) throws {
        guard let through = try derivedThrough(db) else { return }
        var fold = ObservationFold()
        try foldReports(db, after: through.batch, into: &fold)
        try upsertItems(fold.items, db)
        let level = try db.cachedStatement(sql: """
            INSERT INTO publishers (publisher, acked_through) VALUES (?, ?)
            ON CONFLICT(publisher) DO UPDATE SET acked_through = MAX(acked_through, excluded.acked_through)
            """)
        for (p, n) in try tailLevels(db, after: through.batch) { try level.execute(arguments: [p, Int64(n)]) }
        // In the order they happened: a later transition of an alert overwrites an earlier one.
        let open = try db.cachedStatement(sql: "INSERT INTO open_alerts (key, document) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET document = excluded.document")
        let close = try db.cachedStatement(sql: "DELETE FROM open_alerts WHERE key = ?")
        try forEachTailAlert(db, after: through.stream) { key, document in
            if let document { try open.execute(arguments: [key, document]) } else { try close.execute(arguments: [key]) }
        }
        try db.execute(sql: """
            UPDATE derived_through SET batch_id = (SELECT IFNULL(MAX(id), 0) FROM report_batches),
                                       stream_seq = (SELECT IFNULL(MAX(seq), 0) FROM stream) WHERE id = 1
            """)
    }

    /// Merges first and latest observations into `items` by the fold's rule.
    static func upsertItems(_ items: [String: ObservationFold.FirstAndLatest], _ db: Database) throws {
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
        // In key order: the leaves of the B-tree are visited once each, left to right.
        for (id, o) in items.sorted(by: { $0.key < $1.key }) {
            try item.execute(arguments: [id, o.first.value, o.first.date.iso, o.first.publisher, o.latest.value, o.latest.date.iso, o.latest.publisher])
        }
    }
}

/// Where an alert transition's stream document holds the alert: its first member,
/// `{"alert":` then the alert's document as `StreamDocuments.encode(_:alertJSON:)` splices
/// it in, byte for byte.
enum AlertMember {
    static let prefix = Array(#"{"alert":"#.utf8)

    /// Whether `document` holds `alert` as its `alert` member.
    static func embeds(_ alert: String, in document: String) -> Bool {
        let d = document.utf8
        return d.starts(with: prefix) && d.dropFirst(prefix.count).starts(with: alert.utf8)
    }

    /// The `length` bytes of the alert member.
    static func slice(of document: String, length: Int) -> String {
        String(decoding: document.utf8.dropFirst(prefix.count).prefix(length), as: UTF8.self)
    }
}
