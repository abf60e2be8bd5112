import Plan
import Status

extension StreamDocuments.Snapshot {
    /// The status as of a date, recomputed from stored observations: the reports about
    /// dates up to then, evaluated on that date, with every alert rule applied at once
    /// (no pending days). Deterministic, and independent of a running aggregator: the
    /// one replay behind `koers status --as-of`, `koers replay` and the HTTP API's
    /// `GET /api/v1/status?as_of=`.
    ///
    /// - Parameter observations: per item, the first and latest observation up to
    ///   `date` (`History.StoreHistory.itemObservations(asOf:)`).
    public init(replaying plan: Plan, asOf date: PlanDate,
                observations: [String: (first: StatusModel.Observation, latest: StatusModel.Observation)]) {
        let engine = StatusEngine(plan: plan.asOf(date), today: date, observations: observations)
        var alerts = AlertEngine(plan: plan)
        alerts.pendingDays = [.critical: 0, .warning: 0, .info: 0]
        let changes = engine.allStatuses.sorted { $0.item < $1.item }.map { StatusEngine.Change(item: $0.item, from: nil, to: $0) }
        _ = alerts.itemsChanged(changes, engine: engine)
        _ = alerts.daily(engine: engine)
        self.init(engine: engine, alerts: alerts.openAlerts, sequence: 0)
    }
}
