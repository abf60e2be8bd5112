import Foundation
import Plan
import Status
import StreamProtocol

/// The status and alert engines' own cost per report (`Sources/Status`), in this
/// process, without sockets, storage or threads: what each report costs the plan's
/// size, apart from the aggregator's fixed cost per batch.
enum EngineBench {
    /// Fixed dates, so that every run evaluates the same states.
    static let today = PlanDate(iso: "2026-11-29")!, asOf = PlanDate(iso: "2026-11-28")!

    struct Result {
        var seconds: Double
        var count: Int
        /// Status changes and alert transitions the reports caused.
        var events: Int
        /// Bytes of stream documents written for them (only when asked for).
        var bytes: Int
        var microsecondsPerReport: Double { seconds / Double(count) * 1e6 }
    }

    /// Builds fresh engines for the plan (untimed), then times `count` reports, each
    /// `StatusEngine.record` and `AlertEngine.itemsChanged` and `daily`, cycling over
    /// every milestone of the four themes with values as `Load.cycling` gives them.
    /// With `documents`, each change's stream document is encoded as well.
    static func run(plan: Plan, count: Int, documents: Bool = false) -> Result {
        let index = PlanIndex(plan)
        var engine = StatusEngine(index: index, today: today)
        var alerts = AlertEngine(index: index)
        _ = alerts.itemsChanged(engine.allStatuses.map { StatusEngine.Change(item: $0.item, from: nil, to: $0) }, engine: engine)
        let ms = AggregatorBench.milestones(of: plan)
        let all = AggregatorBench.themes.flatMap { theme in (ms[theme] ?? []).map { (theme: theme, milestone: $0) } }
        var events = 0, bytes = 0
        let start = ContinuousClock.now
        for i in 0..<count {
            let (theme, m) = all[i % all.count]
            let value = AggregatorBench.Load.value(m, report: i, of: all.count)
            let changes = engine.record(item: m.id, observation: .init(value: value, date: asOf, publisher: theme))
            let transitions = alerts.itemsChanged(changes, engine: engine) + alerts.daily(engine: engine)
            events += changes.count + transitions.count
            guard documents else { continue }
            for c in changes {
                bytes += StreamDocuments.encode(StreamDocuments.StatusChange(sequence: 1, date: engine.today, item: c.item, from: c.from, to: c.to.state,
                                                                             why: c.to.evidence.summary, evidence: c.to.evidence, progress: c.to.progress)).utf8.count
            }
            for t in transitions {
                bytes += StreamDocuments.encode(StreamDocuments.AlertTransitionDocument(sequence: 1, date: t.date, key: t.key, from: t.from, to: t.to, alert: t.alert)).utf8.count
            }
        }
        let seconds = (ContinuousClock.now - start).seconds
        withExtendedLifetime((engine, alerts)) {}
        return Result(seconds: seconds, count: count, events: events, bytes: bytes)
    }
}
