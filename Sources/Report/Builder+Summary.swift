import Plan
import Status

extension Builder {
    // MARK: - Heading and introduction

    mutating func heading() {
        out.append(.heading(1, "Raadsinformatiebrief: voortgang \(plan.programme.name)"))
        out.append(.paragraph("Voortgang Heerlen-Noord", label: "Onderwerp"))
        out.append(.paragraph(Dutch.date(asOf), label: "Stand per"))
        out.append(.paragraph("wat is veranderd sinds \(Dutch.date(since)); planversie \(plan.version)", label: "Verslagperiode"))
        out.append(.heading(2, "Inleiding", id: "inleiding"))
        out.append(.paragraph("Bijgaand informeren wij u over de stand van zaken van het \(plan.programme.name) per \(Dutch.date(asOf)). "
                              + "Alle cijfers in deze brief komen uit de rapportages van de themateams in Koers, de voortgangsmonitor van het programma; "
                              + "de bijlage legt uit hoe de stand wordt bepaald."))
        let p = plan.programme
        let revised = plan.version > 1 ? ", het plan zoals het op \(Dutch.date(asOf)) gold (de herzieningen staan bij de mijlpalen en onder Wat is veranderd)" : ""
        out.append(.paragraph("Het programma heeft de ambitie: \(p.ambition.trimmingSuffix(".").lowercasedFirst). Het Toekomstplan loopt van \(Dutch.date(p.horizon.start)) "
                              + "tot \(Dutch.date(p.horizon.end)) en telt \(Prose.count(plan.themes.count, "thema", "thema's")), "
                              + "\(Prose.count(plan.interventions.count, "interventie", "interventies")) "
                              + "met \(Prose.count(plan.milestones.count, "mijlpaal", "mijlpalen")) en \(Prose.count(plan.indicators.count, "indicator", "indicatoren")). "
                              + "Deze brief rekent met planversie \(plan.version)\(revised)."))
    }

    // MARK: - Summary

    mutating func summary() {
        out.append(.heading(2, "Samenvatting", id: "samenvatting"))
        guard hasData else {
            out.append(.paragraph("Tot en met \(Dutch.date(asOf)) zijn er nog geen rapportages van de themateams ontvangen. "
                                  + "Over de voortgang valt daarom nog niets te zeggen: de stand van elke mijlpaal en indicator is onbekend, "
                                  + "niet op koers en niet achter. Deze brief geeft daarom alleen de financiering uit het plan, de planwijzigingen en de werkwijze."))
            return
        }
        let programme = rollups["programme"]?.state ?? .unknown
        let ms = plan.milestones.map(\.milestone.id), xs = plan.indicators.map(\.indicator.id)
        let cm = counts(ms), cx = counts(xs)
        out.append(.paragraph("Het Toekomstplan staat per \(Dutch.date(asOf)) als geheel op “\(Dutch.word(programme))”. "
                              + "Van de \(ms.count) mijlpalen: \(Dutch.counts(cm)). Van de \(xs.count) indicatoren: \(Dutch.counts(cx))."))
        let order: [ItemState] = [.onTrack, .lagging, .overdue, .unknown, .done, .atRisk, .notStarted]
        out.append(.table(header: ["Stand", "Mijlpalen", "Indicatoren", "Totaal"], rows: order.map { s in
            [stateText(s), "\(cm[s] ?? 0)", "\(cx[s] ?? 0)", "\((cm[s] ?? 0) + (cx[s] ?? 0))"]
        }))
        out.append(.paragraph("Per thema:"))
        out.append(.list(plan.themes.map(themeLine)))
        out.append(.paragraph("\(periodCounts()) (zie Wat is veranderd).".capitalizedFirst, label: "Sinds \(Dutch.date(since)):"))
        mustKnow()
    }

    /// One theme in a line: its state, its counts, and the milestones that need attention by name.
    func themeLine(_ t: Theme) -> ListItem {
        let ms = t.goals.flatMap { $0.interventions.flatMap(\.milestones) }
        let xs = t.goals.flatMap(\.indicators)
        var text = "\(stateText(rollups["theme:\(t.id)"]?.state ?? .unknown)) — "
            + tally(ms.map(\.id), "mijlpaal", "mijlpalen")
        if !xs.isEmpty { text += "; " + tally(xs.map(\.id), "indicator", "indicatoren") }
        let attention: [ItemState] = [.overdue, .lagging, .unknown, .atRisk]
        for s in attention {
            let named = ms.filter { status($0.id).state == s }.map { Prose.quoted($0.name) } + xs.filter { status($0.id).state == s }.map { Prose.quoted($0.name) }
            if !named.isEmpty { text += "; \(Dutch.word(s)): \(Prose.list(named))" }
        }
        if snap.silentThemes.contains(t.id) { text += "; de themadienst is stil, zijn onderdelen staan op onbekend" }
        return ListItem(text + ".", label: "\(t.name):")
    }

    /// The open critical alerts and warnings, each with the item's why, its owner and the
    /// reason given when it was taken on; silent theme services; funding that ends soon.
    mutating func mustKnow() {
        out.append(.heading(3, "Wat de raad moet weten"))
        let important = snap.alerts.filter { $0.severity >= .warning }
            .sorted { ($1.severity, $0.key) < ($0.severity, $1.key) }
        if important.isEmpty {
            out.append(.paragraph("Er staan geen kritieke meldingen of waarschuwingen open."))
        } else {
            if !important.contains(where: { $0.severity == .critical }) { out.append(.paragraph("Er staan geen kritieke meldingen open; wel deze waarschuwingen:")) }
            out.append(.list(important.prefix(10).map { a in
                ListItem("\(name(a.subject)): \(alertWhy(a))" + (a.owner.map { "; eigenaar \(org($0))" } ?? "") + ".",
                         label: "\(Dutch.word(a.severity).capitalizedFirst) — \(Dutch.rule(a.rule)):", details: acknowledgements(subject: a.subject))
            }))
            if important.count > 10 { out.append(.paragraph("En nog \(important.count - 10) meldingen; zie voortgang per thema.")) }
        }
        if !snap.silentThemes.isEmpty {
            out.append(.paragraph("Van de themadiensten \(Prose.list(snap.silentThemes.map(name))) is niets meer gehoord; hun onderdelen staan op onbekend."))
        }
        let soon = plan.funding.filter { $0.period.end > asOf && $0.period.end <= asOf.adding(days: 365) }
        if !soon.isEmpty {
            out.append(.paragraph("Binnen een jaar loopt de periode af van \(Prose.list(soon.map { "\($0.name) (\(Dutch.date($0.period.end)))" })); zie Financiering."))
        }
    }

    func alertWhy(_ a: Alert) -> String {
        if let m = plan.milestones.first(where: { $0.milestone.id == a.subject }) { return why(m.milestone) }
        if let x = plan.indicators.first(where: { $0.indicator.id == a.subject }) { return why(x.indicator) }
        if let f = plan.funding.first(where: { $0.id == a.subject }) { return fundingState(f) }
        if a.rule == "theme-silent" { return "de themadienst is niet gehoord" }
        return Dutch.rule(a.rule)
    }

    mutating func noData() {
        out.append(.heading(2, "Voortgang per thema", id: "thema"))
        out.append(.paragraph("Nog geen gegevens: geen van de themateams (\(Prose.list(plan.themes.map(\.name)))) heeft tot en met \(Dutch.date(asOf)) gerapporteerd."))
    }
}

extension String {
    func trimmingSuffix(_ s: String) -> String { hasSuffix(s) ? String(dropLast(s.count)) : self }
    /// "De achterstanden …" → "de achterstanden …", after a colon; "NPHLN …" stays.
    var lowercasedFirst: String {
        guard let second = dropFirst().first, second.isLowercase else { return self }
        return prefix(1).lowercased() + dropFirst()
    }
}
