import Plan
import Status
import StreamProtocol

/// What happened between `since` and `asOf`, from the stored stream and the plan's
/// revisions: counted in the samenvatting, listed in *wat is veranderd*.
struct Period {
    struct Dated { var date: PlanDate; var item: String; var state: ItemState }
    /// Milestones that became done, first time each.
    var reached: [Dated] = []
    /// Items that went into achter or te laat from another state.
    var delayed: [Dated] = []
    var fired: [StreamDocuments.AlertTransitionDocument] = []
    var resolved: [StreamDocuments.AlertTransitionDocument] = []
    /// The plan's revisions dated in the period, each change with its revision.
    var revisions: [(revision: Revision, change: Revision.Change)] = []
}

extension Builder {
    func periodChanges() -> Period {
        var p = Period()
        var seenReached = Set<String>(), seenDelayed = Set<String>()
        let bad: Set<ItemState> = [.lagging, .overdue]
        for c in changes where c.date >= since && c.date <= asOf && (milestoneIDs.contains(c.item) || indicatorIDs.contains(c.item)) {
            if c.to == .done, milestoneIDs.contains(c.item), seenReached.insert(c.item).inserted {
                p.reached.append(.init(date: c.date, item: c.item, state: c.to))
            }
            if bad.contains(c.to), !(c.from.map(bad.contains) ?? false), seenDelayed.insert("\(c.item)/\(c.to.rawValue)").inserted {
                p.delayed.append(.init(date: c.date, item: c.item, state: c.to))
            }
        }
        // An alert that fired and cleared on one day (a theme service catching up its backlog) is
        // not news for the council, here as in an item's history.
        var firedOn: [String: PlanDate] = [:], sameDay = Set<String>()
        for t in transitions where t.alert.severity >= .warning {
            if t.to == .firing && t.from == .pending { firedOn[t.key] = t.date }
            if t.to == .resolved, let f = firedOn.removeValue(forKey: t.key), f == t.date { sameDay.insert("\(t.key)@\(t.date.iso)") }
        }
        for t in transitions where t.date >= since && t.date <= asOf && t.alert.severity >= .warning && !sameDay.contains("\(t.key)@\(t.date.iso)") {
            if t.to == .firing && t.from == .pending { p.fired.append(t) }
            if t.to == .resolved && t.from != .pending { p.resolved.append(t) }
        }
        p.revisions = fullPlan.revisions.filter { $0.date >= since && $0.date <= asOf }.flatMap { r in r.changes.map { (r, $0) } }
        return p
    }

    /// The revisions of an item made on or before the date, oldest first.
    func revisions(of item: String) -> [(revision: Revision, change: Revision.Change)] {
        fullPlan.history(of: item).filter { $0.revision.date <= asOf }
    }

    /// "de einddatum van “Werksferen opgezet” is herpland van 31 december 2025 naar 30 juni 2026,
    /// planversie 3 (15 augustus 2024: Werkgeversoffensief loopt later)".
    func revisionText(_ r: Revision, _ c: Revision.Change) -> String {
        "\(fieldWord(c.field)) van “\(name(c.item))” is herpland van \(planValue(c.from, c.field, item: c.item)) naar \(planValue(c.to, c.field, item: c.item)), "
            + "planversie \(r.version) (\(Dutch.date(r.date)): \(r.reason))"
    }

    func fieldWord(_ f: Revision.Change.Field) -> String { f == .target ? "het \(Dutch.word(f))" : "de \(Dutch.word(f))" }

    /// A revised field's value as the council reads it: a date, or a figure with its unit.
    func planValue(_ v: String, _ f: Revision.Change.Field, item: String) -> String {
        switch f {
        case .start, .due: return PlanDate(iso: v).map(Dutch.date) ?? v
        case .baseline, .target:
            guard let x = Double(v) else { return v }
            let unit = plan.milestones.first { $0.milestone.id == item }?.milestone.unit ?? plan.indicators.first { $0.indicator.id == item }?.indicator.unit ?? ""
            return Dutch.amount(x, unit: unit)
        }
    }

    // MARK: - What changed

    mutating func changed() {
        out.append(.heading(2, "Wat is veranderd sinds \(Dutch.date(since))", id: "veranderd"))
        let p = period
        out.append(.paragraph("Tussen \(Dutch.date(since)) en \(Dutch.date(asOf)): \(periodCounts())."))
        func section(_ title: String, _ items: [String], none: String) {
            out.append(.heading(3, title))
            out.append(items.isEmpty ? .paragraph(none) : .list(items.map { ListItem($0) }))
        }
        section("Bereikte mijlpalen", p.reached.map { r in
            // Reported now, reached more than a reporting cadence earlier: both dates, so neither is hidden.
            guard let m = plan.milestones.first(where: { $0.milestone.id == r.item })?.milestone, let on = reachedOn(m),
                  on < r.date.adding(days: -m.cadence.approximateDays) else { return "\(Dutch.date(r.date)): \(name(r.item))" }
            return "\(Dutch.date(r.date)): \(name(r.item)) (gereed gemeld; bereikt op \(Dutch.date(on)))"
        }, none: "Geen mijlpalen bereikt in deze periode.")
        section("Nieuwe achterstanden", p.delayed.map { "\(Dutch.date($0.date)): \(name($0.item)) — \(Dutch.word($0.state))" },
                none: "Geen nieuwe achterstanden in deze periode.")
        section("Nieuwe meldingen", p.fired.map { t in
            "\(Dutch.date(t.date)): \(Dutch.rule(t.alert.rule)) — \(name(t.alert.subject)) (\(Dutch.word(t.alert.severity)))"
        }, none: "Geen nieuwe meldingen in deze periode.")
        section("Opgeloste meldingen", p.resolved.map { t in
            "\(Dutch.date(t.date)): \(Dutch.rule(t.alert.rule)) — \(name(t.alert.subject))\(resolution(t.alert))"
        }, none: "Geen meldingen opgelost in deze periode.")
        planRevisions(level: 3)
    }

    /// "2 mijlpalen bereikt, 1 nieuwe achterstand, …, 1 planwijziging".
    func periodCounts() -> String {
        let p = period
        return [Prose.count(p.reached.count, "mijlpaal", "mijlpalen") + " bereikt",
                Prose.count(p.delayed.count, "nieuwe achterstand", "nieuwe achterstanden"),
                Prose.count(p.fired.count, "nieuwe melding", "nieuwe meldingen"),
                Prose.count(p.resolved.count, "melding", "meldingen") + " opgelost",
                Prose.count(p.revisions.count, "planwijziging", "planwijzigingen")].joined(separator: ", ")
    }

    /// The plan's revisions in the period, each change as a re-planning: never silent,
    /// with or without reports (an empty store still hears that the plan changed).
    mutating func planRevisions(level: Int) {
        out.append(.heading(level, level == 2 ? "Planwijzigingen sinds \(Dutch.date(since))" : "Planwijzigingen", id: level == 2 ? "planwijzigingen" : nil))
        let p = period
        guard !p.revisions.isEmpty else {
            out.append(.paragraph("Het plan is in deze periode niet gewijzigd; deze brief rekent met planversie \(plan.version)."))
            return
        }
        out.append(.paragraph("In deze periode is het plan herzien; deze brief rekent met planversie \(plan.version), het plan zoals het op \(Dutch.date(asOf)) gold. "
                              + "Elke wijziging, met haar reden:"))
        out.append(.list(p.revisions.map { ListItem(revisionText($0.revision, $0.change).capitalizedFirst + ".") }))
    }

    mutating func revisionsWithoutData() { planRevisions(level: 2) }
}
