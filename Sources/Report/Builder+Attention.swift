import Plan
import Status

/// An item that needs attention (achter, te laat, risico, onbekend), in the letter's
/// words: what lags and by how much, why (the status model's figures, and the team's own
/// note where it gave one; otherwise that no cause was given), who owns it, what is being
/// done about it, and the earlier alerts about it.
extension Builder {
    /// Two paragraphs: what lags, why and who owns it; then what is being done (nil when
    /// there is nothing to say: no alert, no acknowledgement, no earlier alert).
    func attentionText(_ m: Milestone, in i: Intervention) -> (what: String, done: String?) {
        var parts = [stateSentence(m), "Eigenaar is \(org(i.owner))."]
        if let n = note(m.id) {
            parts.append("Toelichting van het themateam bij de rapportage van \(n.date): “\(n.text)”.")
        } else if status(m.id).state != .unknown {
            parts.append("De rapportages geven geen toelichting: een oorzaak is niet gemeld.")
        }
        var done = beingDone(m.id)
        let earlier = resolvedAlerts(subject: m.id)
        if !earlier.isEmpty { done.append("Eerdere meldingen: \(earlier.joined(separator: "; ")).") }
        return (parts.joined(separator: " "), done.isEmpty ? nil : done.joined(separator: " "))
    }

    /// What is being done: each acknowledgement with its reason, and each open alert not
    /// taken on with the agreed way of working.
    func beingDone(_ subject: String, funding: Bool = false) -> [String] {
        var out = acknowledgements(subject: subject, funding: funding)
        for a in openAlerts(subject: subject, funding: funding) where !isTakenOn(a) {
            out.append("De melding “\(Dutch.rule(a.rule))” (\(Dutch.word(a.severity))) staat open en is nog niet in behandeling genomen; "
                       + "de afgesproken werkwijze: \(Dutch.action(rule: a.rule)).")
        }
        return out
    }

    /// Why the item is in its state, from its evidence and the plan, in whole sentences.
    func stateSentence(_ m: Milestone) -> String {
        let s = status(m.id), e = s.evidence
        let last = e.lastValue.flatMap { v in e.lastDate.map { "laatst gemeld: \(value(m, v)) op \(Dutch.date($0))" } }
        switch s.state {
        case .lagging:
            return pathSentence(m, last: last) + " " + forecastSentence(m)
        case .overdue:
            return "De einddatum van \(due(m)) is verstreken en het doel is niet bereikt; " + (last ?? "er is geen rapportage ontvangen") + "."
        case .atRisk:
            return riskSentence(m, last: last)
        case .unknown:
            if e.lastValue == nil {
                return "Er zijn geen gegevens ontvangen sinds de start op \(Dutch.date(m.start)); ontbrekende gegevens tellen als onbekend, niet als op koers."
            }
            if snap.silentThemes.contains(plan.milestones.first { $0.milestone.id == m.id }?.theme ?? "") {
                return "De themadienst is stil, dus de laatste melding geldt niet als actueel (\(last ?? ""))."
            }
            return "De laatste melding is \(Dutch.days(e.ageDays ?? 0)) oud (\(last ?? "")); bij de afgesproken frequentie van "
                + "\(Prose.cadence(m.cadence)) geldt zij niet meer als actueel."
        default:
            return Dutch.why(s, target: m.target, unit: m.unit, due: m.due, binary: m.kind == .binary).capitalizedFirst + "."
        }
    }

    /// "Laatst gemeld: 4 van 10 werksferen op 1 oktober 2024; volgens het plan werden op
    /// 1 oktober 2024 6 werksferen verwacht, 20 % van de hele weg achter."
    func pathSentence(_ m: Milestone, last: String?) -> String {
        let e = status(m.id).evidence
        var t = (last ?? "er is nog geen rapportage").capitalizedFirst
        if let x = e.expected, m.kind == .quantitative {
            t += "; volgens het plan werd op \(Dutch.date(asOf)) \(Dutch.amount(x, unit: m.unit)) verwacht"
            if let d = e.deviation, d > 0.005 {
                t += ", \(Dutch.percent(d)) van de hele weg achter"
                if status(m.id).state != .lagging { t += " (binnen de marge van \(Dutch.percent(model.lagTolerance)))" }
            }
        }
        return t + "."
    }

    func forecastSentence(_ m: Milestone) -> String {
        guard let f = status(m.id).evidence.forecast else { return "Uit de rapportages valt nog geen tempo af te leiden, dus ook geen prognose." }
        return "Bij het tempo tot nu toe is het doel op \(Dutch.date(f)) bereikt, " + (f > m.due ? "na" : "voor") + " de einddatum van \(due(m))."
    }

    /// Risico has four causes in the status model (docs/status-model.md), tried in its order:
    /// a milestone it depends on lags; a yes/no milestone near its due date; a forecast
    /// after the due date; no progress since the start.
    func riskSentence(_ m: Milestone, last: String?) -> String {
        let lastSentence = (last ?? "nog geen rapportage").capitalizedFirst + "."
        let late = m.dependsOn.filter { [.lagging, .overdue, .atRisk].contains(status($0).state) }
        if !late.isEmpty {
            return "\(lastSentence) De mijlpaal hangt af van \(Prose.list(late.map { "“\(name($0))” (\(Dutch.word(status($0).state)))" })), "
                + "die niet volgens plan \(late.count == 1 ? "verloopt" : "verlopen")."
        }
        if m.kind == .binary {
            return "\(lastSentence) De einddatum van \(due(m)) is over \(Dutch.days(asOf.days(to: m.due))), het laatste deel van de looptijd."
        }
        if let f = status(m.id).evidence.forecast, f > m.due {
            return pathSentence(m, last: last) + " " + forecastSentence(m)
        }
        return "\(lastSentence) Sinds de start op \(Dutch.date(m.start)) is geen voortgang gemeld."
    }
}
