import Foundation
import Plan
import Status
import StreamProtocol

/// What the pages show, as plain values for the templates: built from the plan and a
/// snapshot (live, or as of a date), in the programme's Dutch terms. Every value shown
/// comes from the snapshot's statuses and evidence; the templates only lay them out.
struct ItemRow {
    var id: String
    var name: String
    var kind: String
    var state: String
    var stateWord: String
    var symbol: String
    var progress: String?
    var progressWidth: Int
    var expected: String?
    var expectedLeft: Int
    var why: String
    var due: String?
    var link: String
}

struct InterventionView {
    var id: String
    var name: String
    var owner: String
    var areas: String
    var state: String
    var stateWord: String
    var symbol: String
    var counts: String
    var items: [ItemRow]
    var hasItems: Bool
}

struct GoalView {
    var name: String
    var interventions: [InterventionView]
    var indicators: [ItemRow]
    var hasIndicators: Bool
}

struct ThemeView {
    var id: String
    var name: String
    var state: String
    var stateWord: String
    var symbol: String
    var silent: Bool
    var heard: String
    var counts: String
    var goals: [GoalView]
}

struct AlertView {
    var key: String
    var keyPath: String
    var severity: String
    var severityWord: String
    var state: String
    var stateWord: String
    var subject: String
    var subjectName: String
    var link: String
    var theme: String
    var meta: String
    var since: String
    var evidence: String
    var action: String
    var acknowledged: String?
    var canAcknowledge: Bool
}

struct ChangeView {
    var date: String
    var text: String
    var symbol: String
    var state: String
    var link: String
}

struct CountView {
    var state: String
    var word: String
    var symbol: String
    var count: Int
}

/// Builds the views of one snapshot.
struct PageModel {
    let plan: Plan
    let snapshot: StreamDocuments.Snapshot
    let statuses: [String: ItemStatus]
    let rollups: [String: StreamDocuments.Rollup]
    let names: [String: String]
    let milestones: [String: Milestone]
    let model = StatusModel()

    init(plan: Plan, lookup: PlanLookup, snapshot: StreamDocuments.Snapshot) {
        self.plan = plan
        self.snapshot = snapshot
        statuses = Dictionary(snapshot.items.map { ($0.item, $0) }, uniquingKeysWith: { a, _ in a })
        rollups = Dictionary(snapshot.rollups.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        names = lookup.names
        milestones = lookup.milestones
    }

    func organisation(_ id: String) -> String { names["org:\(id)"] ?? id }
    func area(_ id: String) -> String { names["area:\(id)"] ?? id }

    func row(_ m: Milestone, on date: PlanDate) -> ItemRow {
        let s = statuses[m.id] ?? ItemStatus(item: m.id, state: .unknown, evidence: Evidence(summary: ""), progress: nil)
        let expected = min(1, max(0, model.fraction(m, model.expected(m, on: date))))
        return row(id: m.id, name: m.name, kind: "mijlpaal", status: s, expected: s.state == .done ? nil : expected,
                   why: Dutch.why(s, target: m.target, unit: m.unit, due: m.due, binary: m.kind == .binary), due: Dutch.date(m.due))
    }

    func row(_ x: Indicator, on date: PlanDate) -> ItemRow {
        let s = statuses[x.id] ?? ItemStatus(item: x.id, state: .unknown, evidence: Evidence(summary: ""), progress: nil)
        let span = x.target - x.baseline
        let expected = span == 0 ? 1 : min(1, max(0, (model.expected(x, on: date) - x.baseline) / span))
        return row(id: x.id, name: x.name, kind: "indicator", status: s, expected: expected,
                   why: Dutch.why(s, target: x.target, unit: x.unit, due: nil), due: "\(x.targetYear)")
    }

    func row(id: String, name: String, kind: String, status s: ItemStatus, expected: Double?, why: String, due: String?) -> ItemRow {
        let progress = s.progress.map { min(1, max(0, $0)) }
        return ItemRow(id: id, name: name, kind: kind, state: s.state.rawValue, stateWord: Dutch.word(s.state), symbol: Dutch.symbol(s.state),
                       progress: progress.map(Dutch.percent), progressWidth: Int(((progress ?? 0) * 100).rounded()),
                       expected: expected.map(Dutch.percent), expectedLeft: Int(((expected ?? 0) * 100).rounded()),
                       why: why, due: due, link: "/items/\(Self.escapePath(id))")
    }

    /// The themes, each with its goals, interventions and items; `keep` narrows to the
    /// items of one area (an intervention or theme with none of them is left out).
    func themes(lastHeard: [String: Int64], now: Int64, summarised: Bool = false, keep: ((Milestone, Intervention) -> Bool)? = nil) -> [ThemeView] {
        plan.themes.compactMap { t -> ThemeView? in
            let goals = t.goals.compactMap { g -> GoalView? in
                let interventions = g.interventions.compactMap { i -> InterventionView? in
                    let ms = summarised ? [] : keep.map { k in i.milestones.filter { k($0, i) } } ?? i.milestones
                    if keep != nil && ms.isEmpty { return nil }
                    let node = rollups["intervention:\(i.id)"]
                    return InterventionView(id: i.id, name: i.name, owner: organisation(i.owner), areas: i.areas.map(area).joined(separator: ", "),
                                            state: node?.state.rawValue ?? "unknown", stateWord: Dutch.word(node?.state ?? .unknown),
                                            symbol: Dutch.symbol(node?.state ?? .unknown), counts: counts(node?.counts ?? [:]),
                                            items: ms.map { row($0, on: snapshot.date) }, hasItems: !ms.isEmpty)
                }
                let indicators = keep == nil && !summarised ? g.indicators.map { row($0, on: snapshot.date) } : []
                if interventions.isEmpty && indicators.isEmpty { return nil }
                return GoalView(name: g.name, interventions: interventions, indicators: indicators, hasIndicators: !indicators.isEmpty)
            }
            if keep != nil && goals.isEmpty { return nil }
            let node = rollups["theme:\(t.id)"]
            let state = node?.state ?? .unknown
            return ThemeView(id: t.id, name: t.name, state: state.rawValue, stateWord: Dutch.word(state), symbol: Dutch.symbol(state),
                             silent: snapshot.silentThemes.contains(t.id), heard: heard(lastHeard[t.id], now: now),
                             counts: counts(node?.counts ?? [:]), goals: goals)
        }
    }

    func heard(_ ms: Int64?, now: Int64) -> String {
        guard let ms else { return "nog niet gehoord sinds de start van de aggregator" }
        let seconds = max(0, now - ms) / 1000
        let days = seconds / 86_400
        if days >= 1 { return "laatst gehoord \(days) dag\(days == 1 ? "" : "en") geleden" }
        if seconds >= 3_600 { return "laatst gehoord \(seconds / 3_600) uur geleden" }
        if seconds >= 60 { return "laatst gehoord \(seconds / 60) min geleden" }
        return "laatst gehoord zojuist"
    }

    /// "3 op koers, 1 achter".
    func counts(_ c: [String: Int]) -> String {
        ItemState.allCases.compactMap { s in (c[s.rawValue] ?? 0) > 0 ? "\(c[s.rawValue]!) \(Dutch.word(s))" : nil }.joined(separator: ", ")
    }

    /// How many items are in each state (the states that occur).
    func summary(items: [ItemStatus]) -> [CountView] {
        var n: [ItemState: Int] = [:]
        for i in items { n[i.state, default: 0] += 1 }
        return ItemState.allCases.sorted { $0.severity > $1.severity }.compactMap { s in
            n[s].map { CountView(state: s.rawValue, word: Dutch.word(s), symbol: Dutch.symbol(s), count: $0) }
        }
    }

    /// The alerts, most severe and then newest first; only those from `offset`, at most
    /// `limit` of them, are made into views (a large plan has tens of thousands open).
    /// The same from a roll-up's counts (a summarised page has no item statuses).
    func summary(counts: [String: Int]) -> [CountView] {
        ItemState.allCases.sorted { $0.severity > $1.severity }.compactMap { s in
            counts[s.rawValue].flatMap { $0 > 0 ? CountView(state: s.rawValue, word: Dutch.word(s), symbol: Dutch.symbol(s), count: $0) : nil }
        }
    }

    func alerts(_ list: [Alert], canAcknowledge: Bool, offset: Int = 0, limit: Int = .max) -> [AlertView] {
        Self.ordered(list, first: offset + min(limit, list.count)).dropFirst(offset).map { a in
            AlertView(key: a.key, keyPath: Self.escapePath(a.key), severity: a.severity.rawValue, severityWord: Dutch.word(a.severity),
                      state: a.state.rawValue, stateWord: Dutch.word(a.state), subject: a.subject, subjectName: names[a.subject] ?? a.subject,
                      link: "/items/\(Self.escapePath(a.subject))", theme: a.theme.flatMap { names[$0] } ?? "programma",
                      meta: [a.owner.map { "Eigenaar \(organisation($0))" }, a.areas.isEmpty ? nil : "wijk " + a.areas.map(area).joined(separator: ", "),
                             "thema " + (a.theme.flatMap { names[$0] } ?? "programma")].compactMap { $0 }.joined(separator: " · "),
                      since: Dutch.date(a.since),
                      evidence: statuses[a.subject].map(alertWhy) ?? (Self.isItemRule(a.rule)
                          ? alertWhy(ItemStatus(item: a.subject, state: Self.state(of: a), evidence: a.evidence, progress: nil)) : a.evidence.summary),
                      action: Dutch.action(rule: a.rule),
                      acknowledged: a.acknowledgement.map { ack in
                          "in behandeling door \(ack.by): \(ack.reason)" + (ack.until.map { " (tot \(Dutch.date($0)))" } ?? "")
                      },
                      canAcknowledge: canAcknowledge && (a.state == .firing || a.state == .acknowledged))
        }
    }

    /// Whether a rule's alerts are about one milestone or indicator (not funding, not a theme).
    static func isItemRule(_ rule: String) -> Bool {
        ["milestone-overdue", "milestone-lagging", "milestone-at-risk", "indicator-lagging", "data-missing"].contains(rule)
    }

    /// The state an item alert's rule stands for, when the item's status is not at hand.
    static func state(of a: Alert) -> ItemState {
        switch a.rule {
        case "milestone-overdue": .overdue
        case "milestone-lagging", "indicator-lagging": .lagging
        case "milestone-at-risk": .atRisk
        default: .unknown
        }
    }

    func alertWhy(_ s: ItemStatus) -> String {
        if let m = milestones[s.item] {
            return Dutch.why(s, target: m.target, unit: m.unit, due: m.due, binary: m.kind == .binary)
        }
        return Dutch.why(s, target: nil, unit: nil, due: nil)
    }

    /// The alerts most severe first, then newest, then by key; only the first `n` (a
    /// selection, not a sort of all, when `n` is small beside the list).
    static func ordered(_ list: [Alert], first n: Int) -> [Alert] {
        func before(_ a: Alert, _ b: Alert) -> Bool { (a.severity, b.since, b.key) > (b.severity, a.since, a.key) }
        guard n < list.count / 8 else { return Array(list.sorted(by: before).prefix(n)) }
        var top: [Alert] = []
        top.reserveCapacity(n + 1)
        for a in list {
            if top.count == n, let last = top.last, !before(a, last) { continue }
            let i = top.firstIndex { before(a, $0) } ?? top.count
            top.insert(a, at: i)
            if top.count > n { top.removeLast() }
        }
        return top
    }

    /// A path segment: letters, digits, `-`, `_`, `.`, `:` as they are; the rest escaped.
    static func escapePath(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")) ?? s
    }
}

/// What the pages look up in the plan by id, made once per plan (the plan does not
/// change while the aggregator runs): names of themes, interventions, items, wijken and
/// organisations, the milestones, and the plan's index.
final class PlanLookup: Sendable {
    let names: [String: String]
    let milestones: [String: Milestone]
    let index: PlanIndex

    init(_ plan: Plan) {
        var names: [String: String] = [:]
        for t in plan.themes {
            names[t.id] = t.name
            for g in t.goals {
                for i in g.interventions { names[i.id] = i.name; for m in i.milestones { names[m.id] = m.name } }
                for x in g.indicators { names[x.id] = x.name }
            }
        }
        for a in plan.areas { names["area:\(a.id)"] = a.name }
        for o in plan.organisations { names["org:\(o.id)"] = o.name }
        var milestones: [String: Milestone] = [:]
        for p in plan.milestones { milestones[p.milestone.id] = p.milestone }
        self.names = names
        self.milestones = milestones
        index = PlanIndex(plan)
    }
}
