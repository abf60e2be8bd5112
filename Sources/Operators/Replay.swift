import Aggregator
import Foundation
import Plan
import Status

/// Recomputes the status from stored history, as of a date: the reports about dates up
/// to then, evaluated on that date. Deterministic, and independent of a running aggregator.
public enum Replay {
    public static func status(store: ReportStore, plan: Plan, asOf date: PlanDate) throws -> StreamDocuments.Snapshot {
        let engine = StatusEngine(plan: plan.asOf(date), today: date, observations: try store.itemObservations(asOf: date.iso))
        var alerts = AlertEngine(plan: plan)
        alerts.pendingDays = [.critical: 0, .warning: 0, .info: 0]
        let changes = engine.allStatuses.sorted { $0.item < $1.item }.map { StatusEngine.Change(item: $0.item, from: nil, to: $0) }
        _ = alerts.itemsChanged(changes, engine: engine)
        _ = alerts.daily(engine: engine)
        let rollups = engine.rolledUp.keys.sorted().compactMap { node -> StreamDocuments.Rollup? in
            guard let s = engine.summary(of: node) else { return nil }
            return StreamDocuments.Rollup(node: node, state: s.state, counts: Dictionary(uniqueKeysWithValues: s.counts.map { ($0.key.rawValue, $0.value) }))
        }
        return StreamDocuments.Snapshot(sequence: 0, date: date, planVersion: plan.asOf(date).version,
                                        items: engine.allStatuses.sorted { $0.item < $1.item }, rollups: rollups,
                                        alerts: alerts.openAlerts.sorted { $0.key < $1.key }, silentThemes: [])
    }
}
