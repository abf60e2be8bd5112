import Charts
import Plan
import Status

/// *Indicatoren*: each indicator against its path from the baseline to the national
/// average (or its threshold) by the target year, in words and as a chart.
extension Builder {
    mutating func indicators() {
        out.append(.heading(2, "Indicatoren", id: "indicatoren"))
        let xs = plan.indicators.map(\.indicator)
        let years = Set(xs.map(\.targetYear)).sorted().map(String.init)
        out.append(.paragraph("Het programma wil de achterstand inhalen en in \(Prose.list(years)) op het landelijk gemiddelde uitkomen. "
                              + "Elke indicator volgt daarom een recht pad van de beginwaarde naar het doel, meestal het landelijk gemiddelde, in het doeljaar; "
                              + "een meting wordt vergeleken met dat pad aan het eind van de periode die zij beschrijft. "
                              + tally(xs.map(\.id), "indicator", "indicatoren").capitalizedFirst + "."))
        for t in plan.themes {
            for g in t.goals {
                for x in g.indicators { indicator(x, theme: t, goal: g) }
            }
        }
    }

    mutating func indicator(_ x: Indicator, theme t: Theme, goal g: Goal) {
        let s = status(x.id)
        out.append(.heading(3, "\(x.name) (\(t.name))"))
        var text = "Stand: \(stateText(s.state)). \(indicatorSentence(x)) Beginwaarde \(Dutch.amount(x.baseline, unit: x.unit)) (\(x.baselineYear)), "
            + "doel \(Dutch.amount(x.target, unit: x.unit)) in \(x.targetYear)"
            + (x.targetBasis == .nationalAverage ? " (het landelijk gemiddelde)" : " (een drempelwaarde: een landelijk cijfer staat niet in het plan)")
            + "; \(x.direction == .higherIsBetter ? "hoger is beter" : "lager is beter")."
        let refs = x.references.sorted { $0.key < $1.key }.map { "\(DutchText.reference($0.key)) \(Dutch.amount($0.value, unit: x.unit))" }
        if !refs.isEmpty { text += " Ter vergelijking: \(refs.joined(separator: ", "))." }
        if let n = note(x.id) { text += " Toelichting bij de meting van \(n.date): “\(n.text)”." }
        out.append(.paragraph(text))
        let details = beingDone(x.id) + resolvedAlerts(subject: x.id).map { "Melding \($0)." }
            + revisions(of: x.id).map { revisionText($0.revision, $0.change).capitalizedFirst + "." }
        if !details.isEmpty { out.append(.list(details.map { ListItem($0) })) }
        let svg = Chart.indicator(IndicatorChartInput(indicator: x, observations: observations(x.id), asOf: asOf, state: s.state, goal: g.name))
        out.append(.chart(svg: svg, caption: "\(x.name): pad naar \(Dutch.amount(x.target, unit: x.unit)) in \(x.targetYear) en de metingen tot \(Dutch.date(asOf))",
                          description: Self.description(of: svg)))
        out.append(.note("Bron: \(x.source)."))
    }

    /// "De laatste meting, over 1 januari 2013 t/m 31 december 2023, is 82%; op het pad werd
    /// op die datum 83,6% verwacht: 31 % van de hele weg achter."
    func indicatorSentence(_ x: Indicator) -> String {
        let e = status(x.id).evidence
        guard let v = e.lastValue, let d = e.lastDate else {
            return "Er is nog geen meting ontvangen; de stand is daarom onbekend, niet op koers."
        }
        let start = reports[x.id]?.last { $0.date == d }?.periodStart
        var s = "De laatste meting, over " + (start.map { Dutch.period(DateRange(start: $0, end: d)) } ?? "de periode tot \(Dutch.date(d))")
            + ", is \(Dutch.amount(v, unit: x.unit)); op het pad werd op die datum \(Dutch.amount(model.expected(x, on: d), unit: x.unit)) verwacht"
        if let dev = e.deviation, dev > 0.005 { s += ": \(Dutch.percent(dev)) van de hele weg achter" }
        if status(x.id).state == .unknown { s += ". Die meting is ouder dan de afgesproken frequentie (\(Prose.cadence(x.cadence))) toelaat" }
        return s + "."
    }
}
