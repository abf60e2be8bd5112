import Foundation
import GRDB

/// Where each notifier target stands: the last stream sequence it delivered, kept in a
/// small SQLite file of its own, `DATA/aggregator/notify.sqlite` — never in the
/// aggregator's store, which has one writer, the status keeper.
///
/// One row per target, keyed by notifier (`alertmanager`, `webhook`) and URL: two
/// Alertmanagers of an HA pair, or a webhook receiver moved to another URL, are separate
/// targets with separate positions.
public final class NotifyPositions: Sendable {
    let db: DatabaseQueue
    public let path: String

    /// The position file beside the aggregator's store (`storePath`'s directory).
    public static func path(besideStore storePath: String) -> String {
        URL(fileURLWithPath: storePath).deletingLastPathComponent().appendingPathComponent("notify.sqlite").path
    }

    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // A position written is a position kept, also across a power cut: at worst one
            // document is delivered twice (at-least-once), never one skipped.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        db = try DatabaseQueue(path: path, configuration: config)
        try db.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS positions (
                    notifier TEXT NOT NULL,
                    target TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (notifier, target)
                )
                """)
        }
    }

    /// The last sequence delivered to a target; nil for a target never started.
    public func position(notifier: String, target: String) throws -> UInt64? {
        try db.read { db in
            try Int64.fetchOne(db, sql: "SELECT sequence FROM positions WHERE notifier = ? AND target = ?", arguments: [notifier, target])
                .map { UInt64($0) }
        }
    }

    /// Records that a target has delivered everything through `sequence`.
    public func setPosition(_ sequence: UInt64, notifier: String, target: String) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO positions (notifier, target, sequence, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (notifier, target) DO UPDATE SET sequence = excluded.sequence, updated_at = excluded.updated_at
                """, arguments: [notifier, target, Int64(sequence), Int64(Date().timeIntervalSince1970 * 1000)])
        }
    }
}
