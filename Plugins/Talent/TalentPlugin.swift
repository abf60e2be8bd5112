import Plan
import ThemeService

/// Talentontwikkeling: rijke schooldagen, Kansrijk van Start.
///
/// Collectors: the school roster (`scholen`) and the generic format.
public struct TalentPlugin: ThemePlugin {
    public init() {}
    public var theme: String { "talent" }
    public var collectors: [any Collector] { [SchoolRosterCollector(), GenericCollector()] }

    public func validate(_ draft: ReportDraft, plan: Plan) throws(ReportError) {
        // A school counts once: no milestone on rijke schooldagen can exceed the
        // schools in Heerlen-Noord's primary education (about 30; 40 is certainly wrong).
        if draft.item.hasPrefix("rsd-"), case .milestone(_, let v, _, _, _) = draft, v > 40 {
            throw ReportError(message: "`\(draft.item)` counts schools; \(Int(v)) is more than Heerlen-Noord has")
        }
    }
}

/// The school roster the team keeps for rijke schooldagen:
///
/// ```text
/// school,start,vorm
/// Basisschool de Vlieger,2021-08-30,gezonde-school
/// ```
///
/// `vorm` is `gezonde-school` (Gezonde School van de Toekomst), `verlengde-schooldag`
/// or `voorbereiding`. Schools that started before 29 August 2022 count toward
/// `rsd-eerste-scholen`, later ones toward `rsd-drie-scholen-erbij`.
public struct SchoolRosterCollector: Collector {
    public init() {}
    public var name: String { "scholen" }
    public var columns: [String] { ["school", "start", "vorm"] }
    public var summary: String { "school,start,vorm: one school per row; vorm gezonde-school, verlengde-schooldag or voorbereiding" }
    static let secondCohort = PlanDate(iso: "2022-08-29")!

    public func collect(_ table: CSVTable, plan: Plan, theme: String) throws(ImportError) -> [ReportDraft] {
        var problems = RowProblems()
        var seen: [String: Int] = [:]
        var first: [(date: PlanDate, amount: Double)] = [], second: [(date: PlanDate, amount: Double)] = []
        for (line, row) in table.rows {
            guard let school = table.value("school", in: row) else { problems.add(line, "`school` is empty"); continue }
            if let earlier = seen[school.lowercased()] { problems.add(line, "\(school) is already on row \(earlier)"); continue }
            seen[school.lowercased()] = line
            guard let start = table.value("start", in: row).flatMap(PlanDate.init(iso:)) else {
                problems.add(line, "`start` must be a date written YYYY-MM-DD"); continue
            }
            guard let vorm = table.value("vorm", in: row), ["gezonde-school", "verlengde-schooldag", "voorbereiding"].contains(vorm) else {
                problems.add(line, "`vorm` must be gezonde-school, verlengde-schooldag or voorbereiding"); continue
            }
            if start < Self.secondCohort { first.append((start, 1)) } else { second.append((start, 1)) }
        }
        try problems.throwIfAny()
        return cumulativeReports(item: "rsd-eerste-scholen", increments: first, note: "uit het scholenregister")
            + cumulativeReports(item: "rsd-drie-scholen-erbij", increments: second, note: "uit het scholenregister")
    }
}
