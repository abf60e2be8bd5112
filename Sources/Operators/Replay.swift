import Foundation
import History
import Plan
import Status
import StreamProtocol

/// Recomputes the status from stored history, as of a date: the reports about dates up
/// to then, evaluated on that date (``StreamDocuments/Snapshot/init(replaying:asOf:observations:)``).
public enum Replay {
    public static func status(history: StoreHistory, plan: Plan, asOf date: PlanDate) throws -> StreamDocuments.Snapshot {
        StreamDocuments.Snapshot(replaying: plan, asOf: date, observations: try history.itemObservations(asOf: date))
    }
}
