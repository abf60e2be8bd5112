import Plan
import Testing
@testable import Status

func d(_ s: String) -> PlanDate { PlanDate(iso: s)! }

/// 0 → 100 homes from 2023-01-01 to 2024-12-31 (731 days), monthly reports.
let homes = Milestone(id: "homes", name: "Homes", kind: .quantitative, baseline: 0, target: 100, unit: "woningen",
                      start: d("2023-01-01"), due: d("2024-12-31"), cadence: Cadence(iso: "P1M")!)
let permit = Milestone(id: "permit", name: "Permit", kind: .binary, baseline: 0, target: 1, unit: "done",
                       start: d("2023-01-01"), due: d("2023-12-31"), cadence: Cadence(iso: "P1M")!)
let model = StatusModel()

func obs(_ v: Double, _ date: String) -> StatusModel.Observation { .init(value: v, date: d(date), publisher: "health") }

@Suite("Milestone states")
struct MilestoneStateTests {
    @Test("each state from its inputs", arguments: [
        // (today, latest, first, expected state, words in the why)
        ("2022-12-01", nil, nil, ItemState.notStarted, "starts 2023-01-01"),
        ("2023-03-01", nil, nil, .unknown, "no report since the start"),
        ("2024-01-01", obs(50, "2023-12-20"), nil, .onTrack, "50 of 100 woningen on 2023-12-20"),
        ("2024-01-01", obs(25, "2023-12-20"), nil, .lagging, "behind by 25 %"),
        ("2024-01-01", obs(45, "2023-12-20"), obs(10, "2023-02-01"), .atRisk, "after the due date"),
        ("2024-01-01", obs(50, "2023-09-01"), nil, .unknown, "days old"),
        ("2025-01-05", obs(90, "2024-12-20"), nil, .overdue, "due 2024-12-31"),
        ("2024-06-01", obs(100, "2024-05-31"), nil, .done, "100 of 100"),
        ("2026-01-01", obs(100, "2024-05-31"), nil, .done, "reported by health"),
    ] as [(String, StatusModel.Observation?, StatusModel.Observation?, ItemState, String)])
    func states(today: String, latest: StatusModel.Observation?, first: StatusModel.Observation?, state: ItemState, why: String) {
        let s = model.evaluate(homes, today: d(today), latest: latest, first: first)
        #expect(s.state == state, "\(s.evidence.summary)")
        #expect(s.evidence.summary.contains(why), "\(s.evidence.summary)")
    }

    @Test("the expected value follows checkpoints")
    func checkpoints() {
        var m = homes
        m.checkpoints = [Checkpoint(date: d("2023-12-31"), value: 20)]
        #expect(model.expected(m, on: d("2023-12-31")) == 20)
        #expect(abs(model.expected(m, on: d("2024-07-01")) - 60.2) < 0.5)
        #expect(model.expected(m, on: d("2022-01-01")) == 0)
        #expect(model.expected(m, on: d("2030-01-01")) == 100)
        // 25 on 2023-12-20 is ahead of the slow first year (not lagging), but at the pace
        // so far the target comes after the due date: at risk, and the why says so.
        let s = model.evaluate(m, today: d("2024-01-01"), latest: obs(25, "2023-12-20"))
        #expect(s.state == .atRisk)
        #expect(s.evidence.summary.contains("at this pace"))
    }

    @Test("hysteresis: lagging holds until the gap closes below tolerance minus hysteresis")
    func hysteresis() {
        // On 2024-01-01, 50.1 is expected; 37 is 13 points behind: inside 15, outside 10.
        let fresh = model.evaluate(homes, today: d("2024-01-01"), latest: obs(37, "2023-12-28"))
        #expect(fresh.state != .lagging)
        let held = model.evaluate(homes, today: d("2024-01-01"), latest: obs(37, "2023-12-28"), previous: .lagging)
        #expect(held.state == .lagging)
        let recovered = model.evaluate(homes, today: d("2024-01-01"), latest: obs(42, "2023-12-28"), previous: .lagging)
        #expect(recovered.state != .lagging)
    }

    @Test("a predecessor that slips puts its dependents at risk")
    func dependencies() {
        var m = homes
        m.dependsOn = ["permit"]
        let s = model.evaluate(m, today: d("2024-01-01"), latest: obs(50, "2023-12-20"), predecessors: ["permit": .overdue])
        #expect(s.state == .atRisk)
        #expect(s.evidence.summary.contains("`permit` (overdue)"))
    }

    @Test("binary milestones: on track, at risk near the due date, done, overdue")
    func binary() {
        #expect(model.evaluate(permit, today: d("2023-06-01"), latest: obs(0, "2023-05-20")).state == .onTrack)
        #expect(model.evaluate(permit, today: d("2023-11-15"), latest: obs(0, "2023-11-01")).state == .atRisk)
        #expect(model.evaluate(permit, today: d("2023-11-15"), latest: obs(1, "2023-11-01")).state == .done)
        #expect(model.evaluate(permit, today: d("2024-01-02"), latest: obs(0, "2023-12-20")).state == .overdue)
    }

    @Test("a silent theme makes items unknown, never red or green")
    func silent() {
        let s = model.evaluate(homes, today: d("2024-01-01"), latest: obs(25, "2023-12-20"), themeSilent: true)
        #expect(s.state == .unknown)
        #expect(s.evidence.summary.contains("silent"))
    }

    @Test("forecast from the reported pace")
    func forecast() {
        // 10 on 2023-02-01 to 45 on 2023-12-20: 35 in 322 days; 55 more takes 506 days.
        let f = model.forecast(homes, latest: obs(45, "2023-12-20"), first: obs(10, "2023-02-01"))
        #expect(f == d("2023-12-20").adding(days: 506))
    }

    @Test("the next date a state can change without a report")
    func nextChange() {
        // 50 on 2023-12-20, today 2024-01-01: stale after 45 days (2024-02-04), lagging when the path passes 65.
        let n = model.nextChange(homes, today: d("2024-01-01"), latest: obs(50, "2023-12-20"), state: .onTrack)
        #expect(n == d("2024-02-04"))
        // With a yearly cadence the data stays fresh; the path leaving 50 behind by 15 points comes first.
        var yearly = homes
        yearly.cadence = Cadence(iso: "P1Y")!
        let lagDay = model.nextChange(yearly, today: d("2024-01-01"), latest: obs(50, "2023-12-30"), state: .onTrack)!
        #expect(model.fraction(yearly, model.expected(yearly, on: lagDay)) > 0.65)
        #expect(model.fraction(yearly, model.expected(yearly, on: lagDay.adding(days: -1))) <= 0.65)
        #expect(model.nextChange(homes, today: d("2024-01-01"), latest: obs(100, "2023-12-30"), state: .done) == nil)
    }
}

@Suite("Indicator states")
struct IndicatorStateTests {
    let happy = Indicator(id: "gelukkig", name: "Gelukkig", unit: "%", direction: .higherIsBetter, baseline: 83, baselineYear: 2020,
                          references: ["nederland": 88], target: 88, targetYear: 2047, targetBasis: .nationalAverage,
                          cadence: Cadence(iso: "P1Y")!, source: "CBS", sourceURL: nil)

    @Test("on the path, below it, lagging, stale, done", arguments: [
        (83.7, "2023-12-31", "2024-06-01", ItemState.onTrack),
        (83.3, "2023-12-31", "2024-06-01", .atRisk),
        (82.0, "2023-12-31", "2024-06-01", .lagging),
        (84.0, "2021-12-31", "2025-06-01", .unknown),
        (88.5, "2030-12-31", "2031-02-01", .done),
    ])
    func states(value: Double, periodEnd: String, today: String, state: ItemState) {
        let s = model.evaluate(happy, today: d(today), latest: obs(value, periodEnd))
        #expect(s.state == state, "\(s.evidence.summary)")
        if state == .lagging { #expect(s.evidence.summary.contains("Nederland 88" + "%")) }
    }
}

@Suite("The engine: incremental, scheduled, rolled up")
struct EngineTests {
    static let plan = try! PlanLoader.loadDefault(path: nil)

    @Test("a report re-evaluates its item, its dependents and its ancestors only")
    func incremental() {
        var e = StatusEngine(plan: Self.plan, today: d("2023-06-01"))
        let before = e.states
        let changes = e.record(item: "bvs-do-vastgesteld", observation: obs(1, "2022-07-01"))
        let items = Set(changes.map(\.item).filter { !$0.contains(":") && $0 != "programme" })
        // bvs-do-vastgesteld itself, and bvs-verbouwing-gereed which depends on it (no longer at risk).
        #expect(items.isSubset(of: ["bvs-do-vastgesteld", "bvs-verbouwing-gereed"]))
        #expect(e.states["bvs-do-vastgesteld"]?.state == .done)
        for (id, s) in before where !items.contains(id) { #expect(e.states[id] == s, "\(id) changed without cause") }
    }

    @Test("reports arriving together: each item evaluated once, as its last report leaves it; first and latest kept from all")
    func batch() {
        var one = StatusEngine(plan: Self.plan, today: d("2024-06-30"))
        var each = one
        // werksferen 2 → 9 → 4 in one batch, plus another item.
        let batch: [(item: String, observation: StatusModel.Observation)] = [
            ("bvs-werksferen", obs(2, "2023-03-31")), ("bvs-werksferen", obs(9, "2024-06-01")),
            ("slakhorst-woningen", obs(12, "2024-06-30")), ("bvs-werksferen", obs(4, "2024-06-15")),
        ]
        let changes = one.record(batch)
        for (item, o) in batch { _ = each.record(item: item, observation: o) }
        // The same end state as one by one, and at most one change per item.
        #expect(one.states == each.states)
        let items = changes.map(\.item).filter { !$0.contains(":") && $0 != "programme" }
        #expect(items.count == Set(items).count)
        #expect(one.latest(of: "bvs-werksferen")?.value == 4)
        // The pace runs from the first report of the batch, not from its last.
        #expect(one.status(of: "bvs-werksferen")?.evidence.forecast == each.status(of: "bvs-werksferen")?.evidence.forecast)
    }

    @Test("time moves states by schedule: a due date passes, data goes stale")
    func schedule() {
        var e = StatusEngine(plan: Self.plan, today: d("2022-05-01"))
        _ = e.record(item: "sjpruut-sjop-open", observation: obs(0, "2022-09-01"))
        #expect(e.scheduledCount > 0)
        let changes = e.advance(to: d("2022-10-01"), nowMs: 0)
        #expect(changes.contains { $0.item == "sjpruut-sjop-open" && $0.to.state == .overdue })
        #expect(e.states["sjpruut-sjop-open"]?.evidence.summary.contains("due 2022-09-30") == true)
    }

    @Test("roll-up: the most severe state, with counts as the why; unknown is never green")
    func rollUp() {
        var e = StatusEngine(plan: Self.plan, today: d("2023-06-01"))
        let theme = e.summary(of: "theme:work")!
        #expect(theme.state == .overdue || theme.state == .unknown || theme.state == .lagging)
        _ = e.record(item: "bvs-vereniging-opgericht", observation: obs(1, "2022-07-01"))
        _ = e.record(item: "bvs-do-vastgesteld", observation: obs(1, "2022-07-01"))
        let after = e.summary(of: "intervention:bovengrondse-vakschool")!
        #expect(after.counts[.done] == 2)
        #expect(StatusEngine.rollUp([.done: 2, .onTrack: 3]) == .onTrack)
        #expect(StatusEngine.rollUp([.done: 2, .onTrack: 3, .unknown: 1]) == .unknown)
        #expect(StatusEngine.rollUp([.done: 2]) == .done)
    }

    @Test("a silent theme turns its items unknown and recovers when heard")
    func silence() {
        var e = StatusEngine(plan: Self.plan, today: d("2022-05-01"))
        _ = e.heard(theme: "work", at: 0)
        _ = e.record(item: "bvs-werksferen", observation: obs(1, "2022-04-30"))
        let silentChanges = e.advance(to: d("2022-05-03"), nowMs: 2 * 86_400_000)
        #expect(e.silent.contains("work"))
        #expect(e.states["bvs-werksferen"]?.state == .unknown)
        #expect(!silentChanges.isEmpty)
        _ = e.heard(theme: "work", at: 2 * 86_400_000 + 1)
        #expect(!e.silent.contains("work"))
        #expect(e.states["bvs-werksferen"]?.state != .unknown)
    }

    @Test("deterministic: the same inputs give the same states")
    func deterministic() {
        func run() -> [String: ItemStatus] {
            var e = StatusEngine(plan: Self.plan, today: d("2022-01-01"))
            _ = e.record(item: "bvs-werksferen", observation: obs(3, "2023-06-30"))
            _ = e.record(item: "slakhorst-woningen", observation: obs(12, "2024-06-30"))
            _ = e.advance(to: d("2024-09-01"), nowMs: 0)
            return e.states
        }
        #expect(run() == run())
    }
}

@Suite("Alert lifecycle")
struct AlertTests {
    static let plan = try! PlanLoader.loadDefault(path: nil)

    func lagging(_ day: String) -> StatusEngine.Change {
        StatusEngine.Change(item: "bvs-werksferen", from: .onTrack,
                            to: ItemStatus(item: "bvs-werksferen", state: .lagging, evidence: Evidence(summary: "behind"), progress: 0.1))
    }

    func onTrack() -> StatusEngine.Change {
        StatusEngine.Change(item: "bvs-werksferen", from: .lagging,
                            to: ItemStatus(item: "bvs-werksferen", state: .onTrack, evidence: Evidence(summary: "fine"), progress: 0.5))
    }

    @Test("pending, then firing after its days, then resolved; evidence and owner attached")
    func lifecycle() throws {
        var engine = StatusEngine(plan: Self.plan, today: d("2023-06-01"))
        var alerts = AlertEngine(plan: Self.plan)
        var t = alerts.itemsChanged([lagging("2023-06-01")], engine: engine)
        #expect(t.map(\.to) == [.pending])
        #expect(t[0].alert.key == "milestone-lagging:bvs-werksferen")
        #expect(t[0].alert.owner == "vereniging-bvs" && t[0].alert.severity == .warning)
        _ = engine.advance(to: d("2023-06-05"), nowMs: 0)
        #expect(alerts.daily(engine: engine).filter { $0.key.hasPrefix("milestone-lagging") }.isEmpty)
        _ = engine.advance(to: d("2023-06-08"), nowMs: 0)
        t = alerts.daily(engine: engine).filter { $0.key.hasPrefix("milestone-lagging") }
        #expect(t.map(\.to) == [.firing])
        t = alerts.itemsChanged([onTrack()], engine: engine)
        #expect(t.map(\.to) == [.resolved])
        #expect(alerts.active["milestone-lagging:bvs-werksferen"] == nil)
    }

    @Test("a pending alert whose condition clears never fires, and its drop is announced: pending → resolved")
    func pendingCleared() {
        let engine = StatusEngine(plan: Self.plan, today: d("2023-06-01"))
        var alerts = AlertEngine(plan: Self.plan)
        _ = alerts.itemsChanged([lagging("")], engine: engine)
        let t = alerts.itemsChanged([onTrack()], engine: engine)
        #expect(t.map(\.key) == ["milestone-lagging:bvs-werksferen"])
        #expect(t.map(\.from) == [.pending] && t.map(\.to) == [.resolved])
        #expect(alerts.alert("milestone-lagging:bvs-werksferen") == nil)
    }

    @Test("acknowledged until a date, then firing again")
    func acknowledge() throws {
        var engine = StatusEngine(plan: Self.plan, today: d("2023-06-01"))
        var alerts = AlertEngine(plan: Self.plan)
        alerts.pendingDays[.warning] = 0
        _ = alerts.itemsChanged([lagging("")], engine: engine)
        let key = "milestone-lagging:bvs-werksferen"
        #expect(alerts.active[key]?.state == .firing)
        let ack = try alerts.acknowledge(key, Acknowledgement(by: "bureau", reason: "werkgevers benaderd", until: d("2023-07-01")), today: engine.today)
        #expect(ack.to == .acknowledged && ack.alert.acknowledgement?.by == "bureau")
        _ = engine.advance(to: d("2023-07-02"), nowMs: 0)
        #expect(alerts.daily(engine: engine).contains { $0.key == key && $0.to == .firing })
        #expect { try alerts.acknowledge("nope", Acknowledgement(by: "x", reason: "y", until: nil), today: engine.today) } throws: { $0 is AlertError }
    }

    @Test("an alert that comes and goes too often is flapping")
    func flapping() {
        var engine = StatusEngine(plan: Self.plan, today: d("2023-06-01"))
        var alerts = AlertEngine(plan: Self.plan)
        alerts.pendingDays[.warning] = 0
        var states: [AlertState] = []
        for i in 0..<6 {
            _ = engine.advance(to: d("2023-06-01").adding(days: i * 5), nowMs: 0)
            states += alerts.itemsChanged([lagging("")], engine: engine).map(\.to)
            states += alerts.itemsChanged([onTrack()], engine: engine).map(\.to)
        }
        #expect(states.contains(.flapping))
    }

    @Test("funding secured only until a date raises its own alert; a silent theme one alert")
    func fundingAndSilence() {
        var engine = StatusEngine(plan: Self.plan, today: d("2023-01-15"))
        var alerts = AlertEngine(plan: Self.plan)
        var t = alerts.daily(engine: engine)
        #expect(t.contains { $0.key == "funding-expiring:sociaal-veilig" && $0.to == .firing || $0.to == .pending })
        _ = engine.heard(theme: "safety", at: 0)
        _ = engine.advance(to: d("2023-01-20"), nowMs: 5 * 86_400_000)
        t = alerts.daily(engine: engine)
        #expect(t.filter { $0.key == "theme-silent:safety" }.map(\.to).contains(.firing))
        // Its items' missing data raises no alerts of their own.
        let changes = engine.advance(to: d("2023-01-21"), nowMs: 6 * 86_400_000)
        #expect(alerts.itemsChanged(changes, engine: engine).allSatisfy { !$0.key.hasPrefix("data-missing") || !($0.alert.theme == "safety") })
    }
}
