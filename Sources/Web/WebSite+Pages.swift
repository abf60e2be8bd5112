import Charts
import Feed
import Foundation
import History
import Plan
import Status
import StreamProtocol

extension WebSite {
    /// A page for a request the site cannot answer (an unknown item or wijk), with a suggestion.
    func notFound(_ what: String, _ snap: StreamDocuments.Snapshot, live: Bool, suggestion: String?) -> Page {
        let near = suggestion.map { " Bedoelt u <a href=\"\($0)\">\($0)</a>?" } ?? ""
        let body = "<h1>Niet gevonden</h1><p>\(Self.escape(what)) bestaat niet in het plan.\(near)</p>"
        return Page(status: 404, html: render(frame("Niet gevonden", snap, live: live, body: body)))
    }

    /// Text as HTML (`&`, `<`, `>`, `"`).
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// One milestone or indicator: where it sits, its state and why, its figures, every
    /// reported value, and the history of its state and alerts. `chart` draws its path.
    public func item(_ id: String, asOf: PlanDate?) async throws -> Page {
        let (snap, live) = try await snapshot(asOf: asOf)
        let model = PageModel(plan: feed.plan, lookup: lookup, snapshot: snap)
        let index = lookup.index
        guard let p = index.position(of: id) else {
            let near = closest(id, among: Set(index.ids)).map { "/items/\($0)" }
            return notFound("De mijlpaal of indicator `\(id)`", snap, live: live, suggestion: near)
        }
        let history = try store.history()
        let reports = try history.reports(item: id).filter { asOf == nil || $0.date <= asOf! }
        struct Fact { var term: String; var value: String }
        struct Report { var date: String; var value: String; var by: String; var note: String }
        struct Change { var date: String; var symbol: String; var state: String; var text: String }
        struct View {
            var id: String; var query: String; var themeID: String; var themeName: String; var goalName: String; var interventionName: String?
            var name: String; var kind: String; var state: String; var stateWord: String; var symbol: String; var why: String
            var chart: String?; var facts: [Fact]; var reports: [Report]; var hasReports: Bool; var earlier: Int; var history: [Change]
        }
        let row: ItemRow
        var facts: [Fact] = []
        let place = index.milestone(at: p).map { ($0.theme, $0.goal, Optional($0.intervention)) } ?? index.indicator(at: p).map { ($0.theme, $0.goal, nil) }!
        let goalName = feed.plan.themes.first { $0.id == place.0 }?.goals.first { $0.id == place.1 }?.name ?? place.1
        let status = model.statuses[id]
        var chart: (_ observations: [(date: PlanDate, value: Double)]) -> String
        if let m = index.milestone(at: p)?.milestone {
            row = model.row(m, on: snap.date)
            let i = feed.plan.themes.first { $0.id == place.0 }?.goals.first { $0.id == place.1 }?.interventions.first { $0.id == place.2 }
            facts += [Fact(term: "Eigenaar", value: i.map { model.organisation($0.owner) } ?? "-"),
                      Fact(term: "Wijken", value: (m.areas.isEmpty ? i?.areas ?? [] : m.areas).map(model.area).joined(separator: ", ").ifEmpty("-")),
                      Fact(term: "Van", value: "\(Dutch.number(m.baseline))\(unitText(m.unit)) op \(Dutch.date(m.start))"),
                      Fact(term: "Naar", value: "\(Dutch.number(m.target))\(unitText(m.unit)) op \(Dutch.date(m.due)) (einddatum)")]
            if !m.checkpoints.isEmpty {
                facts.append(Fact(term: "Tussenstappen", value: m.checkpoints.map { "\(Dutch.number($0.value)) op \(Dutch.date($0.date))" }.joined(separator: "; ")))
            }
            chart = { Chart.milestone(MilestoneChartInput(milestone: m, observations: $0, asOf: snap.date, forecast: status?.evidence.forecast, state: status?.state)) }
        } else {
            let x = index.indicator(at: p)!.indicator
            row = model.row(x, on: snap.date)
            facts += [Fact(term: "Basiswaarde", value: "\(Dutch.number(x.baseline))\(unitText(x.unit)) (\(x.baselineYear))"),
                      Fact(term: "Doel", value: "\(Dutch.number(x.target))\(unitText(x.unit)) in \(x.targetYear)")]
            for (k, v) in x.references.sorted(by: { $0.key < $1.key }) { facts.append(Fact(term: "Referentie \(k)", value: "\(Dutch.number(v))\(unitText(x.unit))")) }
            facts.append(Fact(term: "Bron", value: x.source))
            chart = { Chart.indicator(IndicatorChartInput(indicator: x, observations: $0, asOf: snap.date, state: status?.state, goal: goalName)) }
        }
        if let f = status?.evidence.forecast { facts.append(Fact(term: "Prognose gereed", value: Dutch.date(f))) }
        if let progress = row.progress { facts.append(Fact(term: "Voortgang", value: progress + (row.expected.map { ", verwacht \($0)" } ?? ""))) }
        let observations = reports.map { (date: $0.date, value: $0.value) }
        let changes = try history.streamMessages(item: id).compactMap { m -> Change? in
            if let c = try? StreamDocuments.decode(StreamDocuments.StatusChange.self, from: m.document), m.type == .statusChange {
                if let asOf, c.date > asOf { return nil }
                return Change(date: Dutch.date(c.date), symbol: Dutch.symbol(c.to), state: c.to.rawValue,
                              text: "stand \(c.from.map { Dutch.word($0) + " → " } ?? "")\(Dutch.word(c.to))")
            }
            guard let t = try? StreamDocuments.decode(StreamDocuments.AlertTransitionDocument.self, from: m.document) else { return nil }
            if let asOf, t.date > asOf { return nil }
            let ack = t.alert.acknowledgement.map { " (\($0.by): \($0.reason))" } ?? ""
            return Change(date: Dutch.date(t.date), symbol: t.to == .resolved ? "✔" : "!", state: t.to == .resolved ? "done" : "overdue",
                          text: "melding \(Dutch.word(t.alert.severity)) \(Dutch.word(t.to))\(t.to == .acknowledged ? ack : "")")
        }
        let themeName = model.names[place.0] ?? place.0
        let view = View(id: id, query: live ? "" : "?as_of=\(snap.date.iso)", themeID: place.0, themeName: themeName, goalName: goalName,
                        interventionName: place.2.flatMap { model.names[$0] }, name: row.name, kind: row.kind, state: row.state,
                        stateWord: row.stateWord, symbol: row.symbol, why: row.why,
                        chart: chart(observations),
                        facts: facts,
                        reports: reports.reversed().prefix(50).map { Report(date: Dutch.date($0.date), value: Dutch.number($0.value),
                                                                            by: $0.reporter ?? $0.publisher, note: $0.note ?? "") },
                        hasReports: !reports.isEmpty, earlier: max(0, reports.count - 50), history: changes.reversed())
        return Page(status: 200, html: render(frame(row.name, snap, live: live, body: library.render(view, withTemplate: "item") ?? "")))
    }

    func unitText(_ unit: String) -> String { unit.isEmpty ? "" : " \(unit)" }

    /// Every wijk with its state.
    public func areas(asOf: PlanDate?) async throws -> Page {
        let (snap, live) = try await snapshot(asOf: asOf)
        let model = PageModel(plan: feed.plan, lookup: lookup, snapshot: snap)
        struct Row { var id: String; var name: String; var priority: Bool; var state: String; var stateWord: String; var symbol: String; var counts: String; var query: String }
        let rows = feed.plan.areas.sorted { ($0.priority ? 0 : 1, $0.name) < ($1.priority ? 0 : 1, $1.name) }.map { a -> Row in
            let node = model.rollups["area:\(a.id)"]
            let s = node?.state ?? .unknown
            return Row(id: a.id, name: a.name, priority: a.priority, state: s.rawValue, stateWord: Dutch.word(s), symbol: Dutch.symbol(s),
                       counts: model.counts(node?.counts ?? [:]).ifEmpty("geen onderdelen"), query: live ? "" : "?as_of=\(snap.date.iso)")
        }
        struct View { var dateText: String; var areas: [Row] }
        var f = frame("Wijken", snap, live: live, body: library.render(View(dateText: Dutch.date(snap.date), areas: rows), withTemplate: "areas") ?? "")
        f.isAreas = true
        return Page(status: 200, html: render(f))
    }

    /// One wijk: its items (their own wijken, or their intervention's), grouped as on
    /// the overview, and its open alerts.
    public func area(_ id: String, asOf: PlanDate?) async throws -> Page {
        let (snap, live) = try await snapshot(asOf: asOf)
        guard let a = feed.plan.areas.first(where: { $0.id == id }) else {
            let near = closest(id, among: Set(feed.plan.areas.map(\.id))).map { "/wijken/\($0)" }
            return notFound("De wijk `\(id)`", snap, live: live, suggestion: near)
        }
        let model = PageModel(plan: feed.plan, lookup: lookup, snapshot: snap)
        // Themes and interventions counted again over this wijk's items only, as `koers status --area`.
        let local = PageModel(plan: feed.plan, lookup: lookup, snapshot: snap.narrowed(plan: feed.plan, theme: nil, area: id))
        let heard = live ? await feed.lastHeard() : [:]
        let themes = local.themes(lastHeard: heard, now: feed.now()) { m, i in (m.areas.isEmpty ? i.areas : m.areas).contains(id) }
        let alerts = model.alerts(snap.alerts.filter { $0.areas.contains(id) }, canAcknowledge: false)
        let node = model.rollups["area:\(id)"]
        let s = node?.state ?? .unknown
        struct View {
            var name: String; var dateText: String; var state: String; var stateWord: String; var symbol: String; var counts: String
            var alerts: [AlertView]; var alertCount: Int; var themes: [ThemeView]; var query: String
        }
        let view = View(name: a.name, dateText: Dutch.date(snap.date), state: s.rawValue, stateWord: Dutch.word(s), symbol: Dutch.symbol(s),
                        counts: model.counts(node?.counts ?? [:]), alerts: alerts, alertCount: alerts.count, themes: themes,
                        query: live ? "" : "?as_of=\(snap.date.iso)")
        var f = frame(a.name, snap, live: live, body: library.render(view, withTemplate: "area") ?? "")
        f.isAreas = true
        return Page(status: 200, html: render(f))
    }
}

extension String {
    func ifEmpty(_ other: String) -> String { isEmpty ? other : self }
}

extension WebSite {
    /// The open alerts, filtered by theme and severity, 100 to a page; the alerts
    /// resolved recently; and, on the live page, a form to take an alert on.
    public func alerts(asOf: PlanDate?, theme: String?, severity: String?, page: Int = 1, message: String? = nil) async throws -> Page {
        let (snap, live) = try await snapshot(asOf: asOf)
        let model = PageModel(plan: feed.plan, lookup: lookup, snapshot: snap)
        if let theme, !feed.plan.themes.contains(where: { $0.id == theme }) {
            return notFound("Het thema `\(theme)`", snap, live: live,
                            suggestion: closest(theme, among: Set(feed.plan.themes.map(\.id))).map { "/alerts?theme=\($0)" })
        }
        let sev = severity.flatMap(Severity.init(rawValue:))
        if let severity, sev == nil {
            return notFound("De ernst `\(severity)` (info, warning of critical)", snap, live: live, suggestion: nil)
        }
        let shown = snap.alerts.filter { (theme == nil || $0.theme == theme) && (sev == nil || $0.severity == sev) }
        let perPage = 100, page = max(1, page)
        let slice = model.alerts(shown, canAcknowledge: live, offset: (page - 1) * perPage, limit: perPage)
        let total = shown.count
        struct Option { var id: String; var name: String; var selected: Bool }
        struct Resolved { var date: String; var text: String; var link: String }
        struct View {
            var dateText: String; var asOf: Bool; var asOfValue: String; var themes: [Option]; var severities: [Option]; var message: String?
            var alerts: [AlertView]; var alertCount: Int; var pageText: String?; var next: String?; var resolved: [Resolved]
        }
        var query = [live ? nil : "as_of=\(snap.date.iso)", theme.map { "theme=\($0)" }, severity.map { "severity=\($0)" }].compactMap { $0 }
        query.append("page=\(page + 1)")
        var resolved: [Resolved] = []
        let decoder = JSONDecoder()
        for m in try store.history().recentlyResolved(limit: 200) where resolved.count < 30 {
            guard let t = try? decoder.decode(StreamDocuments.AlertTransitionDocument.self, from: Data(m.document.utf8)) else { continue }
            if let asOf, t.date > asOf { continue }
            guard theme == nil || t.alert.theme == theme, sev == nil || t.alert.severity == sev else { continue }
            resolved.append(Resolved(date: Dutch.date(t.date), text: "\(model.names[t.alert.subject] ?? t.alert.subject): \(t.alert.resolvedBy?.summary ?? "opgelost")",
                                     link: "/items/\(PageModel.escapePath(t.alert.subject))"))
        }
        let view = View(dateText: Dutch.date(snap.date), asOf: !live, asOfValue: snap.date.iso,
                        themes: feed.plan.themes.map { Option(id: $0.id, name: $0.name, selected: $0.id == theme) },
                        severities: Severity.allCases.reversed().map { Option(id: $0.rawValue, name: Dutch.word($0), selected: $0 == sev) },
                        message: message, alerts: slice, alertCount: total,
                        pageText: total > perPage ? "pagina \(page) van \((total + perPage - 1) / perPage)" : nil,
                        next: page * perPage < total ? "/alerts?" + query.joined(separator: "&") : nil, resolved: resolved)
        var f = frame("Meldingen", snap, live: live, body: library.render(view, withTemplate: "alerts") ?? "")
        f.isAlerts = true
        return Page(status: 200, html: render(f))
    }
}
