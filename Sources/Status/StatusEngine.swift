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
    /// The plan's items by position; per-item data below is kept in arrays by position.
    public let index: PlanIndex
    /// Milestones that depend on each milestone, by position.
    let dependents: [Int32: [Int32]]

    /// The latest and first observation per item, by position.
    var latestByPosition: [StatusModel.Observation?]
    var firstByPosition: [StatusModel.Observation?]
    /// Current states, by position.
    var statusByPosition: [ItemStatus?]
    /// When each theme service was last heard from (clock ms), and whether it is silent.
    public private(set) var lastHeard: [String: Int64] = [:]
    public private(set) var silent: Set<String> = []
    /// When the aggregator started (clock ms): a theme never heard from since is silent
    /// once its heartbeat cadence has passed since then, like one that stopped. The
    /// aggregator sets it at start; left nil, the first ``advance(to:nowMs:)`` sets it.
    public var startedMs: Int64?
    /// The schedule: date → positions to re-evaluate on it; each position's date.
    var schedule: [Int: Set<Int32>] = [:]
    var scheduledAt: [Int32]
    public private(set) var today: PlanDate
    /// Extra time (clock ms) a theme may be quiet beyond its heartbeat cadence before it
    /// counts as silent; a demo on a compressed clock needs some.
    public var silenceGraceMs: Int64 = 0
    /// Roll-up nodes per intervention (milestones without areas of their own) and per goal (indicators).
    let interventionNodes: [String: [String]]
    let goalNodes: [String: [String]]
    /// The theme of each intervention and goal roll-up node (`intervention:ID`, `goal:ID`).
    let nodeThemes: [String: String]
    /// Children's states counted per roll-up node.
    public private(set) var counts: [String: [ItemState: Int]] = [:]
    /// Each roll-up node's state: the most severe of its children's, done when all are.
    public private(set) var rolledUp: [String: ItemState] = [:]
    var nodeChanges: [String: (from: ItemState?, to: ItemState)] = [:]

    /// - Parameter observations: each item's first and latest observation, when the
    ///   engine is rebuilt from a store; every item is evaluated once, with its data.
    public init(plan: Plan, model: StatusModel = StatusModel(), today: PlanDate,
                observations: [String: (first: StatusModel.Observation, latest: StatusModel.Observation)] = [:]) {
        self.init(index: PlanIndex(plan), model: model, today: today, observations: observations)
    }

    public init(index: PlanIndex, model: StatusModel = StatusModel(), today: PlanDate,
                observations: [String: (first: StatusModel.Observation, latest: StatusModel.Observation)] = [:]) {
        self.plan = index.plan
        self.index = index
        self.model = model
        self.today = today
        let n = index.count
        latestByPosition = Array(repeating: nil, count: n)
        firstByPosition = Array(repeating: nil, count: n)
        statusByPosition = Array(repeating: nil, count: n)
        scheduledAt = Array(repeating: -1, count: n)
        for (item, o) in observations {
            guard let p = index.position(of: item) else { continue }
            firstByPosition[p] = o.first
            latestByPosition[p] = o.latest
        }
        var deps: [Int32: [Int32]] = [:]
        for (i, p) in index.milestones.enumerated() {
            for d in p.milestone.dependsOn { if let dp = index.position(of: d) { deps[Int32(dp), default: []].append(Int32(i)) } }
        }
        dependents = deps
        // Node names built once per intervention and goal, shared by their items.
        var iNodes: [String: [String]] = [:], gNodes: [String: [String]] = [:]
        for (i, theme, goal) in plan.interventions {
            iNodes[i.id] = ["intervention:\(i.id)", "goal:\(goal)", "theme:\(theme)", "programme"] + i.areas.map { "area:\($0)" }
        }
        for p in index.indicators { gNodes[p.goal] = ["goal:\(p.goal)", "theme:\(p.theme)", "programme"] }
        interventionNodes = iNodes
        goalNodes = gNodes
        var themes: [String: String] = [:]
        for (i, theme, goal) in plan.interventions { themes["intervention:\(i.id)"] = theme; themes["goal:\(goal)"] = theme }
        for p in index.indicators { themes["goal:\(p.goal)"] = p.theme }
        nodeThemes = themes
        // Every item starts evaluated, in dependency order; then each roll-up node is
        // counted and rolled up once (not once per item under it, as ``reevaluate(_:)``
        // does for a change: 100,000 items with five nodes each made that a tenth of a restart).
        for p in Self.dependencyOrder(index) { statusByPosition[p] = evaluate(p) }
        for p in index.milestones.count..<n { statusByPosition[p] = evaluate(p) }
        for p in 0..<n {
            guard let state = statusByPosition[p]?.state else { continue }
            for node in nodes(of: p) { counts[node, default: [:]][state, default: 0] += 1 }
        }
        for (node, c) in counts { rolledUp[node] = Self.rollUp(c) }
    }

    static func dependencyOrder(_ index: PlanIndex) -> [Int] {
        var done = [Bool](repeating: false, count: index.milestones.count), order: [Int] = []
        order.reserveCapacity(index.milestones.count)
        func visit(_ p: Int) {
            guard !done[p] else { return }
            done[p] = true
            for d in index.milestones[p].milestone.dependsOn { if let dp = index.position(of: d), dp < done.count { visit(dp) } }
            order.append(p)
        }
        for p in 0..<index.milestones.count { visit(p) }
        return order
    }

    /// The roll-up nodes of the item at a position.
    func nodes(of p: Int) -> [String] {
        if let m = index.milestone(at: p) {
            guard !m.milestone.areas.isEmpty else { return interventionNodes[m.intervention] ?? [] }
            return ["intervention:\(m.intervention)", "goal:\(m.goal)", "theme:\(m.theme)", "programme"] + m.milestone.areas.map { "area:\($0)" }
        }
        return goalNodes[index.indicator(at: p)!.goal] ?? []
    }

    /// Current states by item id (built on request; for snapshots and tests).
    public var states: [String: ItemStatus] {
        var out: [String: ItemStatus] = [:]
        out.reserveCapacity(statusByPosition.count)
        for case let s? in statusByPosition { out[s.item] = s }
        return out
    }

    /// Every item's current status, in plan order.
    public var allStatuses: [ItemStatus] { statusByPosition.compactMap { $0 } }

    /// One item's current status.
    public func status(of item: String) -> ItemStatus? { index.position(of: item).flatMap { statusByPosition[$0] } }

    /// The latest observation of an item.
    public func latest(of item: String) -> StatusModel.Observation? { index.position(of: item).flatMap { latestByPosition[$0] } }

    /// Whether an id names an indicator.
    public func isIndicator(_ item: String) -> Bool { index.position(of: item).map { $0 >= index.milestones.count } ?? false }

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
        record([(item, o)])
    }

    /// Records the reports that arrived together and re-evaluates each item they touch
    /// once, with its latest observation: the state after a batch is the state its last
    /// report gives, and states that would have held only in between, at the same
    /// instant, are not announced (a theme service catching up on a backlog does not
    /// replay the alerts of its history).
    ///
    /// - Returns: the items whose state changed.
    public mutating func record(_ batch: [(item: String, observation: StatusModel.Observation)]) -> [Change] {
        var touched: [Int] = [], seen = Set<Int>()
        for (item, o) in batch {
            guard let p = index.position(of: item) else { continue }
            // An older value does not replace a newer one; of equal dates, the later report wins.
            if let l = latestByPosition[p], l.date > o.date {} else { latestByPosition[p] = o }
            if let f = firstByPosition[p], f.date <= o.date {} else { firstByPosition[p] = o }
            if seen.insert(p).inserted { touched.append(p) }
        }
        return propagate(from: touched)
    }

    /// Records that a theme service was heard from (any message).
    public mutating func heard(theme: String, at ms: Int64) -> [Change] {
        lastHeard[theme] = ms
        guard silent.contains(theme) else { return [] }
        silent.remove(theme)
        return propagate(from: index.positions(ofTheme: theme))
    }

    /// Moves the engine's date forward and re-evaluates what is scheduled; checks
    /// liveness against `nowMs` (a theme is silent after its heartbeat cadence).
    public mutating func advance(to date: PlanDate, nowMs: Int64) -> [Change] {
        var touched: [Int] = []
        if date > today {
            for d in (today.daysSinceEpoch + 1)...date.daysSinceEpoch {
                if let due = schedule.removeValue(forKey: d) {
                    for p in due.sorted() where scheduledAt[Int(p)] == d { scheduledAt[Int(p)] = -1; touched.append(Int(p)) }
                }
            }
            today = date
        }
        if startedMs == nil { startedMs = nowMs }
        for theme in plan.themes {
            // Never heard since the start: the start is when it was last known to be fine.
            guard let heard = lastHeard[theme.id] ?? startedMs, !silent.contains(theme.id) else { continue }
            if nowMs - heard > Int64(theme.heartbeat.approximateDays) * PlanDate.millisecondsPerDay + silenceGraceMs {
                silent.insert(theme.id)
                touched += index.positions(ofTheme: theme.id)
            }
        }
        return propagate(from: touched)
    }

    // MARK: - Evaluation

    /// Re-evaluates items and, where a milestone's state changed, the milestones that
    /// depend on it.
    mutating func propagate(from start: [Int]) -> [Change] {
        var queue = start, next = 0, seen = Set<Int>(), changes: [Change] = []
        nodeChanges = [:]
        while next < queue.count {
            let p = queue[next]
            next += 1
            guard seen.insert(p).inserted else { continue }
            if let change = reevaluate(p) {
                changes.append(change)
                queue += (dependents[Int32(p)] ?? []).map(Int.init)
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

    mutating func reevaluate(_ p: Int) -> Change? {
        let before = statusByPosition[p]
        let status = evaluate(p)
        statusByPosition[p] = status
        guard before?.state != status.state else { return nil }
        for node in nodes(of: p) {
            if let b = before?.state { counts[node, default: [:]][b, default: 0] -= 1 }
            counts[node, default: [:]][status.state, default: 0] += 1
            let old = rolledUp[node]
            let new = Self.rollUp(counts[node]!)
            rolledUp[node] = new
            if old != new { nodeChanges[node] = (nodeChanges[node]?.from ?? old, new) }
        }
        return Change(item: status.item, from: before?.state, to: status)
    }

    /// The item's status now, its next scheduled re-evaluation set (the status is not stored).
    mutating func evaluate(_ p: Int) -> ItemStatus {
        let before = statusByPosition[p]
        let isSilent = silent.contains(index.theme(at: p))
        let status: ItemStatus
        if let placed = index.milestone(at: p) {
            let m = placed.milestone
            var preds: [String: ItemState] = [:]
            for d in m.dependsOn { if let s = self.status(of: d) { preds[d] = s.state } }
            let obs = latestByPosition[p].flatMap { $0.date <= today ? $0 : nil }
            status = model.evaluate(m, today: today, latest: obs, first: firstByPosition[p], previous: before?.state,
                                    predecessors: preds, themeSilent: isSilent)
            reschedule(p, model.nextChange(m, today: today, latest: obs, state: status.state))
        } else {
            let x = index.indicator(at: p)!.indicator
            status = model.evaluate(x, today: today, latest: latestByPosition[p], previous: before?.state, themeSilent: isSilent)
            let staleDay = (latestByPosition[p]?.date ?? PlanDate(year: x.baselineYear, month: 12, day: 31)!)
                .adding(days: Int(Double(x.cadence.approximateDays) * model.indicatorStaleFactor) + 1)
            reschedule(p, staleDay > today ? staleDay : nil)
        }
        return status
    }

    /// The most severe state present; done only when everything is (or nothing is counted).
    public static func rollUp(_ c: [ItemState: Int]) -> ItemState {
        var worst: ItemState?
        for (state, n) in c where n > 0 && state != .done && worst.map({ state > $0 }) ?? true { worst = state }
        return worst ?? .done
    }

    /// Counts under a roll-up node, for "3 of 6 on track" and the why.
    public func summary(of node: String) -> (state: ItemState, counts: [ItemState: Int])? {
        guard let c = counts[node], let s = rolledUp[node] else { return nil }
        return (s, c.filter { $0.value > 0 })
    }

    mutating func reschedule(_ p: Int, _ date: PlanDate?) {
        let day = Int32(date?.daysSinceEpoch ?? -1)
        let old = scheduledAt[p]
        guard old != day else { return }
        if old >= 0 { schedule[Int(old)]?.remove(Int32(p)) }
        scheduledAt[p] = day
        if day >= 0 { schedule[Int(day), default: []].insert(Int32(p)) }
    }

    /// The theme an item belongs to.
    public func themeOf(_ item: String) -> String? { index.position(of: item).map { index.theme(at: $0) } }

    /// The theme a roll-up node or item belongs to: `theme:T` and the interventions and
    /// goals inside it belong to `T`; areas and the programme to no theme (nil).
    public func theme(ofNode node: String) -> String? {
        if node.hasPrefix("theme:") { return String(node.dropFirst(6)) }
        if let t = nodeThemes[node] { return t }
        return themeOf(node)
    }

    /// How many items are scheduled (for tests and metrics).
    public var scheduledCount: Int { scheduledAt.lazy.filter { $0 >= 0 }.count }
}
