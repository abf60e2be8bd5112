import Foundation
import GRDB
import Plan
import StreamProtocol
import Testing
import Wire

@testable import Aggregator
import History

/// The acknowledgement log: one type (`StoreHistory.Acknowledgement`) written by the
/// aggregator's store and read back by the tools, with its dates as `PlanDate`s.
@Suite("The acknowledgement log")
struct AcknowledgementLogTests {
    func withStore(_ body: (ReportStore) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "koers-acks-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(try ReportStore(path: dir + "/koers.sqlite"))
    }

    static func transition(_ seq: UInt64, _ key: String) -> ReportStore.StreamRecord {
        ReportStore.StreamRecord(sequence: seq, type: .alertTransition, topic: "alert.\(key)", document: #"{"key":"\#(key)"}"#,
                                 alert: (key: key, openDocument: "{}"))
    }

    static let acks = [
        StoreHistory.Acknowledgement(sequence: 1, alert: "milestone-overdue:pmg-toekenning", identity: "operator:ops", by: "Anna",
                                     reason: "gemeente zoekt dekking", until: PlanDate(iso: "2024-06-30")!, date: PlanDate(iso: "2024-05-01")!,
                                     at: 1_714_521_600_000),
        StoreHistory.Acknowledgement(sequence: 2, alert: "milestone-lagging:bvs-werksferen", identity: "operator:bureau", by: nil,
                                     reason: "werkgevers benaderd", until: nil, date: PlanDate(iso: "2024-05-02")!, at: 1_714_608_000_000),
    ]

    @Test("what the store appends, the history reads back as it was: dates as PlanDate, the transition's sequence as key")
    func roundTrip() throws {
        try withStore { store in
            for ack in Self.acks { try store.appendAcknowledgement(ack, stream: [Self.transition(ack.sequence, ack.alert)]) }
            let history = try StoreHistory(path: store.path)
            #expect(try history.acknowledgements() == Self.acks)
            #expect(try history.acknowledgements(alert: "milestone-lagging:bvs-werksferen") == [Self.acks[1]])
            // The transition went into the stream in the same transaction, at the same time.
            let stream = try DatabaseQueue(path: store.path).read { try Row.fetchAll($0, sql: "SELECT seq, at FROM stream ORDER BY seq") }
            #expect(stream.map { $0["seq"] as Int64 } == [1, 2])
            #expect(stream.map { $0["at"] as Int64 } == Self.acks.map(\.at))
        }
    }

    @Test("the JSON of the log (koers acks --json, GET /api/v1/acknowledgements) writes the dates as YYYY-MM-DD, as before")
    func json() throws {
        let text = StreamDocuments.encode(Self.acks)
        #expect(text == #"[{"alert":"milestone-overdue:pmg-toekenning","at":1714521600000,"by":"Anna","date":"2024-05-01","identity":"operator:ops","#
                + #""reason":"gemeente zoekt dekking","sequence":1,"until":"2024-06-30"},"#
                + #"{"alert":"milestone-lagging:bvs-werksferen","at":1714608000000,"date":"2024-05-02","identity":"operator:bureau","#
                + #""reason":"werkgevers benaderd","sequence":2}]"#)
        #expect(try StreamDocuments.decode([StoreHistory.Acknowledgement].self, from: text) == Self.acks)
        #expect(throws: DecodingError.self) {
            try StreamDocuments.decode([StoreHistory.Acknowledgement].self, from: text.replacingOccurrences(of: "2024-06-30", with: "30-06-2024"))
        }
    }

    @Test("a stored date that is not one is refused by name and row, not read as a string or skipped", arguments: [
        ("date", "2024-13-01", "acknowledgements row seq 2: `date` is `2024-13-01`, not a YYYY-MM-DD date"),
        ("until", "morgen", "acknowledgements row seq 2: `until` is `morgen`, not a YYYY-MM-DD date"),
    ])
    func badDate(column: String, value: String, message: String) throws {
        try withStore { store in
            for ack in Self.acks { try store.appendAcknowledgement(ack, stream: [Self.transition(ack.sequence, ack.alert)]) }
            try DatabaseQueue(path: store.path).write {
                try $0.execute(sql: "UPDATE acknowledgements SET \(column) = ? WHERE seq = 2", arguments: [value])
            }
            #expect { try StoreHistory(path: store.path).acknowledgements() } throws: { error in
                guard let e = error as? HistoryError else { return false }
                return e.code == .badRow && e.description.contains(message) && e.description.contains("koers aggregator restore FILE")
            }
            // Only the bad row's alert is affected when asking for another one.
            #expect(try StoreHistory(path: store.path).acknowledgements(alert: "milestone-overdue:pmg-toekenning") == [Self.acks[0]])
        }
    }
}
