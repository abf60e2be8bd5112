import Charts
import History
import Plan
import Status
import StreamProtocol
import Wire

/// The *voortgangsbrief* (council report, issue #12): the progress of the Toekomstplan
/// as of a date, written from the aggregator's store in the register of the council
/// letter. Every figure comes from the plan, the stored reports (replayed as of the
/// date, `Snapshot(replaying:asOf:observations:)`), the stored stream and the
/// acknowledgement log; every sentence about an item is made from its status and
/// evidence (`Status.Dutch`). No clock is read and every collection is iterated in a
/// fixed order, so the same store and date give the same bytes.
public struct CouncilReport: Sendable {
    public var title: String
    public var asOf: PlanDate
    public var since: PlanDate
    public var blocks: [Block]

    public func markdown() -> String { Render.markdown(blocks) }
    public func html() -> String { Render.html(blocks, title: title) }

    /// The default start of *wat is veranderd*: the day after the date three months
    /// earlier (2025-10-01 for 2025-12-31), so a quarterly letter covers its quarter.
    public static func defaultSince(asOf: PlanDate) -> PlanDate { asOf.adding(months: -3).adding(days: 1) }

    /// Writes the report as of `asOf` from the store, with changes since `since`
    /// (default: ``defaultSince(asOf:)``).
    public static func make(plan: Plan, history: StoreHistory, asOf: PlanDate, since: PlanDate? = nil) throws -> CouncilReport {
        var b = try Builder(plan: plan, history: history, asOf: asOf, since: since ?? defaultSince(asOf: asOf))
        b.build()
        return CouncilReport(title: b.title, asOf: asOf, since: b.since, blocks: b.out)
    }
}

struct Builder {
    let fullPlan: Plan
    /// The plan as it stood on the date (later revisions undone), as the replay uses it.
    let plan: Plan
    let history: StoreHistory
    let asOf: PlanDate
    let since: PlanDate
    let snap: StreamDocuments.Snapshot
    let hasData: Bool
    let statuses: [String: ItemStatus]
    let rollups: [String: StreamDocuments.Rollup]
    let names: [String: String]
    let orgs: [String: String]
    let areaNames: [String: String]
    let fundingNames: [String: String]
    let milestoneIDs: Set<String>
    let indicatorIDs: Set<String>
    /// The stored stream up to the date, decoded.
    let changes: [StreamDocuments.StatusChange]
    let transitions: [StreamDocuments.AlertTransitionDocument]
    /// Acknowledgements made on or before the date, oldest first.
    let acks: [StoreHistory.Acknowledgement]
    let model = StatusModel()
    var out: [Block] = []

    var title: String { "Voortgang \(plan.programme.name), stand per \(Dutch.date(asOf))" }

    init(plan: Plan, history: StoreHistory, asOf: PlanDate, since: PlanDate) throws {
        self.fullPlan = plan
        self.plan = plan.asOf(asOf)
        self.history = history
        self.asOf = asOf
        self.since = since
        let observations = try history.itemObservations(asOf: asOf)
        hasData = !observations.isEmpty
        snap = StreamDocuments.Snapshot(replaying: plan, asOf: asOf, observations: observations)
        statuses = Dictionary(snap.items.map { ($0.item, $0) }, uniquingKeysWith: { a, _ in a })
        rollups = Dictionary(snap.rollups.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        var names: [String: String] = [:]
        for t in self.plan.themes {
            names[t.id] = t.name
            for g in t.goals {
                names[g.id] = g.name
                for i in g.interventions { names[i.id] = i.name; for m in i.milestones { names[m.id] = m.name } }
                for x in g.indicators { names[x.id] = x.name }
            }
        }
        self.names = names
        fundingNames = Dictionary(self.plan.funding.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        orgs = Dictionary(self.plan.organisations.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        areaNames = Dictionary(self.plan.areas.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        milestoneIDs = Set(self.plan.milestones.map(\.milestone.id))
        indicatorIDs = Set(self.plan.indicators.map(\.indicator.id))
        var changes: [StreamDocuments.StatusChange] = [], transitions: [StreamDocuments.AlertTransitionDocument] = []
        for m in try history.streamMessages(after: 0) {
            if m.type == .statusChange, let c = try? StreamDocuments.decode(StreamDocuments.StatusChange.self, from: m.document), c.date <= asOf {
                changes.append(c)
            } else if m.type == .alertTransition,
                      let t = try? StreamDocuments.decode(StreamDocuments.AlertTransitionDocument.self, from: m.document), t.date <= asOf {
                transitions.append(t)
            }
        }
        self.changes = changes
        self.transitions = transitions
        acks = try history.acknowledgements().filter { (PlanDate(iso: $0.date) ?? asOf) <= asOf }
    }

    mutating func build() {
        heading()
        summary()
        guard hasData else { noData(); funding(); appendix(); return }
        themes()
        areas()
        funding()
        indicators()
        changed()
        appendix()
    }

    // MARK: - Words

    func org(_ id: String) -> String { orgs[id] ?? id }
    func area(_ id: String) -> String { areaNames[id] ?? id }
    func name(_ id: String) -> String { names[id] ?? id }
    func status(_ id: String) -> ItemStatus {
        statuses[id] ?? ItemStatus(item: id, state: .unknown, evidence: Evidence(summary: ""), progress: nil)
    }
    func stateText(_ s: ItemState) -> String { "\(Dutch.symbol(s)) \(Dutch.word(s))" }

    func why(_ m: Milestone) -> String {
        let s = status(m.id)
        var text = Dutch.why(s, target: m.target, unit: m.unit, due: m.due, binary: m.kind == .binary)
        if s.state == .done, let d = s.evidence.lastDate, d > m.due { text += ", na de einddatum \(Dutch.date(m.due))" }
        if s.state == .unknown && s.evidence.lastValue == nil && m.start > asOf.adding(days: -m.cadence.approximateDays) {
            text += " (gestart op \(Dutch.date(m.start)))"
        }
        return text
    }

    func why(_ x: Indicator) -> String {
        let s = status(x.id)
        let e = s.evidence
        var parts: [String] = []
        if let v = e.lastValue, let d = e.lastDate {
            parts.append("laatste meting \(Dutch.amount(v, unit: x.unit)) over de periode tot \(Dutch.date(d))")
            if let d0 = e.lastDate { parts.append("op het pad verwacht: \(Dutch.amount(model.expected(x, on: d0), unit: x.unit))") }
            if let dev = e.deviation, dev > 0.005 { parts.append("\(Dutch.percent(dev)) van de hele weg achter") }
        } else {
            parts.append("geen meting ontvangen sinds de beginwaarde \(Dutch.amount(x.baseline, unit: x.unit)) (\(x.baselineYear))")
        }
        return parts.joined(separator: "; ")
    }

    /// The areas of a milestone: its own, or else its intervention's.
    func areas(of m: Milestone, in i: Intervention) -> [String] { m.areas.isEmpty ? i.areas : m.areas }

    func counts(_ ids: [String]) -> [ItemState: Int] {
        var c: [ItemState: Int] = [:]
        for id in ids { c[status(id).state, default: 0] += 1 }
        return c
    }

    static func subject(ofKey key: String) -> String {
        key.firstIndex(of: ":").map { String(key[key.index(after: $0)...]) } ?? key
    }

    /// What is being done about an item: the reasons given with acknowledgements of its
    /// alerts, and for an open alert the action the programme takes on such alerts.
    func actions(subject: String, funding: Bool = false) -> [String] {
        var out: [String] = []
        for a in acks where Self.subject(ofKey: a.alert) == subject && a.alert.hasPrefix("funding-expiring:") == funding {
            let rule = a.alert.split(separator: ":").first.map(String.init) ?? a.alert
            let who = a.by ?? a.identity
            let until = a.until.flatMap(PlanDate.init(iso:)).map { ", tot \(Dutch.date($0))" } ?? ", tot de melding is opgelost"
            out.append("In behandeling genomen op \(Dutch.date(PlanDate(iso: a.date) ?? asOf)) door \(who)\(until) (melding “\(Dutch.rule(rule))”), met als reden: “\(a.reason)”")
        }
        for alert in snap.alerts where alert.subject == subject && alert.severity >= .warning && (alert.rule == "funding-expiring") == funding {
            out.append("Er staat een melding open (\(Dutch.word(alert.severity)): \(Dutch.rule(alert.rule))); de afgesproken werkwijze: \(Dutch.action(rule: alert.rule)).")
        }
        return out
    }

    /// Alerts about a subject that fired and were resolved on or before the date.
    func resolvedAlerts(subject: String, funding: Bool = false) -> [String] {
        var fired: [String: PlanDate] = [:]
        var out: [String] = []
        for t in transitions where t.alert.subject == subject && t.alert.severity >= .warning && (t.alert.rule == "funding-expiring") == funding {
            if t.to == .firing, fired[t.key] == nil { fired[t.key] = t.date }
            // One that fired and cleared on the same day (a backlog caught up) is not news for the council.
            if t.to == .resolved, let f = fired.removeValue(forKey: t.key), f < t.date {
                out.append("Melding “\(Dutch.rule(t.alert.rule))” (\(Dutch.word(t.alert.severity)), vanaf \(Dutch.date(f))) opgelost op \(Dutch.date(t.date))"
                           + resolution(t.alert) + ".")
            }
        }
        return out
    }

    /// What cleared an alert, in words, from its evidence at resolution.
    func resolution(_ a: Alert) -> String {
        switch a.rule {
        case "funding-expiring":
            if let m = plan.milestones.first(where: { $0.milestone.secures == a.subject }) { return ": de mijlpaal “\(m.milestone.name)” is gereed" }
            return ""
        case "theme-silent": return ": de themadienst is weer gehoord"
        default:
            guard let v = a.evidence.lastValue, let d = a.evidence.lastDate else { return "" }
            let unit = plan.milestones.first { $0.milestone.id == a.subject }?.milestone.unit
                ?? plan.indicators.first { $0.indicator.id == a.subject }?.indicator.unit ?? ""
            if unit == "done" { return v >= 1 ? ", na de melding gereed op \(Dutch.date(d))" : ", na de melding van \(Dutch.date(d)) (nog niet gereed)" }
            return ", na de rapportage van \(Dutch.amount(v, unit: unit)) op \(Dutch.date(d))"
        }
    }

    // MARK: - Heading and summary

    mutating func heading() {
        out.append(.heading(1, "Raadsinformatiebrief: voortgang \(plan.programme.name)"))
        out.append(.paragraph("Voortgang Heerlen-Noord", label: "Onderwerp"))
        out.append(.paragraph(Dutch.date(asOf), label: "Stand per"))
        out.append(.paragraph("wat is veranderd sinds \(Dutch.date(since)); plan versie \(plan.version)", label: "Verslagperiode"))
        out.append(.paragraph("Bijgaand informeren wij u over de stand van zaken van het \(plan.programme.name) per \(Dutch.date(asOf)). "
                              + "Alle cijfers in deze brief komen uit de rapportages van de themateams in Koers, de voortgangsmonitor van het programma; "
                              + "de bijlage legt uit hoe de stand wordt bepaald."))
    }

    mutating func summary() {
        out.append(.heading(2, "Samenvatting", id: "samenvatting"))
        guard hasData else {
            out.append(.paragraph("Tot en met \(Dutch.date(asOf)) zijn er nog geen rapportages van de themateams ontvangen. "
                                  + "Over de voortgang valt daarom nog niets te zeggen: de stand van elke mijlpaal en indicator is onbekend, "
                                  + "niet op koers en niet achter. Deze brief geeft daarom alleen de financiering uit het plan en de werkwijze."))
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
        out.append(.heading(3, "Wat de raad moet weten"))
        let important = snap.alerts.filter { $0.severity >= .warning }
            .sorted { ($1.severity, $0.key) < ($0.severity, $1.key) }
        if important.isEmpty {
            out.append(.paragraph("Er staan geen kritieke meldingen of waarschuwingen open."))
        } else {
            if !important.contains(where: { $0.severity == .critical }) { out.append(.paragraph("Er staan geen kritieke meldingen open; wel deze waarschuwingen:")) }
            out.append(.list(important.prefix(10).map { a in
                ListItem("\(name(a.subject)): \(alertWhy(a))" + (a.owner.map { "; eigenaar \(org($0))" } ?? "") + ".",
                         label: "\(Dutch.word(a.severity).capitalizedFirst) — \(Dutch.rule(a.rule)):", details: actions(subject: a.subject).filter { $0.hasPrefix("In behandeling") })
            }))
            if important.count > 10 { out.append(.paragraph("En nog \(important.count - 10) meldingen; zie voortgang per thema.")) }
        }
        if !snap.silentThemes.isEmpty {
            out.append(.paragraph("Van de themadiensten \(snap.silentThemes.map(name).joined(separator: ", ")) is niets meer gehoord; hun onderdelen staan op onbekend."))
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
        out.append(.paragraph("Nog geen gegevens: geen van de themateams (\(plan.themes.map(\.name).joined(separator: ", "))) heeft tot en met \(Dutch.date(asOf)) gerapporteerd."))
    }

    // MARK: - Themes

    mutating func themes() {
        out.append(.heading(2, "Voortgang per thema", id: "thema"))
        for t in plan.themes {
            out.append(.heading(3, t.name, id: "thema-\(t.id)"))
            let node = rollups["theme:\(t.id)"]
            let ids = t.goals.flatMap { $0.interventions.flatMap { $0.milestones.map(\.id) } }
            let xs = t.goals.flatMap { $0.indicators.map(\.id) }
            var intro = "Stand van het thema: \(Dutch.word(node?.state ?? .unknown)); mijlpalen: \(Dutch.counts(counts(ids)).ifEmpty("geen"))"
                + (xs.isEmpty ? "." : "; indicatoren: \(Dutch.counts(counts(xs))) (zie Indicatoren).")
            if snap.silentThemes.contains(t.id) { intro += " De themadienst is stil: de stand van zijn onderdelen is onbekend." }
            out.append(.paragraph(intro))
            for g in t.goals {
                for i in g.interventions {
                    intervention(i)
                }
            }
        }
    }

    mutating func intervention(_ i: Intervention) {
        out.append(.heading(4, i.name))
        let node = rollups["intervention:\(i.id)"]
        var facts = ["eigenaar \(org(i.owner))"]
        if !i.partners.isEmpty { facts.append("partners \(i.partners.map(org).joined(separator: ", "))") }
        facts.append(i.areas.isEmpty ? "heel Heerlen-Noord" : "wijken \(i.areas.map(area).joined(separator: ", "))")
        if !i.funding.isEmpty { facts.append("financiering \(i.funding.map { fundingNames[$0] ?? $0 }.joined(separator: "; "))") }
        out.append(.paragraph("\(stateText(node?.state ?? .unknown)) — " + facts.joined(separator: " · ") + "."))
        let attention: Set<ItemState> = [.lagging, .overdue, .atRisk, .unknown]
        out.append(.list(i.milestones.map { m in
            let s = status(m.id)
            var details: [String] = []
            if attention.contains(s.state) { details.append("Eigenaar: \(org(i.owner)).") }
            details += actions(subject: m.id)
            details += resolvedAlerts(subject: m.id)
            for (r, c) in fullPlan.history(of: m.id) where r.date <= asOf {
                details.append("Planwijziging (versie \(r.version), \(Dutch.date(r.date))): \(Dutch.word(c.field)) van \(planValue(c.from, c.field)) naar \(planValue(c.to, c.field)); \(r.reason)")
            }
            let w = why(m)
            // "✔ gereed op 15 november 2022", not "✔ gereed — gereed op …".
            let text = w.hasPrefix(Dutch.word(s.state) + " ") ? "\(Dutch.symbol(s.state)) \(w)" : "\(stateText(s.state)) — \(w)"
            return ListItem(text + ".", label: "\(m.name):", details: details)
        }))
        for m in i.milestones where m.kind == .quantitative && attention.contains(status(m.id).state) {
            let s = status(m.id)
            let svg = Chart.milestone(MilestoneChartInput(milestone: m, observations: observations(m.id), asOf: asOf,
                                                          forecast: s.evidence.forecast, state: s.state))
            out.append(.chart(svg: svg, caption: "\(m.name): gepland pad en rapportages tot \(Dutch.date(asOf))", description: Self.description(of: svg)))
        }
    }

    func planValue(_ v: String, _ f: Revision.Change.Field) -> String {
        switch f {
        case .start, .due: PlanDate(iso: v).map(Dutch.date) ?? v
        case .baseline, .target: Double(v).map { Dutch.number($0) } ?? v
        }
    }

    func observations(_ id: String) -> [(date: PlanDate, value: Double)] {
        ((try? history.reports(item: id)) ?? []).compactMap { r in
            PlanDate(iso: r.date).flatMap { $0 <= asOf ? (date: $0, value: r.value) : nil }
        }
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

    mutating func areas() {
        out.append(.heading(2, "Wijken", id: "wijken"))
        let sorted = plan.areas.sorted { ($0.priority ? 0 : 1, $0.name) < ($1.priority ? 0 : 1, $1.name) }
        var rows: [[String]] = []
        var items: [String: [(milestone: Milestone, intervention: Intervention)]] = [:]
        for (i, _, _) in plan.interventions { for m in i.milestones {
            for a in areas(of: m, in: i) { items[a, default: []].append((m, i)) }
        } }
        for a in sorted {
            let ids = (items[a.id] ?? []).map(\.milestone.id)
            let node = rollups["area:\(a.id)"]
            rows.append([a.name, a.priority ? "ja" : "nee", ids.isEmpty ? "—" : stateText(node?.state ?? .unknown),
                         Dutch.counts(counts(ids)).ifEmpty("geen mijlpalen")])
        }
        out.append(.table(header: ["Wijk", "Prioritair", "Stand", "Mijlpalen"], rows: rows))
        var list: [ListItem] = []
        for a in sorted where a.priority {
            let attention = (items[a.id] ?? []).filter { [.lagging, .overdue, .atRisk, .unknown].contains(status($0.milestone.id).state) }
            list.append(ListItem((items[a.id] ?? []).isEmpty ? "het plan heeft (nog) geen mijlpalen in deze wijk."
                                 : attention.isEmpty ? "alle mijlpalen zijn gereed, op koers of nog niet begonnen."
                                 : attention.map { "\($0.milestone.name) (\(Dutch.word(status($0.milestone.id).state)))" }.joined(separator: "; ") + ".",
                                 label: "\(a.name):"))
        }
        if !list.isEmpty {
            out.append(.paragraph("In de prioritaire wijken vragen deze mijlpalen aandacht:"))
            out.append(.list(list))
        }
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
            let done = securing.map { status($0.id).state == .done } ?? false
            if done, let m = securing {
                let d = status(m.id).evidence.lastDate.map { " op \(Dutch.date($0))" } ?? ""
                parts.append("was geborgd tot \(Dutch.date(until)); voortzetting geborgd\(d) (“\(m.name)” gereed)")
            } else if until < asOf {
                parts.append("geborgd tot \(Dutch.date(until)), daarna niet: de financiering is afgelopen" + (securing.map { "; “\($0.name)” is nog niet gereed" } ?? ""))
            } else {
                parts.append("geborgd tot \(Dutch.date(until))" + (securing.map { "; “\($0.name)” moet de voortzetting borgen" } ?? ""))
            }
        }
        return parts.joined(separator: "; ")
    }

    mutating func funding() {
        out.append(.heading(2, "Financiering", id: "financiering"))
        out.append(.paragraph("De financieringslijnen uit het Toekomstplan, wat geborgd is tot wanneer, en wat afloopt."))
        let users = Dictionary(grouping: plan.interventions.flatMap { p in p.intervention.funding.map { ($0, p.intervention.name) } }, by: \.0)
        out.append(.list(plan.funding.map { f in
            var text = "\(f.source)"
            if let eur = f.amountEUR { text += ", \(Dutch.euros(eur)) \(f.per == .year ? "per jaar" : "eenmalig")" }
            text += "; periode \(Dutch.period(f.period)); \(fundingState(f))."
            var details: [String] = []
            if let u = users[f.id] { details.append("Voor: " + u.map(\.1).joined(separator: "; ") + ".") }
            details += actions(subject: f.id, funding: true)
            details += resolvedAlerts(subject: f.id, funding: true)
            if let note = f.note { details.append(note) }
            return ListItem(text, label: "\(f.name):", details: details)
        }))
        let ending = plan.funding.filter { f in
            (f.period.end <= asOf.adding(days: 365) && f.period.end >= since) || (f.securedUntil.map { $0 <= asOf } ?? false)
        }
        if !ending.isEmpty {
            out.append(.paragraph(ending.map { "\($0.name) (\(fundingState($0)))" }.joined(separator: "; ") + ".", label: "Wat afloopt of afliep:"))
        }
    }

    // MARK: - Indicators

    mutating func indicators() {
        out.append(.heading(2, "Indicatoren", id: "indicatoren"))
        out.append(.paragraph("Elke indicator volgt een recht pad van de beginwaarde naar het doel, meestal het landelijk gemiddelde, in het doeljaar. "
                              + "Een meting wordt vergeleken met dat pad aan het eind van de periode die zij beschrijft."))
        for t in plan.themes {
            for g in t.goals {
                for x in g.indicators {
                    let s = status(x.id)
                    out.append(.heading(3, "\(x.name) (\(t.name))"))
                    var text = "\(stateText(s.state)) — \(why(x)). Beginwaarde \(Dutch.amount(x.baseline, unit: x.unit)) (\(x.baselineYear)), "
                        + "doel \(Dutch.amount(x.target, unit: x.unit)) in \(x.targetYear)"
                        + (x.targetBasis == .nationalAverage ? " (het landelijk gemiddelde)" : "")
                        + "; \(x.direction == .higherIsBetter ? "hoger is beter" : "lager is beter")."
                    let refs = x.references.sorted { $0.key < $1.key }.map { "\(DutchText.reference($0.key)) \(Dutch.amount($0.value, unit: x.unit))" }
                    if !refs.isEmpty { text += " Ter vergelijking: \(refs.joined(separator: ", "))." }
                    out.append(.paragraph(text))
                    let details = actions(subject: x.id) + resolvedAlerts(subject: x.id)
                    if !details.isEmpty { out.append(.list(details.map { ListItem($0) })) }
                    let svg = Chart.indicator(IndicatorChartInput(indicator: x, observations: observations(x.id), asOf: asOf, state: s.state, goal: g.name))
                    out.append(.chart(svg: svg, caption: "\(x.name): pad naar \(Dutch.amount(x.target, unit: x.unit)) in \(x.targetYear) en de metingen tot \(Dutch.date(asOf))",
                                      description: Self.description(of: svg)))
                    out.append(.note("Bron: \(x.source)."))
                }
            }
        }
    }

    // MARK: - What changed

    mutating func changed() {
        out.append(.heading(2, "Wat is veranderd sinds \(Dutch.date(since))", id: "veranderd"))
        let window = changes.filter { $0.date >= since && $0.date <= asOf && (milestoneIDs.contains($0.item) || indicatorIDs.contains($0.item)) }
        var reached: [String] = [], delayed: [String] = [], seenReached = Set<String>(), seenDelayed = Set<String>()
        for c in window {
            if c.to == .done, milestoneIDs.contains(c.item), seenReached.insert(c.item).inserted {
                reached.append("\(Dutch.date(c.date)): \(name(c.item))")
            }
            let bad: Set<ItemState> = [.lagging, .overdue]
            if bad.contains(c.to), !(c.from.map(bad.contains) ?? false), seenDelayed.insert("\(c.item)/\(c.to.rawValue)").inserted {
                delayed.append("\(Dutch.date(c.date)): \(name(c.item)) — \(Dutch.word(c.to))")
            }
        }
        func section(_ title: String, _ items: [String], none: String) {
            out.append(.heading(3, title))
            out.append(items.isEmpty ? .paragraph(none) : .list(items.map { ListItem($0) }))
        }
        section("Bereikte mijlpalen", reached, none: "Geen mijlpalen bereikt in deze periode.")
        section("Nieuwe achterstanden", delayed, none: "Geen nieuwe achterstanden in deze periode.")
        var fired: [String] = [], resolved: [String] = []
        for t in transitions where t.date >= since && t.date <= asOf && t.alert.severity >= .warning {
            if t.to == .firing && t.from == .pending {
                fired.append("\(Dutch.date(t.date)): \(Dutch.rule(t.alert.rule)) — \(name(t.alert.subject)) (\(Dutch.word(t.alert.severity)))")
            }
            if t.to == .resolved && t.from != .pending {
                resolved.append("\(Dutch.date(t.date)): \(Dutch.rule(t.alert.rule)) — \(name(t.alert.subject))\(resolution(t.alert))")
            }
        }
        section("Nieuwe meldingen", fired, none: "Geen nieuwe meldingen in deze periode.")
        section("Opgeloste meldingen", resolved, none: "Geen meldingen opgelost in deze periode.")
        let revisions = fullPlan.revisions.filter { $0.date >= since && $0.date <= asOf }
        section("Planwijzigingen", revisions.flatMap { r in
            r.changes.map { c in
                "Versie \(r.version) van \(Dutch.date(r.date)): \(name(c.item)), \(Dutch.word(c.field)) van \(planValue(c.from, c.field)) naar \(planValue(c.to, c.field)) — \(r.reason)"
            }
        }, none: "Het plan is in deze periode niet gewijzigd (plan versie \(plan.version)).")
    }

    // MARK: - Appendix

    mutating func appendix() {
        let m = model, alerts = AlertEngine(plan: plan)
        out.append(.heading(2, "Bijlage: hoe de stand wordt bepaald", id: "bijlage"))
        out.append(.paragraph("Koers rekent de stand uit de opgeslagen rapportages van de themateams, per de datum van deze brief: "
                              + "dezelfde herberekening als “koers status --as-of \(asOf.iso)”, zodat een raadslid elke bewering kan nagaan."))
        out.append(.list([
            ListItem("de waarde loopt volgens plan van de beginwaarde op de startdatum, via de tussendoelen, naar het doel op de einddatum; "
                     + "de verwachte waarde op een datum ligt op die lijn.", label: "Mijlpaal:"),
            ListItem("het doel is bereikt.", label: "\(stateText(.done)):"),
            ListItem("de einddatum is verstreken en het doel is niet bereikt.", label: "\(stateText(.overdue)):"),
            ListItem("meer dan \(Dutch.percent(m.lagTolerance)) van de hele weg achter de verwachte waarde; weer op koers binnen \(Dutch.percent(m.lagTolerance - m.hysteresis)).",
                     label: "\(stateText(.lagging)):"),
            ListItem("een mijlpaal waarvan zij afhangt loopt achter; of een ja/nee-mijlpaal is in de laatste \(Dutch.percent(m.binaryRiskWindow)) van haar looptijd nog niet gereed; "
                     + "of bij het huidige tempo wordt het doel pas na de einddatum gehaald.", label: "\(stateText(.atRisk)):"),
            ListItem("geen rapportage, een rapportage ouder dan \(Dutch.number(m.staleFactor)) keer de afgesproken frequentie "
                     + "(bij indicatoren \(Dutch.number(m.indicatorStaleFactor)) keer), of de themadienst is stil. Ontbrekende gegevens tellen nooit als op koers.",
                     label: "\(stateText(.unknown)):"),
            ListItem("een indicator loopt in een rechte lijn van de beginwaarde naar het doel in het doeljaar; achter is meer dan \(Dutch.percent(m.lagTolerance)) "
                     + "van de hele weg onder die lijn.", label: "Indicator:"),
            ListItem("een interventie, thema of wijk krijgt de zwaarste stand van haar onderdelen, in deze volgorde: "
                     + ItemState.allCases.sorted { $0.severity > $1.severity }.map(Dutch.word).joined(separator: " > ") + ".", label: "Optelling:"),
            ListItem("een financieringslijn die maar tot een datum geborgd is geeft \(Dutch.days(alerts.fundingNoticeDays)) daarvoor een waarschuwing, "
                     + "kritiek zodra de datum voorbij is, tot de mijlpaal die haar borgt gereed is.", label: "Financiering:"),
            ListItem("de reden die een medewerker van het programmabureau gaf bij het in behandeling nemen van een melding staat bij de mijlpaal.",
                     label: "Wat er gebeurt:"),
        ]))
        out.append(.note("Opgesteld door Koers uit de opgeslagen gegevens; dezelfde gegevens en dezelfde datum geven dezelfde brief."))
    }
}

extension String {
    func ifEmpty(_ other: String) -> String { isEmpty ? other : self }
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
