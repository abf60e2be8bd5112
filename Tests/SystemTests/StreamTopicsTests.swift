import Foundation
import Plan
import StreamProtocol
import Testing
import Wire
import ZeroMQ
@testable import Aggregator
@testable import Operators
@testable import ThemeService

@Suite("Stream topics: a filtered subscriber tells a lost message from one it filtered out")
struct StreamTopicsTests {
    func snapshot(sequence: UInt64, topics: [String: UInt64]) -> StreamDocuments.Snapshot {
        StreamDocuments.Snapshot(sequence: sequence, date: PlanDate(iso: "2023-01-01")!, planVersion: 1, items: [], rollups: [], alerts: [],
                                 silentThemes: [], topics: topics)
    }

    @Test("filtered to one theme: other themes' sequences are not gaps, a skipped previous is")
    func filteredGaps() {
        var g = GapDetector(snapshot: snapshot(sequence: 10, topics: ["status.work": 8, "status.safety": 10]), theme: "work")
        #expect(g.message(topic: "status.work", sequence: 7, previous: 5) == .seen)       // already in the snapshot
        #expect(g.message(topic: "status.work", sequence: 14, previous: 8) == .new)       // 11–13 were other topics'
        #expect(g.message(topic: "alert.work.warning", sequence: 15, previous: 0) == .new) // the topic's first message
        #expect(g.message(topic: "status.work", sequence: 20, previous: 17) == .gap(expected: 17)) // 17 was lost
        var h = GapDetector(snapshot: snapshot(sequence: 10, topics: ["status.work": 8]), theme: "work")
        #expect(h.heartbeat(sequence: 30, document: .init(sequence: 30, topics: ["status.work": 8, "status.safety": 30])) == nil)
        #expect(h.heartbeat(sequence: 31, document: .init(sequence: 31, topics: ["status.work": 31]))! == (9, 31))
        // `status.work-x` is not `status.work`'s.
        #expect(!OperatorClient.wanted("status.work-x", theme: "work"))
        #expect(OperatorClient.wanted("alert.work.critical", theme: "work"))
    }

    @Test("unfiltered: the stream sequence runs without a hole")
    func unfilteredGaps() {
        var g = GapDetector(snapshot: snapshot(sequence: 10, topics: [:]), theme: nil)
        #expect(g.message(topic: "status.work", sequence: 10, previous: 3) == .seen)
        #expect(g.message(topic: "status.work", sequence: 11, previous: 10) == .new)
        #expect(g.message(topic: "status.safety", sequence: 13, previous: 0) == .gap(expected: 12))
        #expect(g.heartbeat(sequence: 11, document: nil) == nil)
        #expect(g.heartbeat(sequence: 12, document: nil)! == (12, 12))
    }

    @Test("a live stream: each message names its topic and the previous one on it; a theme's goals and interventions are on its topic")
    func liveTopics() async throws {
        try await bounded(180, "live topics") {
            let ws = try Workspace()
            try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "operator:ops", directory: ws.keys)
            let aggregator = try ws.aggregator()
            let service = try ws.theme("safety")
            defer { service.stop(); aggregator.stop() }
            let context = try Context()
            defer { context.terminate() }
            let sub = try context.socket(.sub)
            defer { sub.close() }
            try sub.makeCurveClient(keyPair: try CurveKeyFile.read(ws.keys + "/operator.ops.key_secret").keyPair!,
                                    serverKey: try CurveKeyFile.read(ws.keys + "/aggregator.key").publicKey)
            try sub.set(.linger, .after(.zero))
            try sub.set(.receiveTimeout, .after(.seconds(60)))  // generous: a loaded machine starts the aggregator slowly
            try sub.subscribe("status.safety")
            try sub.subscribe("hb")
            try sub.connect(ws.streamEndpoint)
            // The heartbeat (sent each second while quiet) tells where each topic stands.
            var hb: StreamDocuments.Heartbeat?
            while hb == nil {
                let m = try sub.receive()
                guard m[0].string == "hb", case .streamHeartbeat(let d?) = try WireCodec().decode(envelope: m[1].bytes, payload: m[2].bytes, now: .max / 2).payload
                else { continue }
                hb = try JSONDecoder().decode(StreamDocuments.Heartbeat.self, from: Data(d.utf8))
            }
            var last = hb!.topics["status.safety"] ?? 0
            // The whole intervention done, so that its roll-up changes too.
            let done = [("sociaal-veilig-gestart", 1.0), ("sociaal-veilig-gms", 1), ("sociaal-veilig-financiering", 1), ("sociaal-veilig-uitrol", 8)]
            try ws.outbox("safety").enqueue(done.map { .milestoneProgress(MilestoneProgress(
                theme: "safety", item: $0.0, value: $0.1, asOf: PlanDate(iso: "2023-03-01")!, reportedAt: 1_700_000_000_000)) },
                now: 1_700_000_000_000)
            var nodes: [String] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while !nodes.contains(where: { $0.hasPrefix("intervention:") }) && ContinuousClock.now < deadline {
                let m = try sub.receive()
                guard m[0].string == "status.safety" else { continue }
                guard case .statusChange(let d) = try WireCodec().decode(envelope: m[1].bytes, payload: m[2].bytes, now: .max / 2).payload else { continue }
                let doc = try JSONDecoder().decode(StreamDocuments.StatusChange.self, from: Data(d.utf8))
                #expect(doc.topic == "status.safety")
                #expect(doc.previous == last, "each message links to the previous one on its topic")
                last = doc.sequence
                nodes.append(doc.item)
            }
            #expect(nodes.contains("sociaal-veilig-financiering"))
            #expect(nodes.contains { $0.hasPrefix("intervention:") }, "roll-ups inside the theme go on its topic: \(nodes)")
        }
    }
}
