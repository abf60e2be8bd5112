import Operators
import Plan
import Status
import StreamProtocol
import Testing

@Suite("Operator side: narrowing a snapshot, the text of an alert")
struct StatusRendererTests {
    static let plan = try! PlanLoader.loadDefault(path: nil)
    static let today = PlanDate(iso: "2024-06-30")!

    /// The state of the built-in plan with no reports, and its alerts (fired at once).
    static func state() -> (StatusEngine, AlertEngine) {
        let engine = StatusEngine(plan: plan, today: today)
        var alerts = AlertEngine(plan: plan)
        alerts.pendingDays = [.critical: 0, .warning: 0, .info: 0]
        _ = alerts.itemsChanged(engine.allStatuses.map { StatusEngine.Change(item: $0.item, from: nil, to: $0) }, engine: engine)
        _ = alerts.daily(engine: engine)
        return (engine, alerts)
    }

    static let slakhorst: Set<String> = ["slakhorst-woningen", "slakhorst-openbare-ruimte"]

    @Test("--theme T --area A over the aggregator's theme snapshot: the area's items, their counts; not \"no items\"")
    func themeAndArea() {
        let (engine, alerts) = Self.state()
        // What the aggregator sends for --theme health: no area roll-ups in it.
        let snap = StreamDocuments.Snapshot(engine: engine, alerts: alerts.openAlerts, sequence: 7, theme: "health")
        let text = StatusRenderer(colour: false).render(snap, plan: Self.plan, theme: "health", area: "slakhorst")
        #expect(!text.contains("no items"), "\(text)")
        #expect(text.contains("area slakhorst in theme health: "))
        #expect(text.contains("slakhorst-woningen"))
        #expect(!text.contains("saffierflat-inhuizing"))
        let narrowed = snap.narrowed(plan: Self.plan, theme: "health", area: "slakhorst")
        #expect(Set(narrowed.items.map(\.item)) == Self.slakhorst)
        let area = narrowed.rollups.first { $0.node == "area:slakhorst" }
        #expect(area?.counts.values.reduce(0, +) == 2)
        #expect(narrowed.rollups.first { $0.node == "theme:health" }?.counts.values.reduce(0, +) == 2)
        #expect(!narrowed.alerts.isEmpty)
        #expect(narrowed.alerts.allSatisfy { Self.slakhorst.contains($0.subject) })
    }

    @Test("--area A (and --json) over a whole snapshot: items, roll-ups and alerts of the area only")
    func areaOnly() {
        let (engine, alerts) = Self.state()
        let snap = StreamDocuments.Snapshot(engine: engine, alerts: alerts.openAlerts, sequence: 0)
        let narrowed = snap.narrowed(plan: Self.plan, theme: nil, area: "slakhorst")
        #expect(Set(narrowed.items.map(\.item)) == Self.slakhorst)
        #expect(narrowed.rollups.first { $0.node == "programme" }?.counts.values.reduce(0, +) == 2)
        #expect(!narrowed.rollups.contains { $0.node.hasPrefix("area:") && $0.node != "area:slakhorst" })
        #expect(narrowed.alerts.allSatisfy { $0.areas.contains("slakhorst") || $0.rule == "theme-silent" })
        let json = StreamDocuments.encode(narrowed)
        #expect(!json.contains("saffierflat"))
        // Narrowed by theme only, a replay's whole snapshot keeps that theme's items.
        let health = snap.narrowed(plan: Self.plan, theme: "health", area: nil)
        #expect(health.items.allSatisfy { engine.themeOf($0.item) == "health" } && !health.items.isEmpty)
        #expect(health.alerts.allSatisfy { $0.theme == "health" })
    }

    @Test("an alert's text names its owner, its area and what to do; held and resolved say so")
    func alertText() throws {
        let (_, alerts) = Self.state()
        let a = try #require(alerts.openAlerts.sorted { $0.key < $1.key }.first { $0.owner != nil && !$0.areas.isEmpty })
        let r = StatusRenderer(colour: false)
        let line = r.alertLine(a)
        #expect(line.contains("owner: \(a.owner!)"))
        #expect(line.contains("area: \(a.areas.joined(separator: ", "))"))
        #expect(line.contains("do: \(Runbook.action(for: a.rule))"))
        #expect(r.alertLine(a, silentThemes: [a.theme!]).contains("[held: theme `\(a.theme!)` is silent]"))
        var resolved = a
        resolved.state = .resolved
        resolved.resolvedBy = Resolution(summary: "5 of 10 on 2024-07-04", on: Self.today, value: 5, asOf: PlanDate(iso: "2024-07-04"))
        #expect(r.alertLine(resolved).contains("resolved by: 5 of 10 on 2024-07-04 (on 2024-06-30)"))
    }
}
