import Plan

/// The integrated status of a plan, kept up to date incrementally.
///
/// A report touches one item: that item, the milestones that depend on it and its
/// ancestors are re-evaluated, nothing else. The passage of time is handled by a
/// schedule of the dates on which an item's state can change without a report (a due
/// date passing, data going stale, the path leaving a value behind); ``advance(to:)``
/// re-evaluates just those. Deterministic: the same plan, observations and dates give
/// the same states.
public struct StatusEngine: Sendable {
    public let plan: Plan
    public let model: StatusModel
    let milestones: [String: PlacedMilestone]
    let indicators: [String: PlacedIndicator]
    /// Milestones that depend on each milestone.
    let dependents: [String: [String]]
    let themeOf: [String: String]

    /// The latest and first observation per item.
    public private(set) var latest: [String: StatusModel.Observation] = [:]
    var first: [String: StatusModel.Observation] = [:]
    /// Current states.
    public private(set) var states: [String: ItemStatus] = [:]
    /// When each theme service was last heard from (clock ms), and whether it is silent.
    public private(set) var lastHeard: [String: Int64] = [:]
    public private(set) var silent: Set<String> = []
    /// The schedule: date → items to re-evaluate on it.
    var schedule: [Int: Set<String>] = [:]
    var scheduledAt: [String: Int] = [:]
    public private(set) var today: PlanDate
    /// Extra time (clock ms) a theme may be quiet beyond its heartbeat cadence before it
    /// counts as silent; a demo on a compressed clock needs some.
    public var silenceGraceMs: Int64 = 0
    /// Roll-up nodes of each item: `intervention:ID`, `goal:ID`, `theme:ID`, `area:ID`, `programme`.
    let ancestorsOf: [String: [String]]
    /// Children's states counted per roll-up node.
    public private(set) var counts: [String: [ItemState: Int]] = [:]
    /// Each roll-up node's state: the most severe of its children's, done when all are.
    public private(set) var rolledUp: [String: ItemState] = [:]
    var nodeChanges: [String: (from: ItemState?, to: ItemState)] = [:]

    /// - Parameter observations: each item's first and latest observation, when the
    ///   engine is rebuilt from a store; every item is evaluated once, with its data.
    public init(plan: Plan, model: StatusModel = StatusModel(), today: PlanDate,
                observations: [String: (first: StatusModel.Observation, latest: StatusModel.Observation)] = [:]) {
        self.plan = plan
        for (item, o) in observations {
            first[item] = o.first
            latest[item] = o.latest
        }
        self.model = model
        self.today = today
        let ms = plan.milestones, xs = plan.indicators
        milestones = Dictionary(uniqueKeysWithValues: ms.map { ($0.milestone.id, $0) })
        indicators = Dictionary(uniqueKeysWithValues: xs.map { ($0.indicator.id, $0) })
        var deps: [String: [String]] = [:]
        for p in ms { for d in p.milestone.dependsOn { deps[d, default: []].append(p.milestone.id) } }
        dependents = deps
        themeOf = Dictionary(uniqueKeysWithValues: ms.map { ($0.milestone.id, $0.theme) } + xs.map { ($0.indicator.id, $0.theme) })
        var anc: [String: [String]] = [:]
        let interventions = Dictionary(uniqueKeysWithValues: plan.interventions.map { ($0.intervention.id, $0.intervention) })
        for p in ms {
            let areas = p.milestone.areas.isEmpty ? (interventions[p.intervention]?.areas ?? []) : p.milestone.areas
            anc[p.milestone.id] = ["intervention:\(p.intervention)", "goal:\(p.goal)", "theme:\(p.theme)", "programme"] + areas.map { "area:\($0)" }
        }
        for p in xs { anc[p.indicator.id] = ["goal:\(p.goal)", "theme:\(p.theme)", "programme"] }
        ancestorsOf = anc
        // Every item starts evaluated, in dependency order.
        for id in Self.dependencyOrder(ms) { _ = reevaluate(id) }
        for id in xs.map(\.indicator.id) { _ = reevaluate(id) }
    }

    static func dependencyOrder(_ ms: [PlacedMilestone]) -> [String] {
        let byID = Dictionary(uniqueKeysWithValues: ms.map { ($0.milestone.id, $0.milestone) })
        var done = Set<String>(), order: [String] = []
        func visit(_ id: String) {
            guard !done.contains(id), let m = byID[id] else { return }
            done.insert(id)
            for d in m.dependsOn { visit(d) }
            order.append(id)
        }
        for p in ms { visit(p.milestone.id) }
        return order
    }

    /// An item's state changed.
    public struct Change: Sendable, Hashable {
        public var item: String
        public var from: ItemState?
        public var to: ItemStatus
        public init(item: String, from: ItemState?, to: ItemStatus) { self.item = item; self.from = from; self.to = to }
    }

    // MARK: - Inputs

    /// Records a report and re-evaluates what it touches.
    ///
    /// - Returns: the items whose state changed.
    public mutating func record(item: String, observation o: StatusModel.Observation) -> [Change] {
        if let l = latest[item], l.date > o.date { /* an older value: keep the newer */ } else { latest[item] = o }
        if let f = first[item], f.date <= o.date {} else { first[item] = o }
        return propagate(from: [item])
    }

    /// Records that a theme service was heard from (any message).
    public mutating func heard(theme: String, at ms: Int64) -> [Change] {
        lastHeard[theme] = ms
        guard silent.contains(theme) else { return [] }
        silent.remove(theme)
        return propagate(from: items(of: theme))
    }

    /// Moves the engine's date forward and re-evaluates what is scheduled; checks
    /// liveness against `nowMs` (a theme is silent after its heartbeat cadence).
    public mutating func advance(to date: PlanDate, nowMs: Int64) -> [Change] {
        var touched: [String] = []
        if date > today {
            for d in (today.daysSinceEpoch + 1)...date.daysSinceEpoch {
                if let due = schedule.removeValue(forKey: d) {
                    for id in due where scheduledAt[id] == d { scheduledAt[id] = nil; touched.append(id) }
                }
            }
            today = date
        }
        for theme in plan.themes {
            guard let heard = lastHeard[theme.id], !silent.contains(theme.id) else { continue }
            if nowMs - heard > Int64(theme.heartbeat.approximateDays) * 86_400_000 + silenceGraceMs {
                silent.insert(theme.id)
                touched += items(of: theme.id)
            }
        }
        return propagate(from: touched)
    }

    func items(of theme: String) -> [String] {
        plan.milestones.filter { $0.theme == theme }.map(\.milestone.id) + plan.indicators.filter { $0.theme == theme }.map(\.indicator.id)
    }

    // MARK: - Evaluation

    /// Re-evaluates items and, where a milestone's state changed, the milestones that
    /// depend on it.
    mutating func propagate(from start: [String]) -> [Change] {
        var queue = start, seen = Set<String>(), changes: [Change] = []
        nodeChanges = [:]
        while !queue.isEmpty {
            let id = queue.removeFirst()
            guard seen.insert(id).inserted else { continue }
            if let change = reevaluate(id) {
                changes.append(change)
                queue += dependents[id] ?? []
            }
        }
        // Roll-ups that moved, after their items, in a stable order.
        for (node, c) in nodeChanges.sorted(by: { $0.key < $1.key }) where c.from != c.to {
            let counts = (self.counts[node] ?? [:]).filter { $0.value > 0 }.sorted { $0.key > $1.key }
            let why = counts.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
            changes.append(Change(item: node, from: c.from, to: ItemStatus(item: node, state: c.to, evidence: Evidence(summary: why), progress: nil)))
        }
        return changes
    }

    mutating func reevaluate(_ id: String) -> Change? {
        let before = states[id]
        let theme = themeOf[id] ?? ""
        let isSilent = silent.contains(theme)
        let status: ItemStatus
        if let p = milestones[id] {
            let m = p.milestone
            var preds: [String: ItemState] = [:]
            for d in m.dependsOn { if let s = states[d] { preds[d] = s.state } }
            let obs = latest[id].flatMap { $0.date <= today ? $0 : nil }
            status = model.evaluate(m, today: today, latest: obs, first: first[id], previous: before?.state,
                                    predecessors: preds, themeSilent: isSilent)
            reschedule(id, model.nextChange(m, today: today, latest: obs, state: status.state))
        } else if let p = indicators[id] {
            status = model.evaluate(p.indicator, today: today, latest: latest[id], previous: before?.state, themeSilent: isSilent)
            let x = p.indicator
            let staleDay = (latest[id]?.date ?? PlanDate(year: x.baselineYear, month: 12, day: 31)!)
                .adding(days: Int(Double(x.cadence.approximateDays) * model.indicatorStaleFactor) + 1)
            reschedule(id, staleDay > today ? staleDay : nil)
        } else {
            return nil
        }
        states[id] = status
        guard before?.state != status.state else { return nil }
        for node in ancestorsOf[id] ?? [] {
            if let b = before?.state { counts[node, default: [:]][b, default: 0] -= 1 }
            counts[node, default: [:]][status.state, default: 0] += 1
            let old = rolledUp[node]
            let new = Self.rollUp(counts[node]!)
            rolledUp[node] = new
            if old != new { nodeChanges[node] = (nodeChanges[node]?.from ?? old, new) }
        }
        return Change(item: id, from: before?.state, to: status)
    }

    /// The most severe state present; done only when everything is.
    static func rollUp(_ c: [ItemState: Int]) -> ItemState {
        let present = c.filter { $0.value > 0 }.map(\.key)
        if present.allSatisfy({ $0 == .done }) { return .done }
        return present.filter { $0 != .done }.max() ?? .done
    }

    /// Counts under a roll-up node, for "3 of 6 on track" and the why.
    public func summary(of node: String) -> (state: ItemState, counts: [ItemState: Int])? {
        guard let c = counts[node], let s = rolledUp[node] else { return nil }
        return (s, c.filter { $0.value > 0 })
    }

    mutating func reschedule(_ id: String, _ date: PlanDate?) {
        if let old = scheduledAt[id] { schedule[old]?.remove(id) }
        scheduledAt[id] = date?.daysSinceEpoch
        if let d = date { schedule[d.daysSinceEpoch, default: []].insert(id) }
    }

    /// The theme an item belongs to.
    public func themeOf(_ item: String) -> String? { themeOf[item] }

    /// How many items are scheduled (for tests and metrics).
    public var scheduledCount: Int { scheduledAt.count }
}
