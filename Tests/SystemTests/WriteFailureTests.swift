import Foundation
import Testing

@testable import Aggregator

/// A store that stops taking writes (a full disk, made by an LD_PRELOAD fault injector,
/// Tests/fault/enospc.c, in the aggregator's process only): nothing is acknowledged that
/// was not stored, `/readyz` and the log say why, and ingest resumes by itself when
/// space returns, with every report stored once.
@Suite("Write failures", .serialized)
struct WriteFailureTests {
    /// Builds the fault injector into the workspace.
    static func injector(_ ws: Workspace) throws -> String {
        let out = ws.dir + "/enospc.so"
        let (status, text) = try runProgram("/usr/bin/cc", ["-shared", "-fPIC", "-O2", "-o", out, repoRoot.path + "/Tests/fault/enospc.c", "-ldl"])
        guard status == 0 else { throw TestFailure("cc enospc.c: \(text)") }
        return out
    }

    @Test("a full disk stops acknowledgements (503, readyz, the log), and ingest resumes by itself, every report stored once")
    func fullDisk() throws {
        let ws = try Workspace()
        let trigger = ws.dir + "/disk-full"
        let aggregator = try ws.aggregator(environment: ["LD_PRELOAD": try Self.injector(ws), "KOERS_FAULT_PATH": "/aggregator/koers.sqlite",
                                                         "KOERS_FAULT_TRIGGER": trigger])
        try ws.outbox("safety").enqueue(safetyReports(1...20), now: 1_700_000_000_000)
        let service = try ws.theme("safety")
        try eventually("the first 20 acknowledged") { try ws.outbox("safety").summary().acked == 20 }
        #expect(try httpGet(ws.httpURL + "/readyz", headers: []).status == 200)

        FileManager.default.createFile(atPath: trigger, contents: Data())
        try ws.outbox("safety").enqueue(safetyReports(21...40), now: 1_700_000_000_000)
        try eventually("readyz to say the store does not take writes") {
            let r = try httpGet(ws.httpURL + "/readyz", headers: [])
            return r.status == 503 && r.body.contains("does not take writes")
        }
        try eventually("the service to be told 503 storage_unavailable") {
            (try? String(contentsOfFile: ws.dir + "/safety.log", encoding: .utf8))?.contains("503 storage_unavailable") ?? false
        }
        // Nothing acknowledged that was not stored: the service still holds 21…40, the
        // store (read while the disk is "full") has 1…20 only.
        #expect(try ws.outbox("safety").summary().acked == 20)
        try expectExactlyOnce(ws, publisher: "safety", count: 20)
        let log = try String(contentsOfFile: ws.dir + "/aggregator.log", encoding: .utf8)
        #expect(log.components(separatedBy: "the store does not take writes").count == 2, "logged once per outage")
        let metrics = try httpGet(ws.httpURL + "/metrics", headers: []).body
        #expect(metrics.contains("koers_store_write_failures_total"))

        try FileManager.default.removeItem(atPath: trigger)
        try eventually("all 40 acknowledged once space returned", within: 60) { try ws.outbox("safety").summary().acked == 40 }
        try expectExactlyOnce(ws, publisher: "safety", count: 40)
        try eventually("readyz ready again") { try httpGet(ws.httpURL + "/readyz", headers: []).status == 200 }
        #expect(try String(contentsOfFile: ws.dir + "/aggregator.log", encoding: .utf8).contains("the store takes writes again"))
        service.stop()
        aggregator.stop()
        #expect(aggregator.process.terminationStatus == 0, "the aggregator stopped cleanly")
    }
}
