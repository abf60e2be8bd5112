import Aggregator
import ArgumentParser
import Foundation

extension AggregatorCommand {
    /// `koers aggregator backup FILE`: a consistent copy of the store, while it runs.
    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the aggregator's store into FILE with SQLite's online back-up; safe while the aggregator runs.",
            discussion: """
                The copy is one consistent snapshot of DATA/aggregator/koers.sqlite (the running aggregator goes on \
                storing and acknowledging meanwhile), passes PRAGMA integrity_check, is flushed to disk, and only then \
                appears under FILE. Restore it with `koers aggregator restore FILE` (docs/operations.md, "Back-up and restore").
                """)

        @Argument(help: "The back-up file to write (refused if it exists, unless --force).")
        var file: String

        @Option(name: .long, help: "Where Koers keeps its data.")
        var data: String = "data"

        @Flag(name: .long, help: "Replace FILE if it exists.")
        var force = false

        func run() throws {
            guard force || !FileManager.default.fileExists(atPath: file) else {
                throw ValidationError("\(file) exists; name a new file (e.g. koers-$(date +%F).sqlite) or pass --force")
            }
            let started = ContinuousClock.now
            let summary: ReportStore.BackupSummary
            do {
                summary = try ReportStore.backup(store: "\(data)/aggregator/koers.sqlite", to: file)
            } catch let problem as StoreProblem {
                printError(problem.description)
                throw ExitCode(1)
            }
            print("backed up \(summary.reports) reports (\(describe(summary))) to \(file): \(summary.bytes / 1000) kB, integrity_check ok, \(ContinuousClock.now - started)")
        }
    }

    /// `koers aggregator restore FILE`: a back-up put in place, the aggregator stopped.
    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a back-up in place as the aggregator's store. Refused while an aggregator runs on the data directory.",
            discussion: """
                The back-up is checked (PRAGMA integrity_check and the schema) before anything changes. The current store \
                (with its -wal and -shm) and the notifiers' positions (notify.sqlite) are moved aside as \
                koers-replaced-TIME.sqlite and notify-replaced-TIME.sqlite, never deleted. Then start the aggregator: \
                every theme service resends what the back-up lacks (WELCOME tells it how far the restored store is settled).
                """)

        @Argument(help: "The back-up (written by `koers aggregator backup`, or SQLite's .backup).")
        var file: String

        @Option(name: .long, help: "Where Koers keeps its data.")
        var data: String = "data"

        func run() throws {
            guard FileManager.default.fileExists(atPath: file) else { throw ValidationError("no back-up at \(file)") }
            let store = "\(data)/aggregator/koers.sqlite"
            let result: ReportStore.RestoreResult
            do {
                let lock = try StoreLock(store: store, purpose: "koers aggregator restore")
                result = try ReportStore.restore(backup: file, toStore: store)
                withExtendedLifetime(lock) {}
            } catch let problem as StoreProblem {
                printError(problem.description)
                throw ExitCode(1)
            }
            print("restored \(file) as \(store): \(result.summary.reports) reports (\(describe(result.summary))), integrity_check ok")
            for f in result.movedAside { print("moved aside \(f)") }
            print("start the aggregator: every theme service resends what the back-up lacks")
        }
    }
}

/// "settled talent 120, work 80; stream 345".
private func describe(_ s: ReportStore.BackupSummary) -> String {
    let settled = s.settled.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    return "settled \(settled.isEmpty ? "none" : settled); stream \(s.lastStreamSequence)"
}
