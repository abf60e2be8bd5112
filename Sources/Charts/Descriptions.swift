import Plan
import Status

/// What each chart shows, in Dutch words: the `<desc>` a screen reader reads, and what a
/// reader of the council report can check the picture against.
extension Chart {
    /// "Mijlpaal Werksferen opgezet (bvs-werksferen): 5 van 10 werksferen gerapporteerd op
    /// 2024-03-31; verwacht op de peildatum 2024-04-15: 7,2; einddatum 2025-12-31; …"
    static func milestoneDescription(_ input: MilestoneChartInput) -> String {
        let m = input.milestone, obs = input.visible
        var parts: [String] = []
        if let last = obs.last {
            parts.append("\(DutchText.number(last.value)) van \(DutchText.amount(m.target, m.unit)) gerapporteerd op \(last.date)")
        } else {
            parts.append("nog niets gerapporteerd (doel \(DutchText.amount(m.target, m.unit)))")
        }
        let expected = input.model.expected(m, on: input.asOf)
        parts.append("verwacht op de peildatum (vandaag) \(input.asOf): \(DutchText.number(expected))")
        parts.append("einddatum \(m.due)")
        if let f = input.forecast, !obs.isEmpty {
            parts.append("prognose: gereed op \(f), \(f > m.due ? "na" : "voor") de einddatum")
        }
        if let s = input.state { parts.append("status: \(DutchText.state(s))") }
        let path = ([Checkpoint(date: m.start, value: m.baseline)] + m.checkpoints + [Checkpoint(date: m.due, value: m.target)])
            .map { "\(DutchText.number($0.value)) op \($0.date)" }.joined(separator: ", ")
        return "Mijlpaal \(m.name) (\(m.id)): " + parts.joined(separator: "; ") + ". Gepland pad: \(path)"
            + (m.checkpoints.isEmpty ? "" : " (de tussendoelen)")
            + ". De band onder het pad is de marge van \(DutchText.percent(input.model.lagTolerance)) van de hele weg; daaronder is de mijlpaal achter op schema."
            + (obs.count > 1 ? " Gerapporteerd: " + obs.map { "\(DutchText.number($0.value)) op \($0.date)" }.joined(separator: ", ") + "." : "")
    }

    /// "Mijlpaal Vergunning verleend (doorstroom-vergunning), gereed of niet: start …"
    static func binaryDescription(_ input: MilestoneChartInput, done: PlanDate?) -> String {
        let m = input.milestone
        var parts = ["start \(m.start)", "einddatum \(m.due)"]
        if let done {
            parts.append("gereed op \(done)\(done > m.due ? ", na de einddatum" : "")")
        } else {
            parts.append("nog niet gereed op de peildatum (vandaag) \(input.asOf)")
        }
        parts.append("risicoperiode vanaf \(riskStart(input))")
        if let s = input.state { parts.append("status: \(DutchText.state(s))") }
        return "Mijlpaal \(m.name) (\(m.id)), gereed of niet: " + parts.joined(separator: "; ")
            + ". In het laatste \(DutchText.percent(input.model.binaryRiskWindow)) van de looptijd is een mijlpaal die nog niet gereed is een risico."
    }

    /// The first day of a binary milestone's risk window, as the status model computes it.
    static func riskStart(_ input: MilestoneChartInput) -> PlanDate {
        let m = input.milestone
        let window = Double(m.start.days(to: m.due))
        return m.start.adding(days: Int((window * (1 - input.model.binaryRiskWindow)).rounded(.up)))
    }
}

extension Chart {
    /// "Indicator Volwassenen die zich gelukkig voelen (gelukkig): van 83% (2020) naar 88% in
    /// 2047, het landelijk gemiddelde; hoger is beter. Laatste meting 82% (tot 2023-12-31); …"
    static func indicatorDescription(_ input: IndicatorChartInput) -> String {
        let x = input.indicator, obs = input.visible, model = input.model
        let basis = x.targetBasis == .nationalAverage ? "het landelijk gemiddelde" : "een drempelwaarde"
        var text = "Indicator \(x.name) (\(x.id))" + (input.goal.map { ", bij het doel \($0)" } ?? "")
            + ": van \(DutchText.amount(x.baseline, x.unit)) (\(x.baselineYear)) naar \(DutchText.amount(x.target, x.unit))"
            + " in \(x.targetYear), \(basis); \(DutchText.direction(x.direction)). "
        if let last = obs.last {
            text += "Laatste meting \(DutchText.amount(last.value, x.unit)) (tot \(last.date)); verwacht op het pad op die datum "
                + "\(DutchText.amount(model.expected(x, on: last.date), x.unit))"
            if let nl = x.references["nederland"] { text += "; " + comparison(last.value, nl, "Nederland", x) }
            text += ". "
            if obs.count > 1 {
                text += "Metingen: " + obs.map { "\(DutchText.amount($0.value, x.unit)) tot \($0.date)" }.joined(separator: ", ") + ". "
            }
        } else {
            text += "Nog geen meting sinds de uitgangswaarde. "
        }
        text += "Peildatum (vandaag) \(input.asOf)."
        if let s = input.state { text += " Status: \(DutchText.state(s))." }
        let refs = input.references.map { "\(DutchText.reference($0.key)) \(DutchText.amount($0.value, x.unit))" }
        if !refs.isEmpty { text += " Referenties: " + refs.joined(separator: ", ") + "." }
        return text
    }

    /// "6 procentpunt slechter dan Nederland (88%)", by the indicator's direction.
    static func comparison(_ value: Double, _ ref: Double, _ name: String, _ x: Indicator) -> String {
        let gap = value - ref
        if abs(gap) < 0.05 { return "gelijk aan \(name) (\(DutchText.amount(ref, x.unit)))" }
        let better = x.direction == .higherIsBetter ? gap > 0 : gap < 0
        let size = x.unit == "%" ? "\(DutchText.number(abs(gap))) procentpunt" : DutchText.amount(abs(gap), x.unit)
        return "\(size) \(better ? "beter" : "slechter") dan \(name) (\(DutchText.amount(ref, x.unit)))"
    }
}
