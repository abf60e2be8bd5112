import Charts
import History
import Plan
import Status

/// *Voortgang per thema*, written as the council letter writes it: per interventie what it
/// is, who owns it, what has been reached with its figures and dates, what runs to plan,
/// and for each item that lags what lags, why (its figures, and the team's own note), who
/// owns it and what is being done (the reasons given with acknowledgements). Every item
/// of the plan is named once; every sentence is made from its status and evidence.
extension Builder {
    static let attention: Set<ItemState> = [.lagging, .overdue, .atRisk, .unknown]

    mutating func themes() {
        out.append(.heading(2, "Voortgang per thema", id: "thema"))
        for t in plan.themes {
            out.append(.heading(3, t.name, id: "thema-\(t.id)"))
            out.append(.paragraph(themeIntro(t)))
            for g in t.goals {
                for i in g.interventions { intervention(i) }
            }
        }
    }

    func themeIntro(_ t: Theme) -> String {
        let interventions = t.goals.flatMap(\.interventions)
        let ms = interventions.flatMap(\.milestones).map(\.id), xs = t.goals.flatMap(\.indicators).map(\.id)
        var s = "Het thema staat per \(Dutch.date(asOf)) op “\(Dutch.word(rollups["theme:\(t.id)"]?.state ?? .unknown))”. "
            + "Het werkt aan \(t.goals.count == 1 ? "het doel" : "de doelen") \(Prose.list(t.goals.map { Prose.quoted($0.name) }))"
        if !interventions.isEmpty {
            s += ", met \(Prose.count(interventions.count, "interventie", "interventies")) en \(Prose.count(ms.count, "mijlpaal", "mijlpalen"))"
                + (ms.isEmpty ? "" : " (\(Dutch.counts(counts(ms))))")
        }
        s += "."
        if !xs.isEmpty {
            s += " Daarnaast heeft het " + (xs.count == 1 ? "1 indicator: \(Dutch.word(status(xs[0]).state))" : "\(xs.count) indicatoren: \(Dutch.counts(counts(xs)))")
                + " (zie Indicatoren)."
        }
        if snap.silentThemes.contains(t.id) { s += " De themadienst is stil: de stand van zijn onderdelen is onbekend, niet op koers en niet achter." }
        return s
    }

    mutating func intervention(_ i: Intervention) {
        out.append(.heading(4, i.name))
        if let d = i.description, !d.isEmpty { out.append(.paragraph(d)) }
        out.append(.paragraph(interventionFacts(i)))
        let done = i.milestones.enumerated().filter { status($0.element.id).state == .done }
            .sorted { (reachedOn($0.element) ?? asOf, $0.offset) < (reachedOn($1.element) ?? asOf, $1.offset) }.map(\.element)
        if !done.isEmpty { out.append(.paragraph(done.map(reachedSentence).joined(separator: " "), label: "Bereikt.")) }
        let running = i.milestones.filter { [.onTrack, .notStarted].contains(status($0.id).state) }
        if !running.isEmpty { out.append(.paragraph(running.map(runningSentence).joined(separator: " "), label: "Loopt volgens plan.")) }
        for m in i.milestones where Self.attention.contains(status(m.id).state) {
            let text = attentionText(m, in: i)
            out.append(.paragraph(text.what, label: "\(m.name) — \(stateText(status(m.id).state))."))
            if let done = text.done { out.append(.paragraph(done, label: "Wat er gebeurt.")) }
        }
        let revised = i.milestones.flatMap { revisions(of: $0.id) }
        if !revised.isEmpty {
            out.append(.paragraph(revised.map { revisionText($0.revision, $0.change).capitalizedFirst + "." }.joined(separator: " "), label: "Herpland."))
        }
        for m in i.milestones where m.kind == .quantitative && Self.attention.contains(status(m.id).state) {
            let s = status(m.id)
            let svg = Chart.milestone(MilestoneChartInput(milestone: m, observations: observations(m.id), asOf: asOf,
                                                          forecast: s.evidence.forecast, state: s.state))
            out.append(.chart(svg: svg, caption: "\(m.name): gepland pad en rapportages tot \(Dutch.date(asOf))", description: Self.description(of: svg)))
        }
    }

    /// Owner, partners, wijken, funding and the intervention's state, in two sentences.
    func interventionFacts(_ i: Intervention) -> String {
        var s = "Eigenaar is \(org(i.owner))"
            + (i.partners.isEmpty ? "" : ", met als \(i.partners.count == 1 ? "partner" : "partners") \(Prose.list(i.partners.map(org)))") + ". "
        s += i.areas.isEmpty ? "De interventie loopt in heel Heerlen-Noord" : "De interventie loopt in \(Prose.list(i.areas.map(area)))"
        s += i.funding.isEmpty ? "; het plan noemt er geen eigen financieringslijn bij. "
            : " en wordt gefinancierd uit \(Prose.list(i.funding.map { Prose.quoted(fundingNames[$0] ?? $0) })). "
        s += "Stand per \(Dutch.date(asOf)): \(stateText(rollups["intervention:\(i.id)"]?.state ?? .unknown)); "
            + tally(i.milestones.map(\.id), "mijlpaal", "mijlpalen") + "."
        return s
    }

    /// "van de 6 mijlpalen: 3 achter, 3 gereed"; "1 mijlpaal: gereed"; "geen mijlpalen".
    func tally(_ ids: [String], _ one: String, _ many: String) -> String {
        switch ids.count {
        case 0: "geen \(many)"
        case 1: "1 \(one): \(Dutch.word(status(ids[0]).state))"
        default: "van de \(ids.count) \(many): \(Dutch.counts(counts(ids)))"
        }
    }

    // MARK: - One milestone

    /// The date of the first report that reached the target (a team may report a done item
    /// again later); the latest report's date when the reports say nothing else.
    func reachedOn(_ m: Milestone) -> PlanDate? {
        let first = (reports[m.id] ?? []).first { model.fraction(m, $0.value) >= 1 }
        return first?.date ?? status(m.id).evidence.lastDate
    }

    /// The due date as a sentence names it, and its re-planning when it was moved:
    /// "30 juni 2026 (herpland in planversie 3, was 31 december 2025)".
    func due(_ m: Milestone) -> String {
        let moved = revisions(of: m.id).filter { $0.change.field == .due }
        guard let first = moved.first, let last = moved.last else { return Dutch.date(m.due) }
        return "\(Dutch.date(m.due)) (herpland in planversie \(last.revision.version), was \(planValue(first.change.from, .due, item: m.id)))"
    }

    /// "4 van 10 werksferen", "gereed", "nog niet gereed".
    func value(_ m: Milestone, _ v: Double) -> String {
        m.kind == .binary ? (v >= 1 ? "gereed" : "nog niet gereed") : "\(Dutch.number(v)) van \(Dutch.amount(m.target, unit: m.unit))"
    }

    /// The team's latest note with a report about the item, and that report's date.
    func note(_ id: String) -> (date: String, text: String)? {
        guard let r = (reports[id] ?? []).last(where: { !($0.note ?? "").isEmpty }), let text = r.note else { return nil }
        return (Dutch.date(r.date), text)
    }

    func reachedSentence(_ m: Milestone) -> String {
        guard let d = reachedOn(m) else { return "“\(m.name)” is bereikt." }
        var s = "Op \(Dutch.date(d)) is “\(m.name)” bereikt"
        if d > m.due { s += ", \(Dutch.days(m.due.days(to: d))) na de einddatum van \(due(m))" }
        var extra: [String] = []
        if m.kind == .quantitative, let v = status(m.id).evidence.lastValue { extra.append(value(m, v)) }
        if let n = note(m.id) { extra.append("toelichting van het themateam: “\(n.text)”") }
        // What was done about it while it lagged stays part of its story.
        return ([s + (extra.isEmpty ? "" : " (\(extra.joined(separator: "; ")))") + "."]
                + acknowledgements(subject: m.id).map { "Eerder " + $0.lowercasedFirst }).joined(separator: " ")
    }

    func runningSentence(_ m: Milestone) -> String {
        let s = status(m.id), e = s.evidence
        if s.state == .notStarted { return "“\(m.name)” begint volgens plan op \(Dutch.date(m.start)); einddatum \(due(m))." }
        var t = "“\(m.name)”"
        if let v = e.lastValue, let d = e.lastDate {
            t += m.kind == .binary ? " is nog niet gereed (gemeld op \(Dutch.date(d)))"
                : " staat op \(value(m, v)) (gemeld op \(Dutch.date(d)))" + (e.expected.map { ", waar \(Dutch.number($0)) verwacht werd" } ?? "")
        } else {
            t += " heeft volgens de planning nog geen rapportage nodig"
        }
        return t + "; einddatum \(due(m))."
    }
}
