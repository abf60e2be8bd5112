extension Plan {
    /// The plan as it stood at a version: later revisions undone.
    ///
    /// - Parameter version: 1 for the original plan, up to ``version``.
    public func at(version target: Int) -> Plan {
        var plan = self
        for r in revisions.reversed() where r.version > target {
            for c in r.changes.reversed() { plan.apply(c.item, c.field, c.from) }
        }
        plan.revisions = revisions.filter { $0.version <= target }
        plan.version = max(1, min(target, version))
        return plan
    }

    /// The plan as it stood on a date: revisions made after that date undone.
    public func asOf(_ date: PlanDate) -> Plan {
        at(version: revisions.filter { $0.date <= date }.map(\.version).max() ?? 1)
    }

    /// Every revision that changed an item, oldest first.
    public func history(of item: String) -> [(revision: Revision, change: Revision.Change)] {
        revisions.flatMap { r in r.changes.filter { $0.item == item }.map { (r, $0) } }
    }

    mutating func apply(_ item: String, _ field: Revision.Change.Field, _ value: String) {
        for t in themes.indices {
            for g in themes[t].goals.indices {
                for i in themes[t].goals[g].interventions.indices {
                    for m in themes[t].goals[g].interventions[i].milestones.indices
                    where themes[t].goals[g].interventions[i].milestones[m].id == item {
                        switch field {
                        case .start: if let d = PlanDate(iso: value) { themes[t].goals[g].interventions[i].milestones[m].start = d }
                        case .due: if let d = PlanDate(iso: value) { themes[t].goals[g].interventions[i].milestones[m].due = d }
                        case .baseline: if let v = Double(value) { themes[t].goals[g].interventions[i].milestones[m].baseline = v }
                        case .target: if let v = Double(value) { themes[t].goals[g].interventions[i].milestones[m].target = v }
                        }
                    }
                }
                for x in themes[t].goals[g].indicators.indices where themes[t].goals[g].indicators[x].id == item {
                    switch field {
                    case .baseline: if let v = Double(value) { themes[t].goals[g].indicators[x].baseline = v }
                    case .target: if let v = Double(value) { themes[t].goals[g].indicators[x].target = v }
                    default: break
                    }
                }
            }
        }
    }
}
