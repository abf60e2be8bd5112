/// A plan's items numbered once, for the aggregator's look-ups.
///
/// Every milestone and indicator gets a position (milestones first, in plan order, then
/// indicators); the status engine, the alert engine and the report validator keep their
/// per-item data in arrays by position and share one index by reference. With a plan of
/// 100,000 milestones, dictionaries of whole milestones per component had cost about
/// 50 MB each (a dictionary of n entries reserves room for up to 2.6 n); one dictionary
/// from id to position costs about 6 MB.
public final class PlanIndex: Sendable {
    public let plan: Plan
    /// Milestones with where they sit, by position.
    public let milestones: PlacedMilestones
    /// Indicators with where they sit, by position minus `milestones.count`.
    public let indicators: [PlacedIndicator]
    /// Interventions by id (their owner and areas).
    public let interventions: [String: Intervention]
    let positions: [String: Int32]
    let themePositions: [String: [Int32]]

    public init(_ plan: Plan) {
        self.plan = plan
        milestones = PlacedMilestones(plan)
        indicators = plan.indicators
        interventions = Dictionary(plan.interventions.map { ($0.intervention.id, $0.intervention) }, uniquingKeysWith: { a, _ in a })
        var positions: [String: Int32] = [:]
        positions.reserveCapacity(milestones.count + indicators.count)
        var byTheme: [String: [Int32]] = [:]
        for (i, p) in milestones.enumerated() {
            positions[p.milestone.id] = Int32(i)
            byTheme[p.theme, default: []].append(Int32(i))
        }
        for (i, p) in indicators.enumerated() {
            positions[p.indicator.id] = Int32(milestones.count + i)
            byTheme[p.theme, default: []].append(Int32(milestones.count + i))
        }
        self.positions = positions
        self.themePositions = byTheme
    }

    /// How many items (milestones and indicators).
    public var count: Int { milestones.count + indicators.count }

    /// An item's position, or nil when the plan has no such item.
    public func position(of id: String) -> Int? { positions[id].map(Int.init) }

    /// The milestone at a position, or nil for an indicator.
    public func milestone(at position: Int) -> PlacedMilestone? {
        position < milestones.count ? milestones[position] : nil
    }

    /// The indicator at a position, or nil for a milestone.
    public func indicator(at position: Int) -> PlacedIndicator? {
        position >= milestones.count ? indicators[position - milestones.count] : nil
    }

    public func id(at position: Int) -> String {
        position < milestones.count ? milestones.id(at: position) : indicators[position - milestones.count].indicator.id
    }

    public func theme(at position: Int) -> String {
        position < milestones.count ? milestones.theme(at: position) : indicators[position - milestones.count].theme
    }

    /// The positions of a theme's items.
    public func positions(ofTheme theme: String) -> [Int] { (themePositions[theme] ?? []).map(Int.init) }

    /// Every item id (for suggestions).
    public var ids: Dictionary<String, Int32>.Keys { positions.keys }
}

/// A plan's milestones with where they sit, by position, each looked up in the plan by
/// its place (16 bytes a milestone) rather than copied: with 100,000 milestones a copy
/// of each, with its theme, goal and intervention, was 21 MB beside the plan's own.
public struct PlacedMilestones: RandomAccessCollection, Sendable {
    /// Where a milestone sits: its theme's, goal's, intervention's and own index.
    struct Place: Sendable {
        var theme: UInt32, goal: UInt32, intervention: UInt32, milestone: UInt32
    }

    let plan: Plan
    let places: [Place]

    init(_ plan: Plan) {
        self.plan = plan
        var places: [Place] = []
        for (t, theme) in plan.themes.enumerated() {
            for (g, goal) in theme.goals.enumerated() {
                for (i, intervention) in goal.interventions.enumerated() {
                    for m in intervention.milestones.indices {
                        places.append(Place(theme: UInt32(t), goal: UInt32(g), intervention: UInt32(i), milestone: UInt32(m)))
                    }
                }
            }
        }
        self.places = places
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { places.count }

    public subscript(position: Int) -> PlacedMilestone {
        let at = places[position]
        let t = Int(at.theme), g = Int(at.goal), i = Int(at.intervention)
        return PlacedMilestone(milestone: plan.themes[t].goals[g].interventions[i].milestones[Int(at.milestone)], theme: plan.themes[t].id,
                               goal: plan.themes[t].goals[g].id, intervention: plan.themes[t].goals[g].interventions[i].id)
    }

    /// The id of the milestone at a position, without the rest of it.
    func id(at position: Int) -> String {
        let at = places[position]
        return plan.themes[Int(at.theme)].goals[Int(at.goal)].interventions[Int(at.intervention)].milestones[Int(at.milestone)].id
    }

    /// The theme of the milestone at a position.
    func theme(at position: Int) -> String { plan.themes[Int(places[position].theme)].id }
}
