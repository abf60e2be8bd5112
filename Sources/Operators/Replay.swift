import Foundation
import History
import Plan
import Status
import StreamProtocol

/// Recomputes the status from stored history, as of a date: the reports about dates up
/// to then, evaluated on that date. Deterministic, and independent of a running aggregator.
public enum Replay {
    public static func status(history: StoreHistory, plan: Plan, asOf date: PlanDate) throws -> StreamDocuments.Snapshot {
        let engine = StatusEngine(plan: plan.asOf(date), today: date, observations: try history.itemObservations(asOf: date))
        var alerts = AlertEngine(plan: plan)
        alerts.pendingDays = [.critical: 0, .warning: 0, .info: 0]
        let changes = engine.allStatuses.sorted { $0.item < $1.item }.map { StatusEngine.Change(item: $0.item, from: nil, to: $0) }
        _ = alerts.itemsChanged(changes, engine: engine)
        _ = alerts.daily(engine: engine)
        return StreamDocuments.Snapshot(engine: engine, alerts: alerts.openAlerts, sequence: 0)
    }
}
