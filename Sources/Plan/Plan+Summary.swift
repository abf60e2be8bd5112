extension Plan {
    /// A few lines a person reads after `koers plan check`: counts per theme and the date range.
    public var summary: String {
        var lines = ["\(programme.name) — plan version \(version), horizon \(programme.horizon)"]
        let ms = milestones
        let first = ms.map(\.milestone.start).min(), last = ms.map(\.milestone.due).max()
        let width = themes.map(\.id.count).max() ?? 0
        for t in themes {
            let goals = t.goals.count
            let interventions = t.goals.reduce(0) { $0 + $1.interventions.count }
            let milestones = ms.filter { $0.theme == t.id }.count
            let indicators = t.goals.reduce(0) { $0 + $1.indicators.count }
            lines.append("  \(t.id.padding(toLength: width, withPad: " ", startingAt: 0)) \(t.name): \(goals) goal\(goals == 1 ? "" : "s"), \(interventions) intervention\(interventions == 1 ? "" : "s"), \(milestones) milestone\(milestones == 1 ? "" : "s"), \(indicators) indicator\(indicators == 1 ? "" : "s")")
        }
        lines.append("  \(areas.count) areas, \(organisations.count) organisations, \(funding.count) funding lines, \(leefgebieden.count) leefgebieden, \(revisions.count) revision\(revisions.count == 1 ? "" : "s")")
        if let first, let last { lines.append("  milestones from \(first) to \(last)") }
        return lines.joined(separator: "\n")
    }
}
