import Plan
import ThemeService

/// Leefbaarheid en veiligheid: Sociaal Veilig, the veiligheidscentrum, Preventie met Gezag.
///
/// Collectors: the roll-out per wijk (`wijken`) and the generic format.
public struct SafetyPlugin: ThemePlugin {
    public init() {}
    public var theme: String { "safety" }
    public var collectors: [any Collector] { [RolloutCollector(), GenericCollector()] }

    /// The four wijken where Sociaal Veilig ran when the plan was made.
    static let startingWijken = ["vrieheide", "kasteelbuurt", "hoofdstraat-west-hoensbroek", "gms"]

    public func validate(_ draft: ReportDraft, plan: Plan) throws(ReportError) {
        if draft.item == "sociaal-veilig-uitrol", case .milestone(_, let v, _, _, _) = draft, v < 4 {
            throw ReportError(message: "Sociaal Veilig already runs in 4 wijken (\(Self.startingWijken.joined(separator: ", "))); \(Int(v)) would undo that — report a stop as a note with 4")
        }
    }
}

/// Where Sociaal Veilig runs, one row per wijk it starts in:
///
/// ```text
/// wijk,gestart
/// vrieheide,2021-05-01
/// ```
///
/// `wijk` must be an area of the plan. Derives the number of wijken with the approach
/// (`sociaal-veilig-uitrol`) from the date the plan's baseline of four was reached.
public struct RolloutCollector: Collector {
    public init() {}
    public var name: String { "wijken" }
    public var columns: [String] { ["wijk", "gestart"] }
    public var summary: String { "wijk,gestart: one wijk per row, with the date Sociaal Veilig started there" }

    public func collect(_ table: CSVTable, plan: Plan, theme: String) throws(ImportError) -> [ReportDraft] {
        var problems = RowProblems()
        let areas = Set(plan.areas.map(\.id))
        var starts: [(date: PlanDate, amount: Double)] = []
        var seen = Set<String>()
        for (line, row) in table.rows {
            guard let wijk = table.value("wijk", in: row), areas.contains(wijk) else {
                problems.add(line, "`wijk` must be an area of the plan: \(areas.sorted().joined(separator: ", "))"); continue
            }
            guard seen.insert(wijk).inserted else { problems.add(line, "\(wijk) appears twice"); continue }
            guard let d = table.value("gestart", in: row).flatMap(PlanDate.init(iso:)) else { problems.add(line, "`gestart` must be YYYY-MM-DD"); continue }
            starts.append((d, 1))
        }
        try problems.throwIfAny()
        // The milestone starts on 2022-04-01 at its baseline of four; earlier starts are
        // part of that baseline.
        let milestoneStart = PlanDate(iso: "2022-04-01")!
        let before = starts.filter { $0.date <= milestoneStart }.count
        let later = starts.filter { $0.date > milestoneStart }
        if later.isEmpty, let last = starts.map(\.date).max() {
            // Nothing beyond the baseline yet: say so, as of the last start.
            return [.milestone(item: "sociaal-veilig-uitrol", value: Double(max(before, 4)), asOf: max(last, milestoneStart),
                               note: "\(before) wijken", unit: nil)]
        }
        return cumulativeReports(item: "sociaal-veilig-uitrol", increments: later, baseline: Double(max(before, 4)))
    }
}
