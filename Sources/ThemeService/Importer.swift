import Foundation
import Plan
import Wire

/// Imports a CSV file into the outbox: all rows or none.
public struct Importer: Sendable {
    public let checker: ReportChecker

    public init(checker: ReportChecker) { self.checker = checker }

    /// The collector for a file: the first (most specific) whose columns the header has.
    public func collector(for table: CSVTable) -> (any Collector)? {
        checker.plugin.collectors.first { c in c.columns.allSatisfy(table.header.contains) }
    }

    /// Reads, checks and queues every report in the file, in one transaction.
    ///
    /// - Returns: the sequences assigned.
    /// - Throws: ``ImportError`` naming every bad row; nothing is queued then.
    public func importFile(_ path: String, into outbox: Outbox, reporter: String?, now: Int64) throws -> [UInt64] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImportError(file: path, problems: [ReportError(message: "no such file: \(path)")])
        }
        guard !isDirectory.boolValue else {
            throw ImportError(file: path, problems: [ReportError(message: "\(path) is a directory, not a CSV file")])
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ImportError(file: path, problems: [ReportError(message: "cannot read the file: \(error.localizedDescription)")])
        }
        return try outbox.enqueue(try payloads(csv: text, file: path, reporter: reporter, now: now), now: now)
    }

    /// Reads and checks every report in CSV text, as ``importFile(_:into:reporter:now:)``
    /// does before it queues them; `file` names the text in the error.
    ///
    /// - Throws: ``ImportError`` naming every bad row.
    public func payloads(csv text: String, file path: String, reporter: String?, now: Int64) throws(ImportError) -> [Payload] {
        let table: CSVTable
        do { table = try CSVTable(text: text) } catch { throw ImportError(file: path, problems: [error]) }
        guard !table.isEmpty else {
            throw ImportError(file: path, problems: [ReportError(message: "the file is empty; the first line must be a header", row: 1)])
        }
        guard let collector = collector(for: table) else {
            let formats = checker.plugin.collectors.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n")
            throw ImportError(file: path, problems: [ReportError(
                message: "the header (\(table.header.joined(separator: ","))) matches no format of theme `\(checker.plugin.theme)`; formats:\n\(formats)", row: 1)])
        }
        // Rows that could not be read are listed with the rows that fail their checks.
        var payloads: [Payload] = [], problems: [ReportError] = table.problems
        if let generic = collector as? GenericCollector {
            // One report per row: every row is parsed and checked, so every bad row is named.
            for (line, row) in table.rows {
                do {
                    payloads.append(try checker.check(try generic.draft(table, row), reporter: reporter, now: now))
                } catch {
                    problems.append(ReportError(code: error.code, message: error.message, row: line))
                }
            }
        } else {
            let drafts: [ReportDraft]
            do { drafts = try collector.collect(table, plan: checker.plan, theme: checker.plugin.theme) } catch {
                throw ImportError(file: path, problems: sortedByRow(problems + error.problems))
            }
            for d in drafts {
                do { payloads.append(try checker.check(d, reporter: reporter, now: now)) } catch {
                    problems.append(ReportError(code: error.code, message: "derived report for `\(d.item)`: " + error.message))
                }
            }
        }
        guard problems.isEmpty else { throw ImportError(file: path, problems: sortedByRow(problems)) }
        guard !payloads.isEmpty else { throw ImportError(file: path, problems: [ReportError(message: "the file holds no reports", row: 1)]) }
        return payloads
    }
}

/// Problems in file order; those without a row (derived reports) after the rows.
func sortedByRow(_ problems: [ReportError]) -> [ReportError] {
    problems.enumerated().sorted { a, b in
        (a.element.row ?? Int.max, a.offset) < (b.element.row ?? Int.max, b.offset)
    }.map(\.element)
}
