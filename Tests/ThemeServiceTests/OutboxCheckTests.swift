import Foundation
import Plan
import Testing
import Wire
@testable import ThemeService

/// An outbox is checked when it is opened: nothing is queued into, or sent from, a damaged one.
@Suite("The outbox's check at open")
struct OutboxCheckTests {
    func withOutboxPath(_ body: (String) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "koers-outboxcheck-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir + "/safety/outbox.sqlite")
    }

    func reports(_ n: Int) -> [Payload] {
        (1...n).map { i in
            .milestoneProgress(MilestoneProgress(theme: "safety", item: "sociaal-veilig-uitrol", value: 5, asOf: PlanDate(iso: "2023-01-01")!,
                                                 reportedAt: 1_700_000_000_000, note: "report \(i) " + String(repeating: "x", count: 100)))
        }
    }

    func expectRefused(_ path: String, _ text: String) {
        #expect {
            _ = try Outbox(path: path)
        } throws: { e in
            guard let p = e as? OutboxProblem else { return false }
            return p.description.contains(text) && p.description.contains("Stop the theme service")
        }
    }

    @Test("an outbox is made with its marker; emptied or removed afterwards, it is refused, not made afresh")
    func emptied() throws {
        try withOutboxPath { path in
            try Outbox(path: path).enqueue(reports(3), now: 1)
            #expect(FileManager.default.fileExists(atPath: path + ".created"))
            for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) }
            expectRefused(path, "is missing, but an outbox was made here")
            FileManager.default.createFile(atPath: path, contents: Data())
            expectRefused(path, "is empty (0 bytes), but an outbox was made here")
        }
    }

    @Test("damaged pages are refused")
    func damaged() throws {
        try withOutboxPath { path in
            try Outbox(path: path).enqueue(reports(500), now: 1)
            // Closed: the last connection folded the WAL into the file.
            #expect(((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int ?? 0) == 0)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            // Page 2, the first table's root: its header and cell pointers overwritten.
            bytes.replaceSubrange(4096..<4296, with: (0..<200).map { _ in UInt8.random(in: 0...255) })
            try bytes.write(to: URL(fileURLWithPath: path))
            expectRefused(path, "is damaged")
        }
    }
}
