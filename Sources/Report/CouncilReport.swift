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
    /// Per milestone and indicator, its stored reports about dates up to `asOf`, oldest first.
    let reports: [String: [StoreHistory.StoredReport]]
    /// What happened between `since` and `asOf` (the samenvatting counts it, *wat is veranderd* lists it).
    var period = Period()
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
        acks = try history.acknowledgements().filter { $0.date <= asOf }
        // One read per item (the store has no index by item): fine for a programme's plan,
        // the cost of a letter that speaks about every item.
        var reports: [String: [StoreHistory.StoredReport]] = [:]
        if hasData {
            for id in self.plan.milestones.map(\.milestone.id) + self.plan.indicators.map(\.indicator.id) {
                reports[id] = try history.reports(item: id).filter { $0.date <= asOf }
            }
        }
        self.reports = reports
        period = periodChanges()
    }

    mutating func build() {
        heading()
        summary()
        guard hasData else { noData(); funding(); revisionsWithoutData(); appendix(); return }
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
        acknowledgements(subject: subject, funding: funding) + openAlerts(subject: subject, funding: funding).map { alert in
            "Er staat een melding open (\(Dutch.word(alert.severity)): \(Dutch.rule(alert.rule))); de afgesproken werkwijze: \(Dutch.action(rule: alert.rule))."
        }
    }

    /// The acknowledgements of an item's alerts, each with who, until when and the reason given.
    func acknowledgements(subject: String, funding: Bool = false) -> [String] {
        acks.filter { Self.subject(ofKey: $0.alert) == subject && $0.alert.hasPrefix("funding-expiring:") == funding }.map { a in
            let rule = a.alert.split(separator: ":").first.map(String.init) ?? a.alert
            let who = a.by ?? a.identity
            let until = a.until.map { ", tot \(Dutch.date($0))" } ?? ", tot de melding is opgelost"
            return "In behandeling genomen op \(Dutch.date(a.date)) door \(who)\(until) (melding “\(Dutch.rule(rule))”), met als reden: “\(a.reason)”."
        }
    }

    /// The open warnings and critical alerts about an item (a replay's, so never marked acknowledged).
    func openAlerts(subject: String, funding: Bool = false) -> [Alert] {
        snap.alerts.filter { $0.subject == subject && $0.severity >= .warning && ($0.rule == "funding-expiring") == funding }
    }

    /// Whether an open alert was taken on since it last fired: acknowledged on or after its
    /// last firing (the replay's alerts carry no acknowledgement; the log and the stream do).
    func isTakenOn(_ alert: Alert) -> Bool {
        let fired = transitions.last { $0.key == alert.key && $0.to == .firing }?.date
        return acks.contains { a in
            a.alert == alert.key && (fired.map { a.date >= $0 } ?? true)
                && (a.until.map { $0 >= asOf } ?? true)
        }
    }

    /// Alerts about a subject that fired and were resolved on or before the date, each as
    /// "“mijlpaal loopt achter” (waarschuwing) van 13 februari 2023, opgelost op 24 juli 2023, na …".
    func resolvedAlerts(subject: String, funding: Bool = false) -> [String] {
        var fired: [String: PlanDate] = [:]
        var out: [String] = []
        for t in transitions where t.alert.subject == subject && t.alert.severity >= .warning && (t.alert.rule == "funding-expiring") == funding {
            if t.to == .firing, fired[t.key] == nil { fired[t.key] = t.date }
            // One that fired and cleared on the same day (a backlog caught up) is not news for the council.
            if t.to == .resolved, let f = fired.removeValue(forKey: t.key), f < t.date {
                out.append("“\(Dutch.rule(t.alert.rule))” (\(Dutch.word(t.alert.severity))) van \(Dutch.date(f)), opgelost op \(Dutch.date(t.date))"
                           + resolution(t.alert))
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
            let e = a.evidence
            guard let v = a.resolvedBy?.value ?? e.lastValue, let d = a.resolvedBy?.asOf ?? e.lastDate else { return "" }
            let m = plan.milestones.first { $0.milestone.id == a.subject }?.milestone
            let x = plan.indicators.first { $0.indicator.id == a.subject }?.indicator
            let unit = m?.unit ?? x?.unit ?? ""
            let reported = unit == "done" ? (v >= 1 ? "de melding gereed" : "de melding nog niet gereed") : "de rapportage van \(Dutch.amount(v, unit: unit))"
            // Cleared because the data went stale is not caught up: the item became unknown.
            let allowed = m.map { Double($0.cadence.approximateDays) * model.staleFactor } ?? x.map { Double($0.cadence.approximateDays) * model.indicatorStaleFactor }
            let reached = m.map { model.fraction($0, v) >= 1 } ?? false
            if a.rule != "data-missing", !reached, let age = e.ageDays, let allowed, Double(age) > allowed {
                return ", niet ingehaald maar omdat de gegevens verouderd waren (laatst \(reported) op \(Dutch.date(d))): de stand werd onbekend"
            }
            return ", na \(reported) op \(Dutch.date(d))"
        }
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
            ListItem("de reden die een medewerker van het programmabureau gaf bij het in behandeling nemen van een melding staat bij de mijlpaal; "
                     + "een toelichting die het themateam bij een rapportage gaf ook. Gaf niemand een reden, dan zegt de brief dat.", label: "Wat er gebeurt:"),
            ListItem("een verschoven datum of een ander doel is een nieuwe planversie, met datum en reden. De brief rekent met het plan zoals het op "
                     + "de datum van de brief gold, en noemt elke herplanning bij de mijlpaal (“herpland van … naar …, planversie …”) en onder Wat is veranderd: "
                     + "een verschuiving is nooit stil.", label: "Planwijziging:"),
        ]))
        out.append(.note("Opgesteld door Koers uit de opgeslagen gegevens; dezelfde gegevens en dezelfde datum geven dezelfde brief."))
    }
}

extension String {
    func ifEmpty(_ other: String) -> String { isEmpty ? other : self }
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
