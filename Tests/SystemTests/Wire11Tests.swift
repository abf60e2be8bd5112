import Foundation
import Plan
import Testing
import Wire
import ZeroMQ
@testable import Aggregator
import History
@testable import ThemeService

/// A raw CURVE DEALER with the safety key, talking to a real aggregator as a client
/// written from `docs/protocol.md` would.
final class RawIngestClient: @unchecked Sendable {
    // Proof for Sendable: used by one test at a time, on its own thread.
    let context: Context
    let dealer: Socket
    let codec = WireCodec()

    init(_ ws: Workspace, theme: String = "safety") throws {
        context = try Context()
        dealer = try context.socket(.dealer)
        let keys = try CurveKeyFile.read(ws.keys + "/\(theme).key_secret").keyPair!
        try dealer.makeCurveClient(keyPair: keys, serverKey: try CurveKeyFile.read(ws.keys + "/aggregator.key").publicKey)
        try dealer.set(.receiveTimeout, .milliseconds(20_000))
        try dealer.set(.linger, .after(.zero))
        try dealer.connect(ws.endpoint)
    }

    func send(_ p: Payload, _ seq: UInt64) throws {
        let (e, b) = codec.encode(WireMessage(p, sequence: seq, sentAt: SystemClock().now()))
        try dealer.send(Message([Frame(e), Frame(b)]))
    }

    func sendRaw(type: MessageType, _ seq: UInt64, payload: [UInt8]) throws {
        let env = Envelope(type: type, sequence: seq, sentAt: SystemClock().now())
        try dealer.send(Message([Frame(env.bytes), Frame(payload)]))
    }

    func reply() throws -> Payload {
        let m = try dealer.receive()
        return try codec.decode(envelope: m[0].bytes, payload: m[1].bytes, now: SystemClock().now() + 86_400_000).payload
    }

    /// Nothing more arrives within `ms` (a bounded wait).
    func silent(ms: Int) throws -> Bool {
        try dealer.set(.receiveTimeout, .milliseconds(ms))
        defer { try? dealer.set(.receiveTimeout, .milliseconds(20_000)) }
        do { _ = try dealer.receive(); return false } catch { return true }
    }

    func close() {
        dealer.close()
        context.terminate()
    }
}

func safetyReport(_ note: String, reportedAt: Int64 = SystemClock().now(), theme: String = "safety") -> Payload {
    .milestoneProgress(MilestoneProgress(theme: theme, item: theme == "safety" ? "sociaal-veilig-uitrol" : "bvs-werksferen", value: 5,
                                         asOf: PlanDate(iso: "2023-01-01")!, reportedAt: reportedAt, note: note))
}

@Suite("Wire 1.1 on real sockets", .serialized)
struct Wire11Tests {
    @Test("no HELLO needed; a final NACK comes before the ACK that settles it; 211 settles nothing and the same report is taken once the clocks agree")
    func settlingOnTheWire() throws {
        let ws = try Workspace()
        let aggregator = try ws.aggregator()
        defer { aggregator.stop() }
        let client = try RawIngestClient(ws)
        defer { client.close() }

        // 1.1: reports without a HELLO first are taken (the CURVE key authenticates).
        try client.send(safetyReport("one"), 1)
        #expect(try client.reply() == .ack(Ack(settledThrough: 1)))

        // A final refusal: its NACK, then the ACK that covers it, in that order.
        try client.send(safetyReport("two", theme: "work"), 2)
        guard case .nack(let wrong) = try client.reply() else { Issue.record("expected the NACK first"); return }
        #expect(wrong.refusedSequence == 2 && wrong.reason == .identityMismatch && wrong.reason.isFinal)
        #expect(try client.reply() == .ack(Ack(settledThrough: 2)))

        // reported_at 4 s beyond the 5-minute tolerance (room for a loaded machine): 211,
        // not final, nothing stored, no ACK.
        let skew = WireCodec().limits.clockSkewMilliseconds
        let early = safetyReport("three", reportedAt: SystemClock().now() + skew + 4000)
        try client.send(early, 3)
        guard case .nack(let future) = try client.reply() else { Issue.record("expected a NACK"); return }
        #expect(future.refusedSequence == 3 && future.reason == .futureTimestamp && !future.reason.isFinal)
        #expect(try client.silent(ms: 300), "no ACK may follow a non-final NACK")
        #expect(try ws.store().earlier(publisher: "safety", sequence: 3) == nil, "a 211 must not be stored as a refusal")

        // A later report meanwhile: 402, and settled_through is still 2.
        try client.send(safetyReport("four"), 4)
        guard case .nack(let gap) = try client.reply() else { Issue.record("expected a NACK"); return }
        #expect(gap.refusedSequence == 4 && gap.reason == .sequenceGap && !gap.reason.isFinal)
        try client.send(.hello(Hello(theme: "safety", planVersion: 1, service: "test", lastSequence: 4)), 0)
        #expect(try client.reply() == .welcome(Welcome(settledThrough: 2, planVersion: 1)))

        // Once the clocks agree, the very same report (same sequence, same payload) is taken.
        Thread.sleep(forTimeInterval: 4.5)
        try client.send(early, 3)
        #expect(try client.reply() == .ack(Ack(settledThrough: 3)))
        try client.send(safetyReport("four"), 4)
        #expect(try client.reply() == .ack(Ack(settledThrough: 4)))
        #expect(try ws.store().reports(publisher: "safety").map(\.note) == ["one", "three", "four"])
        #expect(try StoreHistory(path: ws.store().path).refusalCounts() == [.identityMismatch: 1])
    }

    @Test("resends are answered in order, each refused one's NACK before any ACK covering it")
    func resendOrder() throws {
        let ws = try Workspace()
        let aggregator = try ws.aggregator()
        defer { aggregator.stop() }
        let client = try RawIngestClient(ws)
        defer { client.close() }
        let reports = [safetyReport("one"), safetyReport("two", theme: "work"), safetyReport("three")]
        for (i, r) in reports.enumerated() { try client.send(r, UInt64(i + 1)) }
        // One ACK per batch: read until everything is settled.
        while try client.reply() != .ack(Ack(settledThrough: 3)) {}
        // As if every reply had been lost: all three again, in one go.
        for (i, r) in reports.enumerated() { try client.send(r, UInt64(i + 1)) }
        var again: [Payload] = []
        for _ in 0..<3 { again.append(try client.reply()) }
        guard again.count == 3, case .nack(let n) = again[1] else { Issue.record("got \(again)"); return }
        #expect(again[0] == .ack(Ack(settledThrough: 1)), "an ACK through 3 here would cover #2 before its NACK")
        #expect(n.refusedSequence == 2 && n.reason == .identityMismatch)
        #expect(again[2] == .ack(Ack(settledThrough: 3)))
    }

    @Test("a report refused while the service missed the NACK is marked refused after WELCOME, not acknowledged")
    func lostNackRecovered() throws {
        let ws = try Workspace()
        let aggregator = try ws.aggregator()
        defer { aggregator.stop() }
        try ws.outbox("safety").enqueue([safetyReport("one"), safetyReport("two", theme: "work"), safetyReport("three")], now: SystemClock().now())
        // The reports reach the aggregator and are settled, but the service never hears
        // the replies (here: another client with the same key sends them).
        let client = try RawIngestClient(ws)
        for e in try ws.outbox("safety").entries(from: 1, limit: 3) { try client.sendRaw(type: e.type, e.sequence, payload: e.payload) }
        while try client.reply() != .ack(Ack(settledThrough: 3)) {}
        client.close()
        #expect(try ws.outbox("safety").pendingCount() == 3)
        let service = try ws.theme("safety")
        defer { service.stop() }
        try eventually("all three settled in the outbox") { try ws.outbox("safety").pendingCount() == 0 }
        let s = try ws.outbox("safety").summary()
        #expect(s.acked == 2 && s.refused.map(\.sequence) == [2] && s.refused.first?.reason == .identityMismatch)
        #expect(try ws.store().reports(publisher: "safety").map(\.note) == ["one", "three"])
    }

    @Test("a payload between 4 KiB and 64 KiB gets NACK 106; a frame over 64 KiB drops the connection, counted at stop")
    func sizeLimits() throws {
        let ws = try Workspace()
        let aggregator = try ws.aggregator()
        let client = try RawIngestClient(ws)
        defer { client.close() }
        let base = WireCodec().encodePayload(safetyReport("big"))
        // An extension field (tag 200) pads the payload to 5,000 and then 60,000 bytes.
        for (seq, size) in [(UInt64(1), 5_000), (2, 60_000), (3, 65_400)] {
            let pad = size - base.count - 3
            try client.sendRaw(type: .milestoneProgress, seq, payload: base + [200, UInt8(pad & 0xFF), UInt8(pad >> 8)] + [UInt8](repeating: 0, count: pad))
            guard case .nack(let n) = try client.reply() else { Issue.record("expected NACK 106 for \(size) bytes"); return }
            #expect(n.refusedSequence == seq && n.reason == .payloadTooLarge)
            #expect(try client.reply() == .ack(Ack(settledThrough: seq)))
        }
        // Over ZMQ_MAXMSGSIZE: no reply can come; the connection is dropped.
        let pad = 70_000
        try client.sendRaw(type: .milestoneProgress, 4, payload: base + [200, 0xFF, 0xFF] + withUnsafeBytes(of: UInt32(pad).littleEndian, Array.init)
                           + [UInt8](repeating: 0, count: pad))
        #expect(try client.silent(ms: 1000))
        try eventually("the drop logged") {
            try String(contentsOfFile: ws.dir + "/aggregator.log", encoding: .utf8).contains("ingest connection dropped")
        }
        aggregator.stop()
        let log = try String(contentsOfFile: ws.dir + "/aggregator.log", encoding: .utf8)
        #expect(log.contains("connections_dropped=1") || log.contains("connections_dropped: 1") || log.contains("connections_dropped=\"1\""), "\(log)")
        #expect(log.contains("payload_too_large=3") || log.contains("106 payload_too_large=3"), "\(log)")
    }

    @Test("the theme service keeps a report whose reported_at is ahead of the aggregator's clock and delivers it, then the rest, once the clocks agree")
    func futureReportDeliveredLater() throws {
        let ws = try Workspace()
        let aggregator = try ws.aggregator()
        let skew = WireCodec().limits.clockSkewMilliseconds
        try ws.outbox("safety").enqueue([safetyReport("report 1", reportedAt: SystemClock().now() + skew + 8000)]
                                        + (2...5).map { safetyReport("report \($0)") }, now: SystemClock().now())
        let service = try ws.theme("safety")
        try eventually("the theme service to hold the report back") {
            try String(contentsOfFile: ws.dir + "/safety.log", encoding: .utf8).contains("CHECK THE CLOCKS")
        }
        #expect(try ws.outbox("safety").summary().refused.isEmpty)
        #expect(try ws.outbox("safety").summary().lastProblem?.contains("held back") == true)
        try eventually("all five acknowledged", within: 60) { try ws.outbox("safety").summary().acked == 5 }
        #expect(try ws.outbox("safety").summary().refused.isEmpty)
        #expect(try ws.outbox("safety").summary().lastProblem == nil)
        try expectExactlyOnce(ws, publisher: "safety", count: 5)
        service.stop()
        aggregator.stop()
    }
}

@Suite("Why nothing is delivered", .serialized)
struct DiagnosisTests {
    /// Runs `koers theme run safety` with `keys` against `endpoint` until the outbox
    /// records `verdict`; returns the service's log and `theme status --json`.
    func diagnose(_ ws: Workspace, keys: String, endpoint: String, expect verdict: String, sentence: String, logged: String? = nil) throws {
        try ws.outbox("safety").enqueue(safetyReports(1...2), now: 1_700_000_000_000)
        let started = ContinuousClock.now
        let service = try Child(["theme", "run", "safety", "--keys", keys, "--data", ws.data, "--aggregator", endpoint], log: ws.dir + "/safety.log")
        defer { service.stop() }
        try eventually("the diagnosis \(verdict)", within: 15) { try ws.outbox("safety").summary().diagnosis?.verdict == verdict }
        #expect(ContinuousClock.now - started < .seconds(10), "a diagnosis must come within a few seconds")
        try eventually("the log to say so") { try String(contentsOfFile: ws.dir + "/safety.log", encoding: .utf8).contains(logged ?? sentence) }
        let (code, text) = try ws.koers(["theme", "status", "safety"])
        #expect(code == 0 && text.contains("connection    \(verdict)") && text.contains(sentence), "\(text)")
        let (jcode, json) = try ws.koers(["theme", "status", "safety", "--json"])
        struct Doc: Decodable { struct C: Decodable { var diagnosis: String; var sentence: String }; var connection: C?; var pending: Int }
        #expect(jcode == 0, "\(json)")
        let doc = try JSONDecoder().decode(Doc.self, from: Data(json.utf8))
        #expect(doc.connection?.diagnosis == verdict && doc.connection?.sentence.contains(sentence) == true && (verdict == "connected" || doc.pending == 2))
    }

    @Test("nothing listening at the endpoint")
    func nothingListening() throws {
        let ws = try Workspace()
        try diagnose(ws, keys: ws.keys, endpoint: ws.endpoint, expect: "nothing_listening", sentence: "nothing is listening at \(ws.endpoint)")
    }

    @Test("the aggregator's public key is wrong")
    func serverKeyWrong() throws {
        let ws = try Workspace()
        let aggregator = try ws.aggregator()
        defer { aggregator.stop() }
        let keys = ws.dir + "/wrongserver"
        try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "aggregator", directory: keys)
        for f in ["safety.key", "safety.key_secret"] { try FileManager.default.copyItem(atPath: ws.keys + "/" + f, toPath: keys + "/" + f) }
        try diagnose(ws, keys: keys, endpoint: ws.endpoint, expect: "server_key_wrong", sentence: "the encrypted handshake fails")
    }

    @Test("this theme's key is not trusted")
    func clientKeyNotTrusted() throws {
        let ws = try Workspace()
        let aggregator = try ws.aggregator()
        defer { aggregator.stop() }
        let keys = ws.dir + "/newkeys"
        try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "safety", directory: keys)
        try FileManager.default.copyItem(atPath: ws.keys + "/aggregator.key", toPath: keys + "/aggregator.key")
        try diagnose(ws, keys: keys, endpoint: ws.endpoint, expect: "client_key_not_trusted", sentence: "refused this service's key (ZAP status 400)")
    }

    @Test("a running aggregator reads as connected")
    func connected() throws {
        let ws = try Workspace()
        let aggregator = try ws.aggregator()
        defer { aggregator.stop() }
        try diagnose(ws, keys: ws.keys, endpoint: ws.endpoint, expect: "connected", sentence: "the handshake succeeded",
                     logged: "connected to the aggregator")
    }
}
