/// Fast look-ups of the items reports name: which theme owns an id, and what it is.
public struct PlanCatalog: Sendable {
    /// What a report may name.
    public enum Item: Sendable {
        case milestone(Milestone, theme: String)
        case indicator(Indicator, theme: String)

        /// The theme that owns the item.
        public var theme: String {
            switch self {
            case .milestone(_, let t), .indicator(_, let t): t
            }
        }
    }

    /// Items by id.
    public let items: Items
    /// Theme ids.
    public let themes: Set<String>
    /// The dates milestone progress may speak of: the earliest milestone start (or the
    /// programme's start) to the horizon's end.
    public let window: DateRange
    /// The periods indicator measurements may cover: from 1 January of the earliest
    /// baseline year (baselines predate the programme) to the horizon's end.
    public let indicatorWindow: DateRange

    /// The items of a plan, looked up by id through the shared ``PlanIndex``.
    public struct Items: Sendable {
        public let index: PlanIndex
        public subscript(id: String) -> Item? {
            guard let p = index.position(of: id) else { return nil }
            if let m = index.milestone(at: p) { return .milestone(m.milestone, theme: m.theme) }
            let x = index.indicator(at: p)!
            return .indicator(x.indicator, theme: x.theme)
        }
        public var keys: Dictionary<String, Int32>.Keys { index.ids }
    }

    public init(_ plan: Plan) { self.init(index: PlanIndex(plan)) }

    public init(index: PlanIndex) {
        let plan = index.plan
        self.items = Items(index: index)
        self.themes = Set(plan.themes.map(\.id))
        let earliest = plan.earliestDate
        self.window = DateRange(start: earliest, end: plan.programme.horizon.end)
        let firstYear = index.indicators.map(\.indicator.baselineYear).min() ?? earliest.year
        let yearStart = PlanDate(year: min(firstYear, earliest.year), month: 1, day: 1) ?? earliest
        self.indicatorWindow = DateRange(start: yearStart, end: plan.programme.horizon.end)
    }

    /// The known ids nearest to a misspelt one, best first.
    public func suggestions(for id: String, limit: Int = 3) -> [String] {
        let scored = items.keys.map { ($0, editDistance(id, $0)) }.filter { $0.1 <= max(3, id.count / 2) }
        return scored.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(limit).map(\.0)
    }
}

/// Levenshtein distance between two strings (insertions, deletions, substitutions):
/// the one "did you mean" measure of every Koers error message.
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var row = Array(0...b.count)
    for i in 1...a.count {
        var prev = row[0]
        row[0] = i
        for j in 1...b.count {
            let cur = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
            prev = cur
        }
    }
    return row[b.count]
}
