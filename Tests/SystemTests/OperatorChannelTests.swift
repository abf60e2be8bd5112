import Foundation
import Plan
import Testing
import Wire
import ZeroMQ
@testable import Aggregator
@testable import Operators
@testable import ThemeService

@Suite("The aggregator's operators' channels, with real processes", .serialized)
struct OperatorChannelTests {
    func client(_ ws: Workspace) throws -> OperatorClient {
        try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "operator:ops", directory: ws.keys, overwrite: true)
        return try OperatorClient(snapshotEndpoint: ws.snapshotEndpoint, streamEndpoint: ws.streamEndpoint,
                                  keys: try CurveKeyFile.read(ws.keys + "/operator.ops.key_secret").keyPair,
                                  serverKey: try CurveKeyFile.read(ws.keys + "/aggregator.key").publicKey)
    }

    @Test("a late-joining operator gets the snapshot, then the stream without a gap; an alert can be acknowledged")
    func lateJoiner() async throws {
        try await bounded(90, "the late joiner's stream") { try await self.lateJoinerBody() }
    }

    func lateJoinerBody() async throws {
        let ws = try Workspace()
        let operatorClient = try client(ws)  // its key must exist before the aggregator reads the keys
        let aggregator = try ws.aggregator()
        let service = try ws.theme("safety")
        defer { service.stop(); aggregator.stop() }
        // Something to show: a milestone long overdue (the real clock is past 2023-04-01).
        try ws.outbox("safety").enqueue([.milestoneProgress(MilestoneProgress(
            theme: "safety", item: "sociaal-veilig-financiering", value: 0, asOf: PlanDate(iso: "2023-03-01")!, reportedAt: 1_700_000_000_000))],
            now: 1_700_000_000_000)
        try eventually("the report acknowledged") { try ws.outbox("safety").summary().acked == 1 }
        // The late joiner: snapshot first, then everything after it.
        var events = operatorClient.follow().makeAsyncIterator()
        guard case .snapshot(let snap)? = try await events.next() else { Issue.record("no snapshot first"); return }
        #expect(snap.items.first { $0.item == "sociaal-veilig-financiering" }?.state == .overdue)
        let key = "milestone-overdue:sociaal-veilig-financiering"
        #expect(snap.alerts.contains { $0.key == key && $0.state == .firing })
        // New reports after the snapshot arrive in sequence, right after it.
        try ws.outbox("safety").enqueue([.milestoneProgress(MilestoneProgress(
            theme: "safety", item: "sociaal-veilig-financiering", value: 1, asOf: PlanDate(iso: "2023-05-15")!, reportedAt: 1_700_000_000_000))],
            now: 1_700_000_000_000)
        var sequences: [UInt64] = []
        var resolved = false
        while !resolved {
            switch try await events.next() {
            case .alert(let t)?:
                sequences.append(t.sequence)
                if t.key == key && t.to == .resolved { resolved = true }
            case .status(let c)?: sequences.append(c.sequence)
            case .gap?: Issue.record("a gap after the snapshot"); return
            case nil: Issue.record("the stream ended"); return
            default: continue
            }
        }
        #expect(sequences.first == snap.sequence + 1)
        #expect(sequences == Array(sequences.first!...sequences.last!))
        // Acknowledging: an unknown key is refused with a reason.
        #expect { try operatorClient.acknowledge(key: "nope", by: "t", reason: "r", until: nil) } throws: { "\($0)".contains("no open alert") }
    }

    @Test("the demo's scenario ends in the status and alerts it is scripted to reach")
    func demo() async throws {
        let dir = NSTemporaryDirectory() + "koers-demo-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, text) = try await bounded(180, "the demo") { try runKoers(["demo", "--seconds", "30", "--quiet", "--dir", dir]) }
        #expect(status == 0, "\(text.suffix(3000))")
        #expect(text.contains("The scenario reached its scripted end state."))
        #expect(text.contains("Everything stopped"))
    }
}
