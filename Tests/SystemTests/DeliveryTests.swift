import Foundation
import Plan
import Testing
import Wire
import ZeroMQ
@testable import Aggregator
import History
@testable import ThemeService

/// Reports for the safety theme, `n` of them, each distinct (the note carries its number).
func safetyReports(_ range: ClosedRange<Int>) -> [Payload] {
    range.map { i in
        .milestoneProgress(MilestoneProgress(theme: "safety", item: "sociaal-veilig-uitrol", value: 4 + Double(i % 4),
                                             asOf: PlanDate(iso: "2023-01-01")!.adding(days: i % 365), reportedAt: 1_700_000_000_000 + Int64(i),
                                             note: "report \(i)"))
    }
}

/// The stored reports of one publisher: sequences 1…n exactly once, in order, with the right notes.
func expectExactlyOnce(_ ws: Workspace, publisher: String, count: Int) throws {
    let stored = try ws.store().reports(publisher: publisher)
    #expect(stored.map(\.sequence) == (1...UInt64(count)).map { $0 })
    #expect(stored.map(\.note) == (1...count).map { "report \($0)" })
}

@Suite("Delivery with real processes", .serialized)
struct DeliveryTests {
    @Test("a service killed with -9 while reports are queued resends them after a restart")
    func killedServiceResends() throws {
        let ws = try Workspace()
        try ws.outbox("safety").enqueue(safetyReports(1...40), now: 1_700_000_000_000)
        // The aggregator is down: the service connects nowhere, then dies hard.
        let first = try ws.theme("safety")
        try eventually("the service to open its outbox") { FileManager.default.fileExists(atPath: ws.data + "/safety/outbox.sqlite-wal") }
        first.kill9()
        #expect(try ws.outbox("safety").pendingCount() == 40)

        let aggregator = try ws.aggregator()
        let second = try ws.theme("safety")
        try eventually("all 40 reports acknowledged") { try ws.outbox("safety").summary().acked == 40 }
        try expectExactlyOnce(ws, publisher: "safety", count: 40)
        second.stop()
        aggregator.stop()
    }

    @Test("an aggregator that is down for a while gets everything once it is back, in order")
    func aggregatorDowntime() throws {
        let ws = try Workspace()
        var aggregator = try ws.aggregator()
        let service = try ws.theme("safety")
        try ws.outbox("safety").enqueue(safetyReports(1...20), now: 1_700_000_000_000)
        try eventually("the first 20 acknowledged") { try ws.outbox("safety").summary().acked == 20 }

        aggregator.kill9()
        try ws.outbox("safety").enqueue(safetyReports(21...50), now: 1_700_000_000_000)
        #expect(try ws.outbox("safety").summary().acked == 20)

        aggregator = try ws.aggregator()
        try eventually("all 50 acknowledged after the restart") { try ws.outbox("safety").summary().acked == 50 }
        try expectExactlyOnce(ws, publisher: "safety", count: 50)
        // libzmq reconnected underneath the service; the monitor told it, and it said
        // HELLO again on the new connection and resumed from WELCOME (§3, §4).
        let log = try String(contentsOfFile: ws.dir + "/safety.log", encoding: .utf8)
        #expect(log.contains("saying HELLO") && log.contains("why=reconnected"), "\(log)")
        service.stop()
        aggregator.stop()
    }

    @Test("the aggregator killed with -9 mid-stream loses nothing and applies nothing twice")
    func aggregatorKilledMidStream() throws {
        let ws = try Workspace()
        var aggregator = try ws.aggregator()
        let service = try ws.theme("safety")
        try ws.outbox("safety").enqueue(safetyReports(1...10_000), now: 1_700_000_000_000)
        try eventually("some reports acknowledged") { try ws.outbox("safety").summary().acked > 0 }
        aggregator.kill9()
        let ackedAtKill = try ws.outbox("safety").summary().acked
        #expect(ackedAtKill < 10_000, "the kill came after the stream ended; it tests nothing")
        aggregator = try ws.aggregator()
        try eventually("all 10,000 acknowledged", within: 60) { try ws.outbox("safety").summary().acked == 10_000 }
        try expectExactlyOnce(ws, publisher: "safety", count: 10_000)
        service.stop()
        aggregator.stop()
    }

    @Test("a resend after a lost ACK is acknowledged again and not applied twice; a changed resend is refused")
    func resendAfterLostAck() async throws {
        let ws = try Workspace()
        let aggregator = try ws.aggregator()
        defer { aggregator.stop() }
        let context = try Context()
        defer { context.terminate() }
        let dealer = try context.socket(.dealer)
        let keys = try CurveKeyFile.read(ws.keys + "/safety.key_secret").keyPair!
        try dealer.makeCurveClient(keyPair: keys, serverKey: try CurveKeyFile.read(ws.keys + "/aggregator.key").publicKey)
        try dealer.set(.receiveTimeout, .milliseconds(20_000))
        try dealer.set(.linger, .after(.zero))
        try dealer.connect(ws.endpoint)
        defer { dealer.close() }
        let codec = WireCodec()
        func send(_ p: Payload, _ seq: UInt64) throws {
            let (e, b) = codec.encode(WireMessage(p, sequence: seq, sentAt: SystemClock().now()))
            try dealer.send(Message([Frame(e), Frame(b)]))
        }
        func reply() throws -> Payload {
            let m = try dealer.receive()
            return try codec.decode(envelope: m[0].bytes, payload: m[1].bytes, now: SystemClock().now()).payload
        }
        let report = safetyReports(1...1)[0]
        try send(.hello(Hello(theme: "safety", planVersion: 1, service: "test", lastSequence: 1)), 0)
        #expect(try reply() == .welcome(Welcome(settledThrough: 0, planVersion: 1)))
        try send(report, 1)
        #expect(try reply() == .ack(Ack(settledThrough: 1)))
        // The ACK was "lost": the same report again.
        try send(report, 1)
        #expect(try reply() == .ack(Ack(settledThrough: 1)))
        #expect(try ws.store().reports(publisher: "safety").count == 1)
        // Same sequence, different content: refused.
        try send(safetyReports(2...2)[0], 1)
        guard case .nack(let n) = try reply() else { Issue.record("expected a NACK"); return }
        #expect(n.reason == .sequenceConflict && n.refusedSequence == 1)
        // A sequence from the future: a gap.
        try send(safetyReports(5...5)[0], 5)
        guard case .nack(let g) = try reply() else { Issue.record("expected a NACK"); return }
        #expect(g.reason == .sequenceGap)
        // Another theme's report on the safety key: refused, and its number used up.
        try send(.milestoneProgress(MilestoneProgress(theme: "work", item: "bvs-werksferen", value: 1,
                                                      asOf: PlanDate(iso: "2023-01-01")!, reportedAt: 1_700_000_000_000)), 2)
        guard case .nack(let wrong) = try reply() else { Issue.record("expected a NACK"); return }
        #expect(wrong.reason == .identityMismatch && wrong.refusedSequence == 2)
        #expect(try reply() == .ack(Ack(settledThrough: 2)))
        #expect(try ws.store().reports(publisher: "safety").count == 1)
        #expect(try StoreHistory(path: ws.store().path).refusalCounts()[.identityMismatch] == 1)
    }

    @Test("a refused report is marked with its reason and the service moves on")
    func refusedReportShownToTeam() throws {
        let ws = try Workspace()
        let aggregator = try ws.aggregator()
        let service = try ws.theme("safety")
        // Queued behind the checks' back (an older service with another plan, say): the
        // aggregator refuses it, the team sees why, and later reports still flow.
        try ws.outbox("safety").enqueue([
            .milestoneProgress(MilestoneProgress(theme: "safety", item: "vc-haalbaarheid", value: 1, asOf: PlanDate(iso: "2022-09-01")!,
                                                 reportedAt: 1_700_000_000_000)),
            .milestoneProgress(MilestoneProgress(theme: "safety", item: "bvs-werksferen", value: 1, asOf: PlanDate(iso: "2022-09-01")!,
                                                 reportedAt: 1_700_000_000_000)),
            .milestoneProgress(MilestoneProgress(theme: "safety", item: "vc-intentieovereenkomst", value: 1, asOf: PlanDate(iso: "2022-11-28")!,
                                                 reportedAt: 1_700_000_000_000)),
        ], now: 1_700_000_000_000)
        try eventually("all three settled") { let s = try ws.outbox("safety").summary(); return s.acked == 2 && s.refused.count == 1 }
        let refused = try ws.outbox("safety").summary().refused[0]
        #expect(refused.sequence == 2 && refused.reason == .itemNotInTheme)
        let (status, text) = try ws.koers(["theme", "status", "safety"])
        #expect(status == 0)
        #expect(text.contains("refused #2 bvs-werksferen: 302 item_not_in_theme"))
        // The operators' side: the counter per reason and the latest refusals, while the aggregator runs.
        let (code, counts) = try ws.koers(["aggregator", "refusals"])
        #expect(code == 0, "\(counts)")
        #expect(counts.contains("1 refused report in"))
        #expect(counts.contains("302 item_not_in_theme"))
        #expect(counts.contains("safety #2  302 item_not_in_theme: frame 1, field item: `bvs-werksferen` belongs to theme `work`, not `safety`"))
        let (_, json) = try ws.koers(["aggregator", "refusals", "--json"])
        struct Doc: Decodable { struct Count: Decodable { var code: Int; var count: Int }; var counts: [Count] }
        #expect(try JSONDecoder().decode(Doc.self, from: Data(json.utf8)).counts.map { [$0.code, $0.count] } == [[302, 1]])
        let (missing, why) = try runKoers(["aggregator", "refusals", "--data", ws.dir + "/nowhere"])
        #expect(missing != 0 && why.contains("no aggregator store at"), "\(why)")
        service.stop()
        aggregator.stop()
    }

    @Test("an untrusted key is refused, reported to the team, and not retried in a storm")
    func untrustedKey() throws {
        let ws = try Workspace()
        // The aggregator trusts the old key; the team has a new, unregistered one.
        try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "safety", directory: ws.dir + "/newkeys")
        try FileManager.default.copyItem(atPath: ws.keys + "/aggregator.key", toPath: ws.dir + "/newkeys/aggregator.key")
        let aggregator = try ws.aggregator()
        try ws.outbox("safety").enqueue(safetyReports(1...3), now: 1_700_000_000_000)
        let service = try Child(["theme", "run", "safety", "--keys", ws.dir + "/newkeys", "--data", ws.data, "--aggregator", ws.endpoint],
                                log: ws.dir + "/safety.log")
        try eventually("the problem recorded for the team") { try ws.outbox("safety").summary().lastProblem?.contains("refused this service's key") == true }
        let (_, text) = try ws.koers(["theme", "status", "safety"])
        #expect(text.contains("PROBLEM"))
        // Give libzmq's reconnect timer (200–300 ms) several chances; the service must not take them.
        Thread.sleep(forTimeInterval: 1.5)
        let log = try String(contentsOfFile: ws.dir + "/aggregator.log", encoding: .utf8)
        let refusals = log.components(separatedBy: "ZAP refused client").count - 1
        #expect(refusals >= 1 && refusals <= 2, "ZAP refusals in 1.5 s: \(refusals)")
        #expect(try ws.outbox("safety").pendingCount() == 3)
        service.stop()
        aggregator.stop()
    }
}
