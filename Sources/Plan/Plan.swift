/// The Toekomstplan as data: programme → themes → goals → interventions → milestones
/// and indicators, with areas, owners, funding lines and the plan's revision history.
///
/// Load one with ``PlanLoader``; every cross-reference in a loaded plan has been checked.
/// The file format is specified in `docs/plan-format.md`.
public struct Plan: Sendable, Equatable {
    /// The file format version (`koers-plan: 1`).
    public var format: Int
    /// The programme the plan belongs to.
    public var programme: Programme
    /// The current plan version: the highest revision, or 1 when there is none.
    public var version: Int
    /// Every re-planning, oldest first.
    public var revisions: [Revision]
    /// The programme's life domains (leefgebieden).
    public var leefgebieden: [Leefgebied]
    /// The areas (wijken) items take place in.
    public var areas: [Area]
    /// Organisations that own or take part in interventions.
    public var organisations: [Organisation]
    /// Funding lines.
    public var funding: [FundingLine]
    /// The themes, each run by its own team and theme service.
    public var themes: [Theme]

    /// Every milestone, with where it sits.
    public var milestones: [PlacedMilestone] {
        themes.flatMap { t in
            t.goals.flatMap { g in
                g.interventions.flatMap { i in i.milestones.map { PlacedMilestone(milestone: $0, theme: t.id, goal: g.id, intervention: i.id) } }
            }
        }
    }

    /// Every indicator, with its theme and goal.
    public var indicators: [PlacedIndicator] {
        themes.flatMap { t in t.goals.flatMap { g in g.indicators.map { PlacedIndicator(indicator: $0, theme: t.id, goal: g.id) } } }
    }

    /// Every intervention, with its theme and goal.
    public var interventions: [(intervention: Intervention, theme: String, goal: String)] {
        themes.flatMap { t in t.goals.flatMap { g in g.interventions.map { ($0, t.id, g.id) } } }
    }

    /// The earliest date a report may speak of: the programme's start or the earliest
    /// milestone start, whichever is earlier (some interventions predate the programme).
    public var earliestDate: PlanDate {
        // Walked in place: building `milestones` for this copied every milestone (a tenth
        // of a restart with 100,000 of them, three times over in the catalog).
        var earliest = programme.horizon.start
        for t in themes { for g in t.goals { for i in g.interventions { for m in i.milestones where m.start < earliest { earliest = m.start } } } }
        return earliest
    }
}

extension Plan: CustomStringConvertible, CustomDebugStringConvertible {
    /// A one-line summary. Not the reflected value: swift-service-lifecycle names each
    /// service by interpolating it, and a service holding a plan of 100,000 milestones
    /// took 3 s and about 90 MB of strings at every start to be named that way.
    public var description: String {
        let goals = themes.flatMap(\.goals)
        return "Plan(\(programme.id) v\(version): \(themes.count) themes, \(goals.reduce(0) { $0 + $1.interventions.reduce(0) { $0 + $1.milestones.count } }) milestones, "
            + "\(goals.reduce(0) { $0 + $1.indicators.count }) indicators)"
    }

    public var debugDescription: String { description }
}

/// A milestone with the theme, goal and intervention it belongs to.
public struct PlacedMilestone: Sendable, Equatable {
    public var milestone: Milestone
    public var theme: String
    public var goal: String
    public var intervention: String
}

/// An indicator with the theme and goal it belongs to.
public struct PlacedIndicator: Sendable, Equatable {
    public var indicator: Indicator
    public var theme: String
    public var goal: String
}

/// A closed range of dates.
public struct DateRange: Hashable, Sendable, CustomStringConvertible {
    public var start: PlanDate
    public var end: PlanDate
    public init(start: PlanDate, end: PlanDate) { self.start = start; self.end = end }
    public func contains(_ d: PlanDate) -> Bool { d >= start && d <= end }
    public var description: String { "\(start) – \(end)" }
}

/// The programme: its name, ambition and horizon.
public struct Programme: Sendable, Equatable {
    public var id: String
    public var name: String
    public var ambition: String
    /// The programme's horizon: the national average is to be reached by its end.
    public var horizon: DateRange
}

/// A life domain (leefgebied) of the programme: leren, werken, gezondheid, wonen en
/// openbare ruimte, veiligheid.
public struct Leefgebied: Sendable, Equatable {
    public var id: String
    public var name: String
}

/// An area (wijk or buurt).
public struct Area: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Whether the programme names it a priority area.
    public var priority: Bool
}

/// An organisation that owns or takes part in interventions.
public struct Organisation: Sendable, Equatable {
    public var id: String
    public var name: String
}

/// Money from one source for a period, perhaps secured only until a date.
public struct FundingLine: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Who pays (Rijk, gemeente, …).
    public var source: String
    /// Amount per period in whole euros, when known.
    public var amountEUR: Int?
    /// How the amount recurs: once, or per year.
    public var per: Recurrence
    /// The period the funding covers.
    public var period: DateRange
    /// The date until which the funding is secured, when it is not secured for its whole need.
    public var securedUntil: PlanDate?
    public var note: String?

    public enum Recurrence: String, Sendable, CaseIterable { case once, year }
}

/// One of the programme's themes, reported on by one theme service.
public struct Theme: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The leefgebieden the theme covers.
    public var leefgebieden: [String]
    /// How often the theme service must be heard from (heartbeats) before it counts as silent.
    public var heartbeat: Cadence
    public var goals: [Goal]
}

/// A goal of a theme, with its interventions and the indicators that measure it.
public struct Goal: Sendable, Equatable {
    public var id: String
    public var name: String
    public var interventions: [Intervention]
    public var indicators: [Indicator]
}

/// An intervention: something the alliance does, with milestones to track it.
public struct Intervention: Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String?
    /// The owning organisation's id.
    public var owner: String
    public var partners: [String]
    /// Area ids; empty means programme-wide.
    public var areas: [String]
    /// Funding line ids.
    public var funding: [String]
    public var milestones: [Milestone]
}

/// A milestone: a result with a date, binary (done or not) or quantitative (a count
/// or amount moving from a baseline to a target).
public struct Milestone: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case binary, quantitative }

    public var id: String
    public var name: String
    public var kind: Kind
    /// Value at `start` (0 for binary).
    public var baseline: Double
    /// Value due by `due` (1 for binary).
    public var target: Double
    /// Unit of baseline and target (`scholen`, `woningen`, `personen`; `done` for binary).
    public var unit: String
    public var start: PlanDate
    public var due: PlanDate
    /// Intermediate points of the expected path, between start and due.
    public var checkpoints: [Checkpoint]
    /// How often progress must be reported before the milestone's data counts as stale.
    public var cadence: Cadence
    /// Milestones that must be met first.
    public var dependsOn: [String]
    /// Area ids when narrower than the intervention's.
    public var areas: [String]
    /// The funding line whose continuation this milestone secures.
    public var secures: String?
    /// Why a date or figure was chosen where the source gives none exactly.
    public var note: String?

    public init(id: String, name: String, kind: Kind, baseline: Double, target: Double, unit: String, start: PlanDate, due: PlanDate,
                checkpoints: [Checkpoint] = [], cadence: Cadence, dependsOn: [String] = [], areas: [String] = [],
                secures: String? = nil, note: String? = nil) {
        self.id = id; self.name = name; self.kind = kind; self.baseline = baseline; self.target = target; self.unit = unit
        self.start = start; self.due = due; self.checkpoints = checkpoints; self.cadence = cadence; self.dependsOn = dependsOn
        self.areas = areas; self.secures = secures; self.note = note
    }
}

/// A point on a milestone's expected path.
public struct Checkpoint: Sendable, Hashable {
    public var date: PlanDate
    public var value: Double
    public init(date: PlanDate, value: Double) { self.date = date; self.value = value }
}

/// An indicator: a measured figure on a path from its baseline to a target.
public struct Indicator: Sendable, Equatable {
    public enum Direction: String, Sendable, CaseIterable { case higherIsBetter = "higher-is-better", lowerIsBetter = "lower-is-better" }
    public enum TargetBasis: String, Sendable, CaseIterable { case nationalAverage = "national-average", threshold }

    public var id: String
    public var name: String
    public var unit: String
    public var direction: Direction
    public var baseline: Double
    /// The year (or last year of the period) the baseline describes.
    public var baselineYear: Int
    /// Reference values: `nederland`, `heerlen`, `heerlen-noord`, when known.
    public var references: [String: Double]
    public var target: Double
    public var targetYear: Int
    public var targetBasis: TargetBasis
    /// How often a new measurement is expected.
    public var cadence: Cadence
    /// Where the figures come from.
    public var source: String
    public var sourceURL: String?

    public init(id: String, name: String, unit: String, direction: Direction, baseline: Double, baselineYear: Int,
                references: [String: Double], target: Double, targetYear: Int, targetBasis: TargetBasis, cadence: Cadence,
                source: String, sourceURL: String?) {
        self.id = id; self.name = name; self.unit = unit; self.direction = direction; self.baseline = baseline
        self.baselineYear = baselineYear; self.references = references; self.target = target; self.targetYear = targetYear
        self.targetBasis = targetBasis; self.cadence = cadence; self.source = source; self.sourceURL = sourceURL
    }
}

/// A re-planning: a new plan version with a date, a reason and what changed.
public struct Revision: Sendable, Equatable {
    public var version: Int
    public var date: PlanDate
    public var reason: String
    public var changes: [Change]

    /// One changed field of one item.
    public struct Change: Sendable, Equatable {
        public enum Field: String, Sendable, CaseIterable { case start, due, baseline, target }
        public var item: String
        public var field: Field
        public var from: String
        public var to: String
    }
}
