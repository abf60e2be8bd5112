import Foundation
import Testing
import Wire
@testable import Aggregator
@testable import ThemeService

@Suite("Back-up and restore", .serialized)
struct BackupRestoreTests {
    @Test("a back-up taken while running, restored after more reports: the services resend what it lacks, nothing doubled")
    func backupAndRestore() async throws {
        try await bounded(300, "the back-up and restore test") {
            let ws = try Workspace()
            try ws.outbox("safety").enqueue(safetyReports(1...300), now: 1_700_000_000_000)
            try ws.outbox("work").enqueue(workReports(1...200), now: 1_700_000_000_000)
            var aggregator = try ws.aggregator()
            let safety = try ws.theme("safety")
            let work = try ws.theme("work")
            try eventually("the first reports acknowledged", within: 90) {
                try ws.outbox("safety").summary().acked == 300 && ws.outbox("work").summary().acked == 200
            }

            // The back-up is taken while the aggregator runs and stores more.
            let backup = ws.dir + "/backup/koers-1.sqlite"
            try FileManager.default.createDirectory(atPath: ws.dir + "/backup", withIntermediateDirectories: true)
            try ws.outbox("safety").enqueue(safetyReports(301...3000), now: 1_700_000_000_000)
            let (backedUp, said) = try ws.koers(["aggregator", "backup", backup])
            #expect(backedUp == 0, "\(said)")
            #expect(said.contains("integrity_check ok"), "\(said)")
            try ws.outbox("work").enqueue(workReports(201...400), now: 1_700_000_000_000)
            try eventually("everything acknowledged", within: 120) {
                try ws.outbox("safety").summary().acked == 3000 && ws.outbox("work").summary().acked == 400
            }

            // A restore is refused while the aggregator runs on the data directory.
            let (refused, why) = try ws.koers(["aggregator", "restore", backup])
            #expect(refused != 0)
            #expect(why.contains("another process uses") && why.contains("koers aggregator run"), "\(why)")
            aggregator.stop()

            let (restored, out) = try ws.koers(["aggregator", "restore", backup])
            #expect(restored == 0, "\(out)")
            #expect(out.contains("integrity_check ok") && out.contains("moved aside"), "\(out)")
            let inBackup = (safety: try ws.store().reports(publisher: "safety").count, work: try ws.store().reports(publisher: "work").count)
            #expect(inBackup.work == 200, "the back-up was taken after the first 200 work reports and before the rest")
            #expect(inBackup.safety >= 300, "\(inBackup.safety)")

            // The services are still running; the restored aggregator's WELCOME tells them
            // how far it is settled, and they resend the rest.
            aggregator = try ws.aggregator()
            try eventually("the restored store to hold every report again", within: 120) {
                try ws.store().reports(publisher: "safety").count == 3000 && ws.store().reports(publisher: "work").count == 400
            }
            try expectExactlyOnce(ws, publisher: "safety", count: 3000)
            try expectExactlyOnce(ws, publisher: "work", count: 400)
            #expect(try ws.store().settledThrough() == ["safety": 3000, "work": 400])
            safety.stop()
            work.stop()
            aggregator.stop()
        }
    }

    @Test("a back-up that is damaged is refused by restore, and the store in place is left as it was")
    func damagedBackupRefused() async throws {
        try await bounded(120, "the damaged back-up test") {
            let ws = try Workspace()
            try ws.outbox("safety").enqueue(safetyReports(1...2000), now: 1_700_000_000_000)
            let aggregator = try ws.aggregator()
            let safety = try ws.theme("safety")
            try eventually("reports acknowledged", within: 90) { try ws.outbox("safety").summary().acked == 2000 }
            let backup = ws.dir + "/koers-backup.sqlite"
            #expect(try ws.koers(["aggregator", "backup", backup]).0 == 0)
            let (again, exists) = try ws.koers(["aggregator", "backup", backup])
            #expect(again != 0 && exists.contains("exists"), "\(exists)")
            safety.stop()
            aggregator.stop()
            _ = try damagePage(of: "report_batches", in: backup)
            let (status, out) = try ws.koers(["aggregator", "restore", backup])
            #expect(status != 0)
            #expect((out.contains("fails PRAGMA integrity_check") || out.contains("cannot be read by SQLite")) && out.contains("the current store is left as it is"), "\(out)")
            #expect(try ws.store().reportCount() == 2000)
        }
    }
}
