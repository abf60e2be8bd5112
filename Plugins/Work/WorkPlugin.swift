import Plan
import ThemeService

/// Werk en bestaanszekerheid: the Bovengrondse Vakschool.
///
/// Collectors: the placements per werksfeer (`werksferen`) and the generic format.
public struct WorkPlugin: ThemePlugin {
    public init() {}
    public var theme: String { "work" }
    public var collectors: [any Collector] { [PlacementCollector(), GenericCollector()] }

    public func validate(_ draft: ReportDraft, plan: Plan) throws(ReportError) {
        // People and employers are whole numbers.
        if ["bvs-werksferen", "bvs-werkgevers", "bvs-extra-naar-werk"].contains(draft.item),
           case .milestone(_, let v, _, _, _) = draft, v.rounded() != v {
            throw ReportError(message: "`\(draft.item)` counts whole \(draft.item == "bvs-werkgevers" ? "employers" : draft.item == "bvs-werksferen" ? "werksferen" : "people"), not \(v)")
        }
    }
}

/// The Bovengrondse Vakschool's monthly placements export, one row per werksfeer per
/// month, with running totals:
///
/// ```text
/// datum,werksfeer,werkgevers,geplaatst
/// 2023-03-31,zorg,6,4
/// ```
///
/// Derives, per date: werksferen with at least one employer (`bvs-werksferen`), all
/// employers (`bvs-werkgevers`) and all people placed (`bvs-extra-naar-werk`), using
/// each werksfeer's latest row up to that date.
public struct PlacementCollector: Collector {
    public init() {}
    public var name: String { "werksferen" }
    public var columns: [String] { ["datum", "werksfeer", "werkgevers", "geplaatst"] }
    public var summary: String { "datum,werksfeer,werkgevers,geplaatst: running totals per werksfeer per date" }

    public func collect(_ table: CSVTable, plan: Plan, theme: String) throws(ImportError) -> [ReportDraft] {
        var problems = RowProblems()
        var rows: [(date: PlanDate, sfeer: String, employers: Int, placed: Int)] = []
        for (line, row) in table.rows {
            guard let d = table.value("datum", in: row).flatMap(PlanDate.init(iso:)) else { problems.add(line, "`datum` must be YYYY-MM-DD"); continue }
            guard let s = table.value("werksfeer", in: row) else { problems.add(line, "`werksfeer` is empty"); continue }
            guard let e = table.value("werkgevers", in: row).flatMap(Int.init), e >= 0 else { problems.add(line, "`werkgevers` must be a whole number ≥ 0"); continue }
            guard e <= 30 else { problems.add(line, "\(e) employers in one werksfeer: the plan counts about 10; check the export"); continue }
            guard let p = table.value("geplaatst", in: row).flatMap(Int.init), p >= 0 else { problems.add(line, "`geplaatst` must be a whole number ≥ 0"); continue }
            rows.append((d, s, e, p))
        }
        try problems.throwIfAny()
        var latest: [String: (employers: Int, placed: Int)] = [:]
        var out: [ReportDraft] = []
        for (date, group) in Dictionary(grouping: rows, by: \.date).sorted(by: { $0.key < $1.key }) {
            for r in group { latest[r.sfeer] = (r.employers, r.placed) }
            let sferen = latest.values.filter { $0.employers > 0 }.count
            let employers = latest.values.reduce(0) { $0 + $1.employers }
            let placed = latest.values.reduce(0) { $0 + $1.placed }
            out.append(.milestone(item: "bvs-werksferen", value: Double(sferen), asOf: date, note: nil, unit: nil))
            out.append(.milestone(item: "bvs-werkgevers", value: Double(employers), asOf: date, note: nil, unit: nil))
            if placed > 0 { out.append(.milestone(item: "bvs-extra-naar-werk", value: Double(placed), asOf: date, note: nil, unit: nil)) }
        }
        return out
    }
}
