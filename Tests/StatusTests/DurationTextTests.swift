import Foundation
import Plan
import Testing
@testable import Status

/// Durations in the texts operators read (`koers status`, `koers alerts`, the stream's
/// `why`): as a person says them, never "1 days" or an ISO 8601 duration.
@Suite("Durations in words")
struct DurationTextTests {
    static let plan = try! PlanLoader.loadDefault(path: nil)

    /// A text reads well: no "1 days" (nor "-1 days"), no ISO 8601 duration such as P1D or P3M.
    func readsWell(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(text.range(of: "(?<![0-9.,])-?1 days", options: .regularExpression) == nil, "\(text)", sourceLocation: sourceLocation)
        #expect(text.range(of: "\\bP[0-9]+[DWMY]\\b", options: .regularExpression) == nil, "\(text)", sourceLocation: sourceLocation)
    }

    @Test("days: 1 day, N days", arguments: [(0, "0 days"), (1, "1 day"), (2, "2 days"), (45, "45 days"), (-1, "-1 day"), (365, "365 days")])
    func days(n: Int, text: String) {
        #expect(Durations.days(n) == text)
    }

    @Test("a plan cadence in words", arguments: [
        ("P1D", "1 day"), ("P3D", "3 days"), ("P1W", "1 week"), ("P2W", "2 weeks"),
        ("P1M", "1 month"), ("P3M", "3 months"), ("P1Y", "1 year"), ("P2Y", "2 years"),
    ])
    func cadence(iso: String, text: String) throws {
        let c = try #require(Cadence(iso: iso))
        #expect(Durations.cadence(c) == text)
        #expect(c.spoken == text)
        #expect(c.description == iso)
    }

    @Test("an overdue milestone: due 1 day ago")
    func overdue() throws {
        var e = StatusEngine(plan: Self.plan, today: d("2022-05-01"))
        _ = e.record(item: "sjpruut-sjop-open", observation: obs(0, "2022-09-01"))
        _ = e.advance(to: d("2022-10-01"), nowMs: 0)
        let s = try #require(e.status(of: "sjpruut-sjop-open"))
        #expect(s.state == .overdue)
        #expect(s.evidence.summary.contains("due 2022-09-30, 1 day ago"), "\(s.evidence.summary)")
        readsWell(s.evidence.summary)
        let later = model.evaluate(homes, today: d("2025-01-02"), latest: obs(90, "2024-12-20"))
        #expect(later.evidence.summary.contains("2 days ago"), "\(later.evidence.summary)")
    }

    @Test("a silent theme: more than its heartbeat of 1 day, in the alert and the stream")
    func silentTheme() throws {
        var e = StatusEngine(plan: Self.plan, today: d("2024-06-30"))
        var alerts = AlertEngine(plan: Self.plan)
        let t0 = ms("2024-06-30")
        for t in Self.plan.themes { _ = e.heard(theme: t.id, at: t0) }
        _ = alerts.itemsChanged(e.advance(to: d("2024-06-30"), nowMs: t0), engine: e)
        for t in Self.plan.themes where t.id != "work" { _ = e.heard(theme: t.id, at: t0 + 2 * 86_400_000) }
        _ = alerts.itemsChanged(e.advance(to: d("2024-07-02"), nowMs: t0 + 2 * 86_400_000), engine: e)
        let t = try #require(alerts.daily(engine: e).last { $0.key == "theme-silent:work" })
        #expect(t.to == .firing)
        #expect(t.alert.evidence.summary.contains("since 2024-06-30, more than its heartbeat of 1 day;"), "\(t.alert.evidence.summary)")
        #expect(t.alert.evidence.ageDays == 2)
        readsWell(t.alert.evidence.summary)
    }

    @Test("a theme that never connected: more than its heartbeat of 1 day")
    func neverConnected() throws {
        var e = StatusEngine(plan: Self.plan, today: d("2024-06-30"))
        e.startedMs = ms("2024-06-30")
        var alerts = AlertEngine(plan: Self.plan)
        _ = e.advance(to: d("2024-07-01"), nowMs: ms("2024-07-01") + 7_200_000)
        let t = try #require(alerts.daily(engine: e).last { $0.key == "theme-silent:work" })
        #expect(t.alert.evidence.summary.contains("(it never connected), more than its heartbeat of 1 day"), "\(t.alert.evidence.summary)")
        readsWell(t.alert.evidence.summary)
    }

    @Test("data missing: the last report N days old; the cadence of 1 month allows 45 days")
    func dataMissing() throws {
        var e = StatusEngine(plan: Self.plan, today: d("2024-06-30"))
        var alerts = AlertEngine(plan: Self.plan)
        for s in Severity.allCases { alerts.pendingDays[s] = 0 }
        _ = e.record(item: "bvs-werksferen", observation: obs(3, "2024-01-01"))
        _ = e.advance(to: d("2024-07-01"), nowMs: ms("2024-07-01"))
        let s = try #require(e.status(of: "bvs-werksferen"))
        #expect(s.state == .unknown)
        #expect(s.evidence.summary.contains("last report 182 days old"), "\(s.evidence.summary)")
        #expect(s.evidence.summary.contains("the cadence of 1 month allows 45 days"), "\(s.evidence.summary)")
        #expect(s.evidence.ageDays == 182)
        readsWell(s.evidence.summary)
        // The engine's status as the alert engine sees it change: the alert carries its text.
        _ = alerts.itemsChanged([StatusEngine.Change(item: "bvs-werksferen", from: nil, to: s)], engine: e)
        let a = try #require(alerts.alert("data-missing:bvs-werksferen"))
        #expect(a.evidence.summary.contains("the cadence of 1 month allows 45 days"), "\(a.evidence.summary)")
        readsWell(a.evidence.summary)
    }

    @Test("a stale indicator names its cadence in words; a binary milestone has 1 day to go")
    func indicatorAndBinary() {
        let happy = Indicator(id: "gelukkig", name: "Gelukkig", unit: "%", direction: .higherIsBetter, baseline: 83, baselineYear: 2020,
                              references: [:], target: 88, targetYear: 2047, targetBasis: .nationalAverage,
                              cadence: Cadence(iso: "P1Y")!, source: "CBS", sourceURL: nil)
        let stale = model.evaluate(happy, today: d("2025-06-01"), latest: obs(84, "2021-12-31"))
        #expect(stale.state == .unknown)
        #expect(stale.evidence.summary.contains("days ago; the cadence is 1 year"), "\(stale.evidence.summary)")
        readsWell(stale.evidence.summary)
        let binary = model.evaluate(permit, today: d("2023-12-30"), latest: obs(0, "2023-12-20"))
        #expect(binary.state == .atRisk)
        #expect(binary.evidence.summary.contains("not done with 1 day to go"), "\(binary.evidence.summary)")
        readsWell(binary.evidence.summary)
    }
}
