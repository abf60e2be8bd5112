import Charts
import Plan
import Status

/// *Wijken*, *financiering* and *indicatoren*: each opens with what the council should
/// read from it in a few sentences, then gives every wijk, funding line and indicator.
extension Builder {
    func observations(_ id: String) -> [(date: PlanDate, value: Double)] {
        (reports[id] ?? []).map { (date: $0.date, value: $0.value) }
    }

    /// A chart's `<desc>`: what it shows in words, for the Markdown version, without
    /// its list of every reported value (the sentence before it names the latest).
    static func description(of svg: String) -> String {
        let text = fullDescription(of: svg)
        guard let r = text.range(of: " Gerapporteerd: ") else { return text }
        return String(text[..<r.lowerBound])
    }

    static func fullDescription(of svg: String) -> String {
        guard let open = svg.range(of: "<desc"), let gt = svg[open.upperBound...].firstIndex(of: ">"),
              let close = svg.range(of: "</desc>", range: gt..<svg.endIndex) else { return "" }
        return String(svg[svg.index(after: gt)..<close.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    // MARK: - Areas

    /// Per area, its milestones (a milestone's own areas, or else its intervention's) and
    /// the interventions that work there, in plan order.
    func areaItems() -> [String: (milestones: [Milestone], interventions: [String])] {
        var items: [String: (milestones: [Milestone], interventions: [String])] = [:]
        for (i, _, _) in plan.interventions {
            for m in i.milestones {
                for a in areas(of: m, in: i) {
                    items[a, default: ([], [])].milestones.append(m)
                    if items[a]!.interventions.last != i.name { items[a]!.interventions.append(i.name) }
                }
            }
        }
        return items
    }

    mutating func areas() {
        out.append(.heading(2, "Wijken", id: "wijken"))
        let sorted = plan.areas.sorted { ($0.priority ? 0 : 1, $0.name) < ($1.priority ? 0 : 1, $1.name) }
        let items = areaItems()
        let priority = sorted.filter(\.priority)
        if !priority.isEmpty {
            out.append(.paragraph("Het programma kent \(Prose.count(priority.count, "prioritaire wijk", "prioritaire wijken")): \(Prose.list(priority.map(\.name))). Per wijk:"))
        }
        for a in priority {
            let ms = items[a.id]?.milestones ?? []
            guard !ms.isEmpty else {
                out.append(.paragraph("De stand is onbekend: het plan heeft (nog) geen interventie met mijlpalen in deze wijk.", label: "\(a.name):"))
                continue
            }
            var text = "\(stateText(rollups["area:\(a.id)"]?.state ?? .unknown)). Hier \((items[a.id]?.interventions.count ?? 0) == 1 ? "loopt" : "lopen") "
                + "\(Prose.list((items[a.id]?.interventions ?? []).map(Prose.quoted))); \(tally(ms.map(\.id), "mijlpaal", "mijlpalen"))."
            let attention = ms.filter { Self.attention.contains(status($0.id).state) }
            text += attention.isEmpty ? " Alle mijlpalen zijn gereed, op koers of nog niet begonnen."
                : " Aandacht \(attention.count == 1 ? "vraagt" : "vragen") \(Prose.list(attention.map { "“\($0.name)” (\(Dutch.word(status($0.id).state)))" })); zie Voortgang per thema."
            out.append(.paragraph(text, label: "\(a.name):"))
        }
        out.append(.paragraph("Alle wijken van het plan, de prioritaire eerst:"))
        out.append(.table(header: ["Wijk", "Prioritair", "Stand", "Mijlpalen"], rows: sorted.map { a in
            let ids = (items[a.id]?.milestones ?? []).map(\.id)
            return [a.name, a.priority ? "ja" : "nee", ids.isEmpty ? "—" : stateText(rollups["area:\(a.id)"]?.state ?? .unknown),
                    Dutch.counts(counts(ids)).ifEmpty("geen mijlpalen")]
        }))
    }

    // MARK: - Funding

    func fundingState(_ f: FundingLine) -> String {
        var parts: [String] = []
        if f.period.start > asOf { parts.append("begint op \(Dutch.date(f.period.start))") }
        else if f.period.end < asOf { parts.append("looptijd afgelopen op \(Dutch.date(f.period.end))") }
        else if asOf.days(to: f.period.end) <= 365 { parts.append("looptijd eindigt op \(Dutch.date(f.period.end))") }
        else { parts.append("loopt tot \(Dutch.date(f.period.end))") }
        if let until = f.securedUntil {
            let securing = plan.milestones.first { $0.milestone.secures == f.id }?.milestone
            if let m = securing, status(m.id).state == .done {
                let d = reachedOn(m).map { " op \(Dutch.date($0))" } ?? ""
                parts.append("was geborgd tot \(Dutch.date(until)); voortzetting geborgd\(d) (“\(m.name)” gereed)")
            } else if until < asOf {
                parts.append("geborgd tot \(Dutch.date(until)), daarna niet: de financiering is afgelopen" + (securing.map { "; “\($0.name)” is nog niet gereed" } ?? ""))
            } else {
                parts.append("geborgd tot \(Dutch.date(until))" + (securing.map { "; “\($0.name)” moet de voortzetting borgen" } ?? ""))
            }
        }
        return parts.joined(separator: "; ")
    }

    /// The funding in a few sentences: how many lines, what amounts the plan names (and
    /// that the others are unknown), what runs, what ended, what was secured only until a date.
    func fundingSummary() -> String {
        let f = plan.funding
        let withAmount = f.filter { $0.amountEUR != nil }
        var s = "Het Toekomstplan noemt \(Prose.count(f.count, "financieringslijn", "financieringslijnen")). "
        if withAmount.isEmpty {
            s += "Bij geen ervan staat een bedrag in het plan; de bedragen zijn hier dus onbekend. "
        } else {
            s += "Een bedrag staat in het plan bij \(Prose.list(withAmount.map { "“\($0.name)” (\(Dutch.euros($0.amountEUR!)) \($0.per == .year ? "per jaar" : "eenmalig"))" }))"
                + (withAmount.count == f.count ? ". " : "; bij de andere \(f.count - withAmount.count) noemt het plan geen bedrag, dat is hier dus onbekend. ")
        }
        let running = f.filter { $0.period.start <= asOf && $0.period.end >= asOf }, ended = f.filter { $0.period.end < asOf }
        let future = f.filter { $0.period.start > asOf }
        s += "Per \(Dutch.date(asOf)) \(running.count == 1 ? "loopt" : "lopen") er \(running.count)"
            + (ended.isEmpty ? "" : "; \(ended.count) \(ended.count == 1 ? "is" : "zijn") afgelopen: \(Prose.list(ended.map { "“\($0.name)” (\(Dutch.date($0.period.end)))" }))")
            + (future.isEmpty ? "" : "; \(future.count) \(future.count == 1 ? "begint" : "beginnen") later") + "."
        for line in f where line.securedUntil != nil { s += " “\(line.name)” \(fundingState(line))." }
        return s
    }

    mutating func funding() {
        out.append(.heading(2, "Financiering", id: "financiering"))
        out.append(.paragraph(fundingSummary()))
        let users = Dictionary(grouping: plan.interventions.flatMap { p in p.intervention.funding.map { ($0, p.intervention.name) } }, by: \.0)
        out.append(.list(plan.funding.map { f in
            var text = "\(f.source)"
            if let eur = f.amountEUR { text += ", \(Dutch.euros(eur)) \(f.per == .year ? "per jaar" : "eenmalig")" } else { text += ", bedrag niet in het plan" }
            text += "; periode \(Dutch.period(f.period)); \(fundingState(f))."
            var details: [String] = []
            if let u = users[f.id] { details.append("Voor: " + u.map(\.1).joined(separator: "; ") + ".") }
            details += beingDone(f.id, funding: true)
            details += resolvedAlerts(subject: f.id, funding: true).map { "Melding \($0)." }
            if let note = f.note { details.append(note) }
            return ListItem(text, label: "\(f.name):", details: details)
        }))
        let ending = plan.funding.filter { f in
            (f.period.end <= asOf.adding(days: 365) && f.period.end >= since) || (f.securedUntil.map { $0 <= asOf } ?? false)
        }
        if !ending.isEmpty {
            out.append(.paragraph(ending.map { "“\($0.name)” \(fundingState($0))" }.joined(separator: "; ") + ".", label: "Wat afloopt of afliep:"))
        }
    }
}
