import Foundation
import Plan

/// The CSV format every theme can import, one report per row:
///
/// ```text
/// kind,item,value,as_of,period_start,period_end,note
/// milestone,vc-intentieovereenkomst,1,2022-11-28,,,Getekend door alle partners
/// indicator,gelukkig,82,,2013-01-01,2022-12-31,CBS 2024
/// ```
///
/// `kind` is `milestone` (needs `as_of`) or `indicator` (needs `period_start` and
/// `period_end`); `note` and an optional `unit` column may be empty.
public struct GenericCollector: Collector {
    public init() {}
    public var name: String { "generic" }
    public var columns: [String] { ["kind", "item", "value"] }
    public var summary: String { "kind,item,value,as_of,period_start,period_end,note[,unit]: one report per row" }

    public func collect(_ table: CSVTable, plan: Plan, theme: String) throws(ImportError) -> [ReportDraft] {
        var drafts: [ReportDraft] = [], problems: [ReportError] = []
        for (line, row) in table.rows {
            do { drafts.append(try draft(table, row)) } catch { problems.append(ReportError(code: error.code, message: error.message, row: line)) }
        }
        if !problems.isEmpty { throw ImportError(file: "", problems: problems) }
        return drafts
    }

    func draft(_ t: CSVTable, _ row: [String]) throws(ReportError) -> ReportDraft {
        guard let item = t.value("item", in: row) else { throw ReportError(message: "`item` is empty") }
        let value = try number(t.value("value", in: row), "value")
        let note = t.value("note", in: row), unit = t.value("unit", in: row)
        switch t.value("kind", in: row) {
        case "milestone":
            return .milestone(item: item, value: value, asOf: try date(t.value("as_of", in: row), "as_of"), note: note, unit: unit)
        case "indicator":
            return .indicator(item: item, value: value, periodStart: try date(t.value("period_start", in: row), "period_start"),
                              periodEnd: try date(t.value("period_end", in: row), "period_end"), note: note, unit: unit)
        case let other:
            throw ReportError(message: "`kind` must be milestone or indicator, not `\(other ?? "")`")
        }
    }
}

/// Reads a number cell; a Dutch decimal comma is accepted.
public func number(_ text: String?, _ column: String) throws(ReportError) -> Double {
    guard let text, let v = Double(text.replacingOccurrences(of: ",", with: ".")) else {
        throw ReportError(message: "`\(column)` must be a number, not `\(text ?? "")`")
    }
    return v
}

/// Reads a `YYYY-MM-DD` cell.
public func date(_ text: String?, _ column: String) throws(ReportError) -> PlanDate {
    guard let text, let d = PlanDate(iso: text) else {
        throw ReportError(message: "`\(column)` must be a date written YYYY-MM-DD, not `\(text ?? "")`")
    }
    return d
}

/// Turns dated increments into one milestone report per date with the running total:
/// what most team collectors derive ("schools started", "homes delivered").
public func cumulativeReports(item: String, increments: [(date: PlanDate, amount: Double)], baseline: Double = 0,
                              note: String? = nil) -> [ReportDraft] {
    var total = baseline
    var out: [ReportDraft] = []
    let byDate = Dictionary(grouping: increments, by: \.date).sorted { $0.key < $1.key }
    for (date, rows) in byDate {
        total += rows.reduce(0) { $0 + $1.amount }
        out.append(.milestone(item: item, value: total, asOf: date, note: note, unit: nil))
    }
    return out
}

/// Collects problems per row and throws them all at once (imports are all-or-nothing).
public struct RowProblems {
    public private(set) var problems: [ReportError] = []
    public init() {}
    public mutating func add(_ line: Int, _ message: String) { problems.append(ReportError(message: message, row: line)) }
    public func throwIfAny() throws(ImportError) {
        if !problems.isEmpty { throw ImportError(file: "", problems: problems) }
    }
}
