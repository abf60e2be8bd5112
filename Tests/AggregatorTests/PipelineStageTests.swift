import Foundation
import Plan
import Testing
import Wire
import ZeroMQ

@testable import Aggregator

/// Each stage of the ingest pipeline alone, and the intake's decisions over a batch:
/// every refusal the aggregator makes on the ingest channel, with its code.
@Suite("The ingest pipeline's stages")
struct PipelineStageTests {
    static let plan = try! PlanLoader.loadDefault(path: nil)
    static let index = PlanIndex(plan)
    /// 2024-06-01, after every report's date below.
    static let now = PlanDate(iso: "2024-06-01")!.epochMilliseconds
    let codec = WireCodec()

    func report(_ seq: UInt64, theme: String = "safety", item: String = "sociaal-veilig-uitrol", value: Double = 4, date: String = "2024-01-01",
                reportedAt: Int64 = now - 1000) -> (envelope: [UInt8], payload: [UInt8]) {
        codec.encode(WireMessage(.milestoneProgress(MilestoneProgress(theme: theme, item: item, value: value, asOf: PlanDate(iso: date)!,
                                                                      reportedAt: reportedAt, note: "report \(seq)")),
                                 sequence: seq, sentAt: Self.now))
    }

    func message(_ parts: (envelope: [UInt8], payload: [UInt8])) -> Message {
        Message([Frame("peer"), Frame(parts.envelope), Frame(parts.payload)])
    }

    func framed(_ parts: (envelope: [UInt8], payload: [UInt8]), identity: String?) throws -> Decode.Framed {
        guard case .framed(var f) = Decode()(message(parts)) else { throw TestFailure("did not decode") }
        f.identity = identity
        return f
    }

    func nacks(_ out: Intake.Outcome) -> [(UInt64, ReasonCode)] {
        out.replies.compactMap { if case .nack(let n) = $0.payload { return (n.refusedSequence, n.reason) }; return nil }
    }

    // MARK: Decode

    @Test("decode refuses a wrong frame count (100) and a broken envelope (its own code), and drops a message with no routing id")
    func decode() throws {
        let d = Decode()
        guard case .refused(let r) = d(Message([Frame("peer"), Frame([1, 2, 3])])) else { throw TestFailure("two frames accepted") }
        #expect(r.code == .frameCount && r.sequence == 0)
        var e = report(1).envelope
        e[0] ^= 0xff
        guard case .refused(let bad) = d(message((e, report(1).payload))) else { throw TestFailure("bad magic accepted") }
        #expect(bad.code == .badMagic)
        guard case .refused(let short) = d(message(([1, 2], report(1).payload))) else { throw TestFailure("short envelope accepted") }
        #expect(short.code == .envelopeSize)
        guard case .dropped = d(Message([Frame]())) else { throw TestFailure("empty message answered") }
        guard case .framed(let f) = d(message(report(7))) else { throw TestFailure("good message refused") }
        #expect(f.envelope.sequence == 7 && f.isReport)
    }

    // MARK: Authorise

    @Test("authorise takes the key's identity, refuses an operator's key (308) and, outside plain mode, a connection without one (303)")
    func authorise() throws {
        #expect(try Authorise(plain: false)(framed(report(1), identity: "safety")).get() == "safety")
        #expect(throws: Refused.self) { try Authorise(plain: false)(framed(report(1), identity: "operator:ops")).get() }
        if case .failure(let r) = try Authorise(plain: false)(framed(report(1), identity: "operator:ops")) { #expect(r.code == .notPermitted) }
        if case .failure(let r) = try Authorise(plain: false)(framed(report(1), identity: nil)) { #expect(r.code == .identityMismatch) } else {
            Issue.record("an unauthenticated connection was trusted")
        }
        // Plain mode (tests only): the theme the payload names.
        #expect(try Authorise(plain: true)(framed(report(1, theme: "work", item: "x"), identity: nil)).get() == "work")
    }

    // MARK: Deduplicate

    @Test("deduplicate: the next sequence is decided, one at or below the level is a resend, one beyond the next a gap")
    func deduplicate() {
        var d = Deduplicate(settledThrough: ["safety": 4])
        #expect(d(publisher: "safety", sequence: 5) == .next)
        #expect(d(publisher: "safety", sequence: 4) == .resend)
        #expect(d(publisher: "safety", sequence: 1) == .resend)
        #expect(d(publisher: "safety", sequence: 7) == .gap(expected: 5))
        #expect(d(publisher: "work", sequence: 1) == .next)
        d.settle("safety", through: 5)
        #expect(d(publisher: "safety", sequence: 6) == .next)
    }

    // MARK: Validate

    @Test("validate refuses an unknown item (300), another theme's report (303), an unknown theme (301), a future date (210) and a report from the future (211)")
    func validate() throws {
        let v = Validate(index: Self.index)
        func code(_ parts: (envelope: [UInt8], payload: [UInt8]), _ identity: String?) throws -> ReasonCode? {
            if case .failure(let e) = v(try framed(parts, identity: identity), now: Self.now) { return e.code }
            return nil
        }
        #expect(try code(report(1), "safety") == nil)
        #expect(try code(report(1, item: "no-such-item"), "safety") == .unknownItem)
        #expect(try code(report(1), "work") == .identityMismatch)
        #expect(try code(report(1, theme: "wrk"), nil) == .unknownTheme)
        #expect(try code(report(1, date: "2024-06-09"), "safety") == .outOfRange)
        #expect(try code(report(1, reportedAt: Self.now + 2 * PlanDate.millisecondsPerDay), "safety") == .futureTimestamp)
    }

    // MARK: The intake over a batch

    @Test("a batch: accepted reports move the level, a final refusal is stored and uses up its number, a 211 does not, a gap is refused 402")
    func batch() throws {
        var intake = Intake(index: Self.index, planVersion: 1, plain: true, settledThrough: ["safety": 2])
        let batch = [message(report(3)), message(report(4, item: "no-such-item")), message(report(5, reportedAt: Self.now + 2 * PlanDate.millisecondsPerDay)),
                     message(report(9)), message(report(2))]
        let out = intake.process(batch, now: Self.now)
        #expect(out.reports.map(\.sequence) == [3])
        #expect(out.refusals.map(\.sequence) == [4] && out.refusals.first?.reason == .unknownItem)
        #expect(intake.settledThrough["safety"] == 4, "the final refusal settles 4; the 211 leaves 5 to be sent again")
        let refused = nacks(out)
        #expect(refused.contains { $0 == (4, .unknownItem) })
        #expect(refused.contains { $0 == (5, .futureTimestamp) })
        #expect(refused.contains { $0 == (9, .sequenceGap) })
        #expect(out.resends.map(\.sequence) == [2], "a resend is answered from the store, not decided again")
        #expect(out.advanced.keys.sorted() == ["safety"])
        #expect(out.received["safety"] == 5)
        #expect(out.refused[.init(theme: "safety", code: .unknownItem)] == 1)
    }

    @Test("a resend is acknowledged through its own sequence, its refusal repeated, or refused 401 when its payload differs")
    func resends() throws {
        let dir = NSTemporaryDirectory() + "koers-stages-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ReportStore(path: dir + "/koers.sqlite")
        var intake = Intake(index: Self.index, planVersion: 1, plain: true, settledThrough: [:])
        let first = intake.process([message(report(1)), message(report(2, item: "no-such-item"))], now: Self.now)
        try store.commit(reports: first.reports, refusals: first.refusals, acked: ["safety": 2])
        let again = intake.process([message(report(1)), message(report(2, item: "no-such-item")), message(report(1, value: 5))], now: Self.now)
        let answers = try again.resends.map { try Deduplicate.answer($0, store: store) }
        guard answers.count == 3, case .ack(let a) = answers[0], case .nack(let n) = answers[1], case .nack(let c) = answers[2] else {
            throw TestFailure("answers: \(answers)")
        }
        #expect(a.settledThrough == 1)
        #expect(n.reason == .unknownItem && n.refusedSequence == 2)
        #expect(c.reason == .sequenceConflict && c.refusedSequence == 1)
    }

    @Test("a hello is welcomed with the level; a heartbeat is liveness only; a stream message on the ingest channel is refused 107")
    func hellos() throws {
        var intake = Intake(index: Self.index, planVersion: 3, plain: true, settledThrough: ["safety": 8])
        let hello = codec.encode(WireMessage(.hello(Hello(theme: "safety", planVersion: 3, service: "t", lastSequence: 8)), sequence: 0, sentAt: Self.now))
        let beat = codec.encode(WireMessage(.heartbeat(Heartbeat(theme: "safety", lastSequence: 8, outboxDepth: 2)), sequence: 0, sentAt: Self.now))
        let wrong = codec.encode(WireMessage(.ack(Ack(settledThrough: 1)), sequence: 0, sentAt: Self.now))
        let out = intake.process([message(hello), message(beat), message(wrong)], now: Self.now)
        guard case .welcome(let w) = out.replies.first?.payload else { throw TestFailure("no welcome: \(out.replies)") }
        #expect(w.settledThrough == 8 && w.planVersion == 3)
        #expect(out.liveness["safety"]?.outboxDepth == 2)
        #expect(nacks(out).map(\.1) == [.wrongDirection])
        #expect(out.reports.isEmpty && out.refusals.isEmpty)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
