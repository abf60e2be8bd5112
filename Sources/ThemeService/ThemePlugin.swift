import Plan
import Wire

/// What a theme team plugs into the theme-service kit: its theme, its collectors, its
/// own validation, and the figures it derives. See `Plugins/README.md`.
public protocol ThemePlugin: Sendable {
    /// The theme id in the plan (`talent`, `work`, …).
    var theme: String { get }
    /// The sources this team reads progress from, each with its own CSV format.
    var collectors: [any Collector] { get }
    /// The team's own rules, on top of the plan's: throw to refuse a report.
    func validate(_ draft: ReportDraft, plan: Plan) throws(ReportError)
}

extension ThemePlugin {
    /// No rules beyond the plan's.
    public func validate(_ draft: ReportDraft, plan: Plan) throws(ReportError) {}

    /// The milestones and indicators this plugin's theme owns in a plan.
    public func ownedItems(in plan: Plan) -> [String] {
        plan.milestones.filter { $0.theme == theme }.map(\.milestone.id)
            + plan.indicators.filter { $0.theme == theme }.map(\.indicator.id)
    }
}

/// A source of reports: reads one kind of CSV file and turns it into drafts.
public protocol Collector: Sendable {
    /// A short name (`generic`, `scholen`), shown by `koers import --help`.
    var name: String { get }
    /// The header columns that identify this collector's files.
    var columns: [String] { get }
    /// One line describing the format, for error messages and docs.
    var summary: String { get }
    /// Turns the rows into drafts; every bad row is reported (all-or-nothing import).
    func collect(_ table: CSVTable, plan: Plan, theme: String) throws(ImportError) -> [ReportDraft]
}

/// An import that failed: every bad row, with its reason.
public struct ImportError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var problems: [ReportError]

    public init(file: String, problems: [ReportError]) {
        self.file = file
        self.problems = problems
    }

    public var description: String {
        (problems.map { p in p.row.map { "\(file):\($0): \(p.message)" } ?? "\(file): \(p.message)" } + ["nothing was imported: \(problems.count) problem\(problems.count == 1 ? "" : "s")"])
            .joined(separator: "\n")
    }
}

/// A plugin for a theme with no code of its own: the generic CSV format only.
public struct GenericPlugin: ThemePlugin {
    public let theme: String
    public init(theme: String) { self.theme = theme }
    public var collectors: [any Collector] { [GenericCollector()] }
}
