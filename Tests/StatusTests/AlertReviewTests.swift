import Foundation
import Plan
import Testing
@testable import Status

/// Milliseconds at the start of a day, on the engine's clock.
func ms(_ date: String) -> Int64 { Int64(d(date).daysSinceEpoch) * 86_400_000 }

@Suite("Alerts: what resolves them, silence, the runbook")
struct AlertReviewTests {
    static let plan = try! PlanLoader.loadDefault(path: nil)
    static let key = "milestone-lagging:bvs-werksferen"

    func change(_ state: ItemState, _ evidence: Evidence) -> StatusEngine.Change {
        StatusEngine.Change(item: "bvs-werksferen", from: nil, to: ItemStatus(item: "bvs-werksferen", state: state, evidence: evidence, progress: nil))
    }

    @Test("a resolved alert carries what resolved it — the report's value and date — not the evidence it fired on")
    func resolvedBy() throws {
        let engine = StatusEngine(plan: Self.plan, today: d("2024-07-10"))
        var alerts = AlertEngine(plan: Self.plan)
        alerts.pendingDays[.warning] = 0
        var behind = Evidence(summary: "1 of 10 werksferen on 2024-06-29; 5 expected by today (behind by 40 %)")
        behind.lastValue = 1
        behind.lastDate = d("2024-06-29")
        _ = alerts.itemsChanged([change(.lagging, behind)], engine: engine)
        #expect(alerts.alert(Self.key)?.state == .firing)
        var fine = Evidence(summary: "5 of 10 werksferen on 2024-07-09; 5 expected by today")
        fine.lastValue = 5
        fine.lastDate = d("2024-07-09")
        fine.reportedBy = "work"
        let t = try #require(alerts.itemsChanged([change(.onTrack, fine)], engine: engine).first { $0.key == Self.key })
        #expect(t.to == .resolved)
        let r = try #require(t.alert.resolvedBy)
        #expect(r.value == 5 && r.asOf == d("2024-07-09") && r.reportedBy == "work" && r.on == d("2024-07-10"))
        #expect(r.summary.contains("5 of 10 werksferen on 2024-07-09"))
        // The evidence is the evidence at resolution, not from when it fired.
        #expect(t.alert.evidence.lastValue == 5)
        #expect(!t.alert.evidence.summary.contains("behind"))
    }

    @Test("a silent theme's item alerts are held, not resolved; heard again, they are evaluated again")
    func silenceHolds() throws {
        var e = StatusEngine(plan: Self.plan, today: d("2024-06-30"))
        var alerts = AlertEngine(plan: Self.plan)
        alerts.pendingDays[.warning] = 0
        let t0 = ms("2024-06-30")
        for t in Self.plan.themes { _ = e.heard(theme: t.id, at: t0) }
        _ = alerts.itemsChanged(e.advance(to: d("2024-06-30"), nowMs: t0), engine: e)
        _ = alerts.itemsChanged(e.record(item: "bvs-werksferen", observation: obs(1, "2024-06-29")), engine: e)
        #expect(alerts.alert(Self.key)?.state == .firing)

        // Two days without a word from `work`: its items become unknown; the alert is held.
        for t in Self.plan.themes where t.id != "work" { _ = e.heard(theme: t.id, at: t0 + 2 * 86_400_000) }
        var changes = e.advance(to: d("2024-07-02"), nowMs: t0 + 2 * 86_400_000)
        #expect(e.silent == ["work"])
        #expect(e.status(of: "bvs-werksferen")?.state == .unknown)
        var t = alerts.itemsChanged(changes, engine: e) + alerts.daily(engine: e)
        #expect(!t.contains { $0.key == Self.key }, "\(t.map { "\($0.key) → \($0.to)" })")
        #expect(!t.contains { $0.key.hasPrefix("data-missing:") })
        #expect(alerts.alert(Self.key)?.state == .firing)
        #expect(t.contains { $0.key == "theme-silent:work" && $0.to == .firing })

        // Heard again, nothing new: still lagging, so the alert stays as it was.
        changes = e.heard(theme: "work", at: t0 + 2 * 86_400_000 + 1)
        t = alerts.itemsChanged(changes, engine: e) + alerts.daily(engine: e)
        #expect(!t.contains { $0.key == Self.key })
        #expect(alerts.alert(Self.key)?.state == .firing)
        let back = try #require(t.first { $0.key == "theme-silent:work" })
        #expect(back.to == .resolved && back.alert.resolvedBy?.summary.contains("heard from again") == true)

        // Silent again, then heard with a report that clears it: evaluated, resolved by that report.
        changes = e.advance(to: d("2024-07-05"), nowMs: t0 + 5 * 86_400_000)
        _ = alerts.itemsChanged(changes, engine: e) + alerts.daily(engine: e)
        #expect(alerts.alert(Self.key)?.state == .firing)
        changes = e.heard(theme: "work", at: t0 + 5 * 86_400_000 + 1)
        changes += e.record(item: "bvs-werksferen", observation: obs(5, "2024-07-04"))
        t = alerts.itemsChanged(changes, engine: e) + alerts.daily(engine: e)
        let resolved = try #require(t.first { $0.key == Self.key })
        #expect(resolved.to == .resolved && resolved.alert.resolvedBy?.value == 5 && resolved.alert.resolvedBy?.asOf == d("2024-07-04"))
    }

    @Test("a theme never heard from since the aggregator started goes silent after its heartbeat")
    func neverConnected() throws {
        var e = StatusEngine(plan: Self.plan, today: d("2024-06-30"))
        e.startedMs = ms("2024-06-30")
        var alerts = AlertEngine(plan: Self.plan)
        _ = e.heard(theme: "talent", at: ms("2024-06-30"))
        _ = e.advance(to: d("2024-06-30"), nowMs: ms("2024-06-30") + 3_600_000)
        #expect(e.silent.isEmpty)
        _ = e.heard(theme: "talent", at: ms("2024-07-01") + 7_200_000)
        _ = e.advance(to: d("2024-07-01"), nowMs: ms("2024-07-01") + 7_200_000)
        // P1D after the start: every theme but talent (heard since) is silent.
        #expect(e.silent == Set(Self.plan.themes.map(\.id)).subtracting(["talent"]))
        let t = try #require(alerts.daily(engine: e).last { $0.key == "theme-silent:work" })
        #expect(t.to == .firing)
        #expect(t.alert.evidence.summary.contains("never connected"))
        #expect(t.alert.evidence.summary.contains("since the aggregator started on 2024-06-30"))
    }

    @Test("without a start time set, the first advance is the reference")
    func startDefaultsToFirstAdvance() {
        var e = StatusEngine(plan: Self.plan, today: d("2024-06-30"))
        _ = e.advance(to: d("2024-06-30"), nowMs: ms("2024-06-30"))
        #expect(e.startedMs == ms("2024-06-30"))
        _ = e.advance(to: d("2024-07-02"), nowMs: ms("2024-07-02"))
        #expect(e.silent.count == Self.plan.themes.count)
    }

    @Test("the runbook names a rule for exactly the rules the alert engine raises")
    func runbookRules() {
        #expect(Runbook.rules.map(\.id).sorted() == (AlertEngine.itemRules + AlertEngine.themeRules + AlertEngine.fundingRules).sorted())
        for r in Runbook.rules { #expect(!r.action.isEmpty && !r.meaning.isEmpty) }
    }

    @Test("docs/operations.md lists exactly the rules and actions of the code's runbook")
    func runbookDocs() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/operations.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "| alert | meaning | what to do |"))
        let table = lines[start...].prefix { $0.hasPrefix("|") }
        #expect(table.joined(separator: "\n") == Runbook.markdownTable)
    }

    @Test("operator input: a misspelt theme gets a suggestion; an acknowledgement until a past date is refused")
    func input() throws {
        #expect(OperatorInput.checkTheme("wrk", in: Self.plan) == "no theme `wrk`; did you mean `work`?")
        #expect(OperatorInput.checkTheme("work", in: Self.plan) == nil)
        #expect(OperatorInput.checkTheme("zzzzzzzzzz", in: Self.plan)?.contains("the plan's themes are") == true)
        #expect(OperatorInput.checkArea("slakhrst", in: Self.plan) == "no area `slakhrst`; did you mean `slakhorst`?")
        let today = d("2024-07-10")
        #expect(throws: InputError.self) { try OperatorInput.ackUntil("2024-07-09", today: today).get() }
        #expect(throws: InputError.self) { try OperatorInput.ackUntil("next week", today: today).get() }
        #expect(try OperatorInput.ackUntil("2024-07-10", today: today).get() == today)
        if case .failure(let e) = OperatorInput.ackUntil("2024-07-09", today: today) { #expect(e.message.contains("in the past")) }
        #expect(editDistance("wrk", "work") == 1)
    }

    @Test("acknowledging a misspelt alert key suggests the open alert it is nearest to")
    func ackTypo() {
        let engine = StatusEngine(plan: Self.plan, today: d("2024-07-10"))
        var alerts = AlertEngine(plan: Self.plan)
        alerts.pendingDays[.warning] = 0
        _ = alerts.itemsChanged([change(.lagging, Evidence(summary: "behind"))], engine: engine)
        #expect { try alerts.acknowledge("milestone-laging:bvs-werksferen", Acknowledgement(by: "x", reason: "y", until: nil), today: engine.today) }
            throws: { "\($0)".contains("did you mean `milestone-lagging:bvs-werksferen`?") }
    }
}
