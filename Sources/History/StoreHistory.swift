import Foundation
import GRDB
import Plan
import Status
import Wire

/// Read-only access to the aggregator's stored history (`DATA/aggregator/koers.sqlite`):
/// the reports as of a date, the numbered stream, the refusals and the acknowledgement
/// log. Operator tools, replays and reports read the store through this, never through
/// the aggregator's ingest-side `ReportStore`, so they work while the aggregator runs
/// (SQLite's WAL lets readers and the one writer proceed together) and when it is down.
///
/// The aggregator's `ReportStore` owns the schema and its migrations; this type reads
/// the tables it documents (`docs/operations.md`, "Where data lives").
public final class StoreHistory: Sendable {
    let db: DatabaseQueue
    public let path: String

    /// Opens an existing store read-only.
    ///
    /// - Throws: ``HistoryError`` with code `.noStore` when the file does not exist.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw HistoryError(.noStore, "no aggregator store at \(path); pass --data with the aggregator's data directory")
        }
        self.path = path
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        db = try DatabaseQueue(path: path, configuration: config)
    }

    /// Per item, the first and latest observation among the reports about dates up to
    /// `asOf`, by the status engine's rule (the earliest date and of those the first
    /// received; the latest date and of those the last received). Like a replay this
    /// reads every stored report: there is no index by item (`docs/operations.md`).
    public func itemObservations(asOf: PlanDate) throws -> [String: (first: StatusModel.Observation, latest: StatusModel.Observation)] {
        var fold = ObservationFold()
        try forEachReport { publisher, e in
            guard e.date <= asOf else { return }
            fold.add(item: e.item, StatusModel.Observation(value: e.value, date: e.date, publisher: publisher))
        }
        return fold.items
    }

    /// Every stored report with its publisher, in the order they arrived (only those
    /// about `item`, when given: the others are skipped without being read out).
    func forEachReport(item: String? = nil, _ body: (String, ReportBatch.Entry) throws -> Void) throws {
        try db.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT id, publisher, reports FROM report_batches ORDER BY id")
            while let row = try rows.next() {
                let publisher: String = row[1]
                let entries: [ReportBatch.Entry]
                do { entries = try ReportBatch.decode([UInt8](row[2] as Data), publisher: publisher, item: item) } catch {
                    throw badRow("report_batches row \(row[0] as Int64) (\(publisher))", "\(error)")
                }
                for e in entries { try body(publisher, e) }
            }
        }
    }

    /// Reads rows of (item, first value, date, publisher, latest value, date, publisher).
    public static func observations(_ rows: RowCursor) throws -> [String: (first: StatusModel.Observation, latest: StatusModel.Observation)] {
        var out: [String: (first: StatusModel.Observation, latest: StatusModel.Observation)] = [:]
        while let r = try rows.next() {
            guard let fd = PlanDate(iso: r[2]), let ld = PlanDate(iso: r[5]) else { continue }
            out[r[0]] = (StatusModel.Observation(value: r[1], date: fd, publisher: r[3]),
                         StatusModel.Observation(value: r[4], date: ld, publisher: r[6]))
        }
        return out
    }

    /// One stored stream message.
    public struct StreamMessage: Sendable {
        public var sequence: UInt64
        public var type: MessageType
        public var topic: String
        public var document: String
    }

    /// Stream messages after a sequence, oldest first (at most `limit`), optionally of one
    /// type only (the Alertmanager forwarder reads alert transitions, not status changes).
    public func streamMessages(after seq: UInt64, limit: Int = Int.max, type: MessageType? = nil) throws -> [StreamMessage] {
        try db.read { db in
            let filter = type == nil ? "" : " AND type = \(Int(type!.rawValue))"
            return try Row.fetchAll(db, sql: "SELECT seq, type, topic, document FROM stream WHERE seq > ?\(filter) ORDER BY seq LIMIT ?",
                                    arguments: [Int64(seq), Int64(min(limit, Int(Int64.max)))]).map {
                StreamMessage(sequence: UInt64($0["seq"] as Int64), type: MessageType(rawValue: UInt8($0["type"] as Int)) ?? .alertTransition,
                              topic: $0["topic"], document: $0["document"])
            }
        }
    }

    /// What changed since a date, newest first, at most `limit`: items' status changes
    /// (not roll-up nodes, whose ids hold a `:` or are `programme`) and alert
    /// transitions to firing, acknowledged or resolved; looked for among the latest
    /// `window` messages. Filtered in SQL, so a page decodes only what it shows.
    public func recentChanges(since date: PlanDate, limit: Int, window: Int = 1_000) throws -> [StreamMessage] {
        try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT seq, type, topic, document FROM stream
                WHERE seq > (SELECT IFNULL(MAX(seq), 0) FROM stream) - ?
                  AND json_extract(document, '$.date') >= ?
                  AND ((type = ? AND json_extract(document, '$.item') NOT LIKE '%:%' AND json_extract(document, '$.item') != 'programme')
                    OR (type = ? AND json_extract(document, '$.to') IN ('firing', 'acknowledged', 'resolved')))
                ORDER BY seq DESC LIMIT ?
                """, arguments: [window, date.iso, Int(MessageType.statusChange.rawValue), Int(MessageType.alertTransition.rawValue), limit]).map {
                StreamMessage(sequence: UInt64($0["seq"] as Int64), type: MessageType(rawValue: UInt8($0["type"] as Int)) ?? .alertTransition,
                              topic: $0["topic"], document: $0["document"])
            }
        }
    }

    /// The latest alert transitions to `resolved`, newest first, at most `limit`, among the
    /// latest `window` messages.
    public func recentlyResolved(limit: Int, window: Int = 5_000) throws -> [StreamMessage] {
        try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT seq, type, topic, document FROM stream
                WHERE seq > (SELECT IFNULL(MAX(seq), 0) FROM stream) - ? AND type = ? AND json_extract(document, '$.to') = 'resolved'
                ORDER BY seq DESC LIMIT ?
                """, arguments: [window, Int(MessageType.alertTransition.rawValue), limit]).map {
                StreamMessage(sequence: UInt64($0["seq"] as Int64), type: MessageType(rawValue: UInt8($0["type"] as Int)) ?? .alertTransition,
                              topic: $0["topic"], document: $0["document"])
            }
        }
    }

    /// The first and last sequence the stored stream holds (nil, 0 when it is empty): a
    /// client resuming from before the first has lost messages and must take a snapshot.
    public func streamBounds() throws -> (first: UInt64?, last: UInt64) {
        try db.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT MIN(seq), MAX(seq) FROM stream")
            let first: Int64? = row?[0], last: Int64? = row?[1]
            return (first.map { UInt64($0) }, UInt64(last ?? 0))
        }
    }

    /// The stored stream messages about one item, oldest first: its status changes, and
    /// the transitions of alerts whose subject it is. Reads the whole stream table (it has
    /// no index by item; the ingest path should not pay for one).
    public func streamMessages(item: String) throws -> [StreamMessage] {
        try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT seq, type, topic, document FROM stream
                WHERE (type = ? AND json_extract(document, '$.item') = ?)
                   OR (type = ? AND json_extract(document, '$.alert.subject') = ?)
                ORDER BY seq
                """, arguments: [Int(MessageType.statusChange.rawValue), item, Int(MessageType.alertTransition.rawValue), item]).map {
                StreamMessage(sequence: UInt64($0["seq"] as Int64), type: MessageType(rawValue: UInt8($0["type"] as Int)) ?? .alertTransition,
                              topic: $0["topic"], document: $0["document"])
            }
        }
    }

    /// One stored report (the `reports` table), as the API shows an item's history.
    public struct StoredReport: Sendable, Codable, Equatable {
        /// The theme service that sent it, and its report sequence.
        public var publisher: String
        public var sequence: UInt64
        /// `milestone_progress` or `indicator_measurement`.
        public var kind: String
        public var value: Double
        /// `as_of` of a milestone's report; the period's end of an indicator's.
        public var date: PlanDate
        /// An indicator's period start.
        public var periodStart: PlanDate?
        /// When the team made it and when the aggregator received it, ms since the Unix epoch.
        public var reportedAt: Int64
        public var receivedAt: Int64
        public var note: String?
        public var reporter: String?
    }

    /// The stored reports about one item, by date and then arrival, oldest first (at most
    /// `limit`, the latest ones). Like a replay this reads every stored report: the
    /// store keeps no index by item.
    public func reports(item: String, limit: Int = 1_000) throws -> [StoredReport] {
        var found: [StoredReport] = []
        try forEachReport(item: item) { publisher, e in
            found.append(StoredReport(publisher: publisher, sequence: e.sequence,
                                      kind: e.type == .indicatorMeasurement ? "indicator_measurement" : "milestone_progress",
                                      value: e.value, date: e.date, periodStart: e.periodStart,
                                      reportedAt: e.reportedAt, receivedAt: e.receivedAt, note: e.note, reporter: e.reporter))
        }
        // Arrival order already; a stable sort by date keeps it among reports of one date.
        let byDate = found.enumerated().sorted { ($0.element.date, $0.offset) < ($1.element.date, $1.offset) }.map(\.element)
        return Array(byDate.suffix(max(0, limit)))
    }

    /// A stored refusal.
    public struct Refusal: Sendable {
        public var publisher: String
        public var sequence: UInt64
        public var reason: ReasonCode
        public var detail: String
        /// Clock milliseconds.
        public var at: Int64
    }

    /// The latest refusals, newest first.
    public func recentRefusals(limit: Int) throws -> [Refusal] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT publisher, seq, reason, detail, at FROM refusals ORDER BY at DESC, publisher, seq DESC LIMIT ?",
                             arguments: [limit]).map {
                Refusal(publisher: $0["publisher"], sequence: UInt64($0["seq"] as Int64), reason: ReasonCode(rawValue: UInt16($0["reason"] as Int)),
                        detail: $0["detail"], at: $0["at"])
            }
        }
    }

    /// SQLite's `PRAGMA quick_check`: `["ok"]`, or the problems it found.
    public func quickCheck() throws -> [String] {
        try db.read { try String.fetchAll($0, sql: "PRAGMA quick_check") }
    }

    /// One recorded acknowledgement (the `acknowledgements` table): what the aggregator's
    /// `ReportStore` appends and what this reads back, one type for both.
    ///
    /// Its JSON (`koers acks --json`, `GET /api/v1/acknowledgements`) writes the dates as
    /// `YYYY-MM-DD`, as the table stores them.
    public struct Acknowledgement: Sendable, Codable, Equatable {
        /// The stream sequence of the transition it caused.
        public var sequence: UInt64
        /// The alert's key, `RULE:SUBJECT`.
        public var alert: String
        /// The key that made it: `operator:NAME`.
        public var identity: String
        /// The person, as they named themselves (`koers ack --by`).
        public var by: String?
        /// Why, in the operator's words.
        public var reason: String
        /// The last day it holds; `nil`: until the alert resolves.
        public var until: PlanDate?
        /// The programme date it was made on.
        public var date: PlanDate
        /// Wall-clock time, ms since the Unix epoch.
        public var at: Int64

        public init(sequence: UInt64, alert: String, identity: String, by: String?, reason: String,
                    until: PlanDate?, date: PlanDate, at: Int64) {
            self.sequence = sequence; self.alert = alert; self.identity = identity; self.by = by
            self.reason = reason; self.until = until; self.date = date; self.at = at
        }
    }

    /// Every acknowledgement, oldest first; only those of `alert` when given. A store
    /// from before the log (schema v5) has none.
    ///
    /// - Throws: ``HistoryError`` with code `.badRow` when a row's `date` or `until` is
    ///   not a `YYYY-MM-DD` date (the aggregator never writes such a row).
    public func acknowledgements(alert: String? = nil) throws -> [Acknowledgement] {
        try db.read { db in
            guard try db.tableExists("acknowledgements") else { return [] }
            let sql = "SELECT seq, alert, identity, by, reason, until, date, at FROM acknowledgements"
                + (alert == nil ? "" : " WHERE alert = ?") + " ORDER BY seq"
            return try Row.fetchAll(db, sql: sql, arguments: alert.map { [$0] } ?? []).map { row in
                let seq = UInt64(row["seq"] as Int64), place = "acknowledgements row seq \(seq)"
                guard let made = try storedDate(row, "date", place) else { throw badRow(place, "has no `date`") }
                return Acknowledgement(sequence: seq, alert: row["alert"], identity: row["identity"], by: row["by"],
                                       reason: row["reason"], until: try storedDate(row, "until", place), date: made, at: row["at"])
            }
        }
    }

    /// A date column of a row: nil when NULL, the date when `YYYY-MM-DD`, else `.badRow`
    /// (the aggregator writes only `PlanDate.iso` there).
    func storedDate(_ row: Row, _ column: String, _ place: String) throws -> PlanDate? {
        guard let text = row[column] as String? else { return nil }
        guard let d = PlanDate(iso: text) else { throw badRow(place, "`\(column)` is `\(text)`, not a YYYY-MM-DD date") }
        return d
    }

    func badRow(_ place: String, _ problem: String) -> HistoryError {
        HistoryError(.badRow, "\(path): \(place): \(problem); restore the store from a back-up (`koers aggregator restore FILE`)")
    }

    /// Refusal counts per reason code.
    public func refusalCounts() throws -> [ReasonCode: Int] {
        try db.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT reason, COUNT(*) AS n FROM refusals GROUP BY reason").map {
                (ReasonCode(rawValue: UInt16($0["reason"] as Int)), $0["n"] as Int)
            })
        }
    }
}

/// Why the stored history cannot be read.
public struct HistoryError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable {
        let name: String
        /// There is no store at the path given.
        public static let noStore = Code(name: "noStore")
        /// A stored row holds what the aggregator never writes (a date that is not one).
        public static let badRow = Code(name: "badRow")
    }
    public var code: Code
    public var description: String
    public init(_ code: Code, _ description: String) { self.code = code; self.description = description }
}
