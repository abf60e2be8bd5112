import Foundation
import Plan
import StreamProtocol
import History
import Testing
import Wire
import ZeroMQ
@testable import Aggregator
@testable import Operators
@testable import ThemeService

/// The operators' channels as a client written from docs/protocol.md sees them: roles
/// by key, SNAPSHOT_ERROR for every refused request, the acknowledgement log, and the
/// trusted keys reloaded on SIGHUP.
@Suite("Roles and the snapshot channel's answers, with real processes", .serialized)
struct RolesTests {
    static let codec = WireCodec()

    /// A DEALER on the snapshot channel with the key `stem` (a file in KEYS).
    func dealer(_ ws: Workspace, _ context: Context, key stem: String, endpoint: String? = nil) throws -> Socket {
        let s = try context.socket(.dealer)
        try s.makeCurveClient(keyPair: try CurveKeyFile.read("\(ws.keys)/\(stem).key_secret").keyPair!,
                              serverKey: try CurveKeyFile.read(ws.keys + "/aggregator.key").publicKey)
        try s.set(.linger, .after(.zero))
        try s.set(.receiveTimeout, .after(.seconds(5)))
        try s.connect(endpoint ?? ws.snapshotEndpoint)
        return s
    }

    /// Sends raw frames and decodes the one reply.
    func ask(_ s: Socket, _ frames: [[UInt8]]) throws -> WireMessage {
        try s.send(Message(frames.map { Frame($0) }))
        let r = try s.receive()
        #expect(r.count == 2)
        return try Self.codec.decode(envelope: r[0].bytes, payload: r[1].bytes, now: Int64.max / 2)
    }

    func ask(_ s: Socket, _ payload: Payload, id: UInt64 = 7) throws -> WireMessage {
        let (e, p) = Self.codec.encode(WireMessage(payload, sequence: id, sentAt: SystemClock().now()))
        return try ask(s, [e, p])
    }

    func refusal(_ m: WireMessage) -> (ReasonCode, String)? {
        if case .snapshotError(let code, let detail) = m.payload { return (code, detail) }
        return nil
    }

    /// Runs `body` with a workspace whose keys include `operator:ops`, its aggregator
    /// started and answering snapshot requests, and a context for the test's sockets.
    func withAggregator(_ body: (Workspace, Context) async throws -> Void) async throws {
        let ws = try Workspace()
        try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "operator:ops", directory: ws.keys)
        let aggregator = try ws.aggregator()
        defer { aggregator.stop() }
        let context = try Context()
        defer { context.terminate() }
        try eventually("the aggregator is up", within: 90) { try answered(ws, context, "operator.ops") }
        try await body(ws, context)
    }

    /// Whether a SUB with this key hears a heartbeat within 3 s.
    func hearsHeartbeat(_ ws: Workspace, _ context: Context, key stem: String) throws -> Bool {
        let sub = try context.socket(.sub)
        defer { sub.close() }
        try sub.makeCurveClient(keyPair: try CurveKeyFile.read("\(ws.keys)/\(stem).key_secret").keyPair!,
                                serverKey: try CurveKeyFile.read(ws.keys + "/aggregator.key").publicKey)
        try sub.set(.linger, .after(.zero))
        try sub.set(.receiveTimeout, .after(.seconds(3)))
        try sub.subscribe("hb")
        try sub.connect(ws.streamEndpoint)
        let got: Message? = try? sub.receive()
        return got != nil
    }

    /// Whether a snapshot request with this key is answered with a snapshot within 2 s.
    func answered(_ ws: Workspace, _ context: Context, _ stem: String) throws -> Bool {
        let s = try dealer(ws, context, key: stem)
        defer { s.close() }
        try s.set(.receiveTimeout, .after(.seconds(2)))
        guard let m = try? ask(s, .snapshotRequest(theme: nil)) else { return false }
        return refusal(m) == nil
    }

    @Test("every refused request on the snapshot channel gets SNAPSHOT_ERROR with its reason code")
    func snapshotErrors() async throws {
        try await bounded(150, "snapshot errors") {
            try await self.withAggregator { ws, context in
                let s = try self.dealer(ws, context, key: "operator.ops")
                defer { s.close() }
                // A good request first: the key works.
                guard case .snapshotReply = try self.ask(s, .snapshotRequest(theme: "work")).payload else { Issue.record("no snapshot"); return }
                // One frame: 1.0 dropped it without an answer.
                #expect(self.refusal(try self.ask(s, [[1, 2, 3]]))?.0 == .frameCount)
                var bad = Envelope(type: .snapshotRequest, sequence: 3, sentAt: 0).bytes
                bad[0] = 0x58
                #expect(self.refusal(try self.ask(s, [bad, []]))?.0 == .badMagic)
                let hello = try self.ask(s, .hello(Hello(theme: "work", planVersion: 1, service: "x", lastSequence: 0)), id: 0)
                #expect(self.refusal(hello)?.0 == .wrongDirection)
                let typo = try self.ask(s, .snapshotRequest(theme: "wrk"), id: 9)
                #expect(self.refusal(typo)?.0 == .unknownTheme)
                #expect(self.refusal(typo)?.1.contains("did you mean `work`") == true)
                #expect(typo.envelope.sequence == 9, "the error carries the request id")
                #expect(self.refusal(try self.ask(s, .alertAck(document: "{not json")))?.0 == .badDocument)
                let unknown = try self.ask(s, .alertAck(document: #"{"key":"milestone-lagging:nope","reason":"r"}"#))
                #expect(self.refusal(unknown)?.0 == .unknownAlert)
                let blank = try self.ask(s, .alertAck(document: #"{"key":"k","reason":"  "}"#))
                #expect(self.refusal(blank)?.0 == .missingField)
            }
        }
    }

    @Test("a theme key reads only its own theme's snapshot and may not acknowledge nor read the stream; an operator key may not publish")
    func roles() async throws {
        try await bounded(150, "roles") {
            try await self.withAggregator { ws, context in
                let work = try self.dealer(ws, context, key: "work")
                defer { work.close() }
                guard case .snapshotReply(let doc) = try self.ask(work, .snapshotRequest(theme: nil)).payload else {
                    Issue.record("a theme key gets its own theme's snapshot"); return
                }
                let snap = try JSONDecoder().decode(StreamDocuments.Snapshot.self, from: Data(doc.utf8))
                let plan = try PlanLoader.loadDefault(path: nil)
                let index = PlanIndex(plan)
                #expect(!snap.items.isEmpty && snap.items.allSatisfy { index.position(of: $0.item).map { index.theme(at: $0) } == "work" })
                #expect(self.refusal(try self.ask(work, .snapshotRequest(theme: "safety")))?.0 == .notPermitted)
                #expect(self.refusal(try self.ask(work, .alertAck(document: #"{"key":"k","reason":"r"}"#)))?.0 == .notPermitted)
                // The stream: an operator's subscriber hears heartbeats, a theme key's nothing.
                #expect(try self.hearsHeartbeat(ws, context, key: "operator.ops"))
                #expect(try !self.hearsHeartbeat(ws, context, key: "work"))
                // The ingest channel: an operator key's HELLO is never answered (its handshake is refused).
                let ingest = try self.dealer(ws, context, key: "operator.ops", endpoint: ws.endpoint)
                defer { ingest.close() }
                try ingest.set(.receiveTimeout, .after(.seconds(2)))
                #expect(throws: ZMQError.self) { try self.ask(ingest, .hello(Hello(theme: "work", planVersion: 1, service: "x", lastSequence: 0)), id: 0) }
                let log = try String(contentsOfFile: ws.dir + "/aggregator.log", encoding: .utf8)
                #expect(log.contains("identity work may not use this channel (ZAP domain koers-stream)"))
                #expect(log.contains("identity operator:ops may not use this channel (ZAP domain koers-ingest)"))
            }
        }
    }

    @Test("an acknowledgement is logged with the key and the person; a scoped operator acknowledges its themes only")
    func acknowledgementLog() async throws {
        try await bounded(150, "the acknowledgement log") {
            let ws = try Workspace()
            try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "operator:ops", directory: ws.keys)
            // A scoped key: the `themes` line of docs/protocol.md's key-file format.
            let pair = try CurveKeyPair.generate()
            var scoped = CurveKeyFile(identity: "operator:werk", publicKey: pair.publicKey, secretKey: pair.secretKey)
            scoped.themes = ["work"]
            try scoped.render().write(toFile: ws.keys + "/operator.werk.key_secret", atomically: true, encoding: .utf8)
            chmod(ws.keys + "/operator.werk.key_secret", 0o600)  // a secret key readable by others is refused
            scoped.secretKey = nil
            try scoped.render().write(toFile: ws.keys + "/operator.werk.key", atomically: true, encoding: .utf8)
            // The report is in the outbox before the service starts (two processes creating
            // one outbox file at once race over its tables).
            try ws.outbox("safety").enqueue([.milestoneProgress(MilestoneProgress(
                theme: "safety", item: "sociaal-veilig-financiering", value: 0, asOf: PlanDate(iso: "2023-03-01")!, reportedAt: 1_700_000_000_000))],
                now: 1_700_000_000_000)
            let aggregator = try ws.aggregator()
            let service = try ws.theme("safety")
            defer { service.stop(); aggregator.stop() }
            try eventually("the report acknowledged") { try ws.outbox("safety").summary().acked == 1 }
            let key = "milestone-overdue:sociaal-veilig-financiering"
            let context = try Context()
            defer { context.terminate() }
            let werk = try self.dealer(ws, context, key: "operator.werk")
            defer { werk.close() }
            let ack = #"{"key":"\#(key)","by":"Anna","reason":"gemeente zoekt dekking","until":"2099-01-01"}"#
            let refused = try self.ask(werk, .alertAck(document: ack))
            #expect(self.refusal(refused)?.0 == .notPermitted)
            #expect(self.refusal(refused)?.1.contains("work only") == true)
            let ops = try self.dealer(ws, context, key: "operator.ops")
            defer { ops.close() }
            guard case .alertAckReply(let reply) = try self.ask(ops, .alertAck(document: ack)).payload else { Issue.record("not acknowledged"); return }
            #expect(reply == #"{"ok":true}"#)
            let (status, text) = try ws.koers(["acks", "--json"])
            #expect(status == 0, "\(text)")
            let log = try JSONDecoder().decode([StoreHistory.Acknowledgement].self, from: Data(text.utf8))
            #expect(log.count == 1)
            #expect(log.first?.alert == key && log.first?.identity == "operator:ops" && log.first?.by == "Anna")
            #expect(log.first?.reason == "gemeente zoekt dekking" && log.first?.until == PlanDate(iso: "2099-01-01"))
            let (_, human) = try ws.koers(["acks"])
            #expect(human.contains("by operator:ops (Anna) until 2099-01-01: gemeente zoekt dekking"))
        }
    }

    @Test("SIGHUP trusts a key added and refuses one removed, without a restart; SIGUSR1 does not stop it, SIGQUIT stops it cleanly")
    func reload() async throws {
        try await bounded(150, "reloading keys") {
            let ws = try Workspace()
            let aggregator = try ws.aggregator()
            defer { aggregator.stop() }
            let context = try Context()
            defer { context.terminate() }
            try eventually("the aggregator is up", within: 90) { try self.answered(ws, context, "work") }
            // A key made after the start is not trusted until SIGHUP.
            try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "operator:late", directory: ws.keys)
            #expect(try !self.answered(ws, context, "operator.late"))
            kill(aggregator.process.processIdentifier, SIGHUP)
            try eventually("the new key trusted", within: 10) { try self.answered(ws, context, "operator.late") }
            // Removed: refused for new connections after the next SIGHUP.
            try FileManager.default.removeItem(atPath: ws.keys + "/operator.late.key")
            kill(aggregator.process.processIdentifier, SIGHUP)
            try eventually("the removed key refused", within: 10) { try !self.answered(ws, context, "operator.late") }
            kill(aggregator.process.processIdentifier, SIGUSR1)
            try await Task.sleep(for: .milliseconds(500))
            #expect(aggregator.process.isRunning)
            #expect(try self.answered(ws, context, "work"))
            kill(aggregator.process.processIdentifier, SIGQUIT)
            aggregator.process.waitUntilExit()
            #expect(aggregator.process.terminationReason == .exit && aggregator.process.terminationStatus == 0)
            let log = try String(contentsOfFile: ws.dir + "/aggregator.log", encoding: .utf8)
            #expect(log.contains("trusted keys reloaded"))
            #expect(log.contains("aggregator stopped"))
        }
    }
}
