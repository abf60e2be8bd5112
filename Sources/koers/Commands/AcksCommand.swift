import ArgumentParser
import Foundation
import History
import StreamProtocol

/// `koers acks`: the log of acknowledgements — who took which alert on, when and why.
struct AcksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acks",
        abstract: "List every acknowledgement of an alert: who (the operator key and the person), when, why, until when.",
        discussion: """
            Reads the aggregator's store (DATA/aggregator/koers.sqlite); it may be running. Every acknowledgement \
            accepted by the aggregator is logged with the key that made it (operator:NAME) and the name the person \
            gave (`koers ack --by`), in the same transaction as the stream message that announces it.
            """)

    @Option(name: .long, help: "Where Koers keeps its data.")
    var data: String = "data"

    @Option(name: .long, help: "Only this alert's acknowledgements (its key, RULE:SUBJECT).")
    var alert: String?

    @Flag(name: .long, help: "One JSON array of {sequence, alert, identity, by, reason, until, date, at}.")
    var json = false

    func run() throws {
        let store: StoreHistory
        do { store = try StoreHistory(path: "\(data)/aggregator/koers.sqlite") } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let acks = try store.acknowledgements(alert: alert)
        if json {
            print(StreamDocuments.encode(acks))
            return
        }
        guard !acks.isEmpty else {
            print(alert.map { "no acknowledgement of \($0) in \(store.path)" } ?? "no acknowledgements in \(store.path)")
            return
        }
        let f = ISO8601DateFormatter()
        for a in acks {
            let who = a.identity + (a.by.map { " (\($0))" } ?? "")
            let until = a.until.map { " until \($0)" } ?? " until it resolves"
            print("\(f.string(from: Date(timeIntervalSince1970: Double(a.at) / 1000)))  \(a.date)  \(a.alert)")
            print("    by \(who)\(until): \(a.reason)")
        }
    }
}
