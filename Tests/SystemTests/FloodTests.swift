import Foundation
import Testing

/// A hostile peer cannot starve the others: a theme key that floods the ingest socket
/// and never reads its replies is stopped being read once its reply queue is full
/// (`502 too_fast`, counted), the other themes' reports are acknowledged meanwhile, and
/// the aggregator's memory returns to its level after the flood.
@Suite("A flooding peer", .serialized)
struct FloodTests {
    static func residentMB(_ pid: Int32) -> Double? {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb / 1024
    }

    @Test("the flooder is refused 502 and counted, another theme is acknowledged during the flood, memory returns after it")
    func flood() throws {
        let ws = try Workspace()
        let aggregator = try ws.aggregator()
        try ws.outbox("safety").enqueue(safetyReports(1...1), now: 1_700_000_000_000)
        let service = try ws.theme("safety")
        try eventually("the first report acknowledged") { try ws.outbox("safety").summary().acked == 1 }
        let pid = aggregator.process.processIdentifier
        Thread.sleep(forTimeInterval: 1.5)  // past the start-up's memory trim
        let before = try #require(Self.residentMB(pid))

        let flooder = try Child.unblocked(["/usr/bin/env", "python3", repoRoot.path + "/Tests/python/flooder.py", ws.keys, "work", ws.endpoint, "12"],
                                          log: ws.dir + "/flooder.log")
        try eventually("the flooder to be stopped being read") {
            (try? String(contentsOfFile: ws.dir + "/aggregator.log", encoding: .utf8))?.contains("does not read its replies") ?? false
        }
        // Another theme, meanwhile: its reports are acknowledged while the flood goes on.
        let started = ContinuousClock.now
        try ws.outbox("safety").enqueue(safetyReports(2...201), now: 1_700_000_000_000)
        try eventually("safety's 200 reports acknowledged during the flood", within: 10) { try ws.outbox("safety").summary().acked == 201 }
        let took = ContinuousClock.now - started
        #expect(flooder.process.isRunning, "the flood was still going on when safety's reports were acknowledged (took \(took))")
        let peak = Self.residentMB(pid) ?? 0
        flooder.process.waitUntilExit()
        let metrics = try httpGet(ws.httpURL + "/metrics", headers: []).body
        #expect(metrics.split(separator: "\n").contains { $0.hasPrefix("koers_reports_refused_total") && $0.contains("code=\"502\"") && $0.contains("theme=\"work\"") },
                "the dropped messages are counted as refused 502 for the flooder's theme")
        try expectExactlyOnce(ws, publisher: "safety", count: 201)
        var after = peak
        try eventually("the memory to return to its level after the flood (before \(before) MB, peak \(peak) MB)", within: 20) {
            after = Self.residentMB(pid) ?? .infinity
            return after <= before + 40
        }
        print("flood: RSS before \(before) MB, during \(peak) MB, after \(after) MB; safety's 200 reports acknowledged in \(took)")
        service.stop()
        aggregator.stop()
    }
}
