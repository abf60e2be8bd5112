import Plan
import ThemeService

/// Gezondheid en leefomgeving: housing projects, the GMS agenda, Vrieheide, green
/// initiatives and the well-being indicators.
///
/// Collectors: homes delivered per project (`woningen`), green initiatives (`groen`)
/// and the generic format.
public struct HealthPlugin: ThemePlugin {
    public init() {}
    public var theme: String { "health" }
    public var collectors: [any Collector] { [HousingCollector(), GreenInitiativeCollector(), GenericCollector()] }

    public func validate(_ draft: ReportDraft, plan: Plan) throws(ReportError) {
        // Percentages of people are between 0 and 100.
        if case .indicator(let item, let v, _, _, _, _) = draft, ["gelukkig", "tevreden-met-leven"].contains(item), !(0...100).contains(v) {
            throw ReportError(message: "`\(item)` is a percentage: \(v) is outside 0…100")
        }
    }
}

/// Homes delivered, per project, as they are handed over:
///
/// ```text
/// project,datum,opgeleverd
/// slakhorst,2024-06-30,12
/// doorstroom,2023-10-31,10
/// ```
///
/// `project` is `slakhorst` (→ `slakhorst-woningen`) or `doorstroom`
/// (→ `doorstroom-wooneenheden`); each row adds `opgeleverd` to its running total.
public struct HousingCollector: Collector {
    public init() {}
    public var name: String { "woningen" }
    public var columns: [String] { ["project", "datum", "opgeleverd"] }
    public var summary: String { "project,datum,opgeleverd: homes handed over; project slakhorst or doorstroom" }
    static let items = ["slakhorst": "slakhorst-woningen", "doorstroom": "doorstroom-wooneenheden"]

    public func collect(_ table: CSVTable, plan: Plan, theme: String) throws(ImportError) -> [ReportDraft] {
        var problems = RowProblems()
        var increments: [String: [(date: PlanDate, amount: Double)]] = [:]
        for (line, row) in table.rows {
            guard let project = table.value("project", in: row), let item = Self.items[project] else {
                problems.add(line, "`project` must be slakhorst or doorstroom"); continue
            }
            guard let d = table.value("datum", in: row).flatMap(PlanDate.init(iso:)) else { problems.add(line, "`datum` must be YYYY-MM-DD"); continue }
            guard let n = table.value("opgeleverd", in: row).flatMap(Int.init), n > 0 else {
                problems.add(line, "`opgeleverd` must be a whole number above 0"); continue
            }
            increments[item, default: []].append((d, Double(n)))
        }
        try problems.throwIfAny()
        return increments.keys.sorted().flatMap { cumulativeReports(item: $0, increments: increments[$0]!) }
    }
}

/// Resident green initiatives supported (Groen samen doen):
///
/// ```text
/// initiatief,wijk,datum
/// Geveltuinen Schandelen,gms,2022-05-14
/// ```
///
/// `wijk` must be an area of the plan. Derives the running count
/// (`groen-bewonersinitiatieven`).
public struct GreenInitiativeCollector: Collector {
    public init() {}
    public var name: String { "groen" }
    public var columns: [String] { ["initiatief", "wijk", "datum"] }
    public var summary: String { "initiatief,wijk,datum: one supported resident initiative per row" }

    public func collect(_ table: CSVTable, plan: Plan, theme: String) throws(ImportError) -> [ReportDraft] {
        var problems = RowProblems()
        let areas = Set(plan.areas.map(\.id))
        var increments: [(date: PlanDate, amount: Double)] = []
        for (line, row) in table.rows {
            guard table.value("initiatief", in: row) != nil else { problems.add(line, "`initiatief` is empty"); continue }
            guard let wijk = table.value("wijk", in: row), areas.contains(wijk) else {
                problems.add(line, "`wijk` must be an area of the plan: \(areas.sorted().joined(separator: ", "))"); continue
            }
            guard let d = table.value("datum", in: row).flatMap(PlanDate.init(iso:)) else { problems.add(line, "`datum` must be YYYY-MM-DD"); continue }
            increments.append((d, 1))
        }
        try problems.throwIfAny()
        return cumulativeReports(item: "groen-bewonersinitiatieven", increments: increments)
    }
}
