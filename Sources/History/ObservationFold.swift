import Plan
import Status

/// Per item, the first and the latest observation, folded report by report in the order
/// the reports arrived, by the status engine's rule: the latest has the latest date, and
/// of those the last received; the first the earliest date, and of those the first
/// received.
///
/// One rule for the places that fold in Swift: a replay as of a date (``StoreHistory``)
/// and each batch the aggregator commits (`ReportStore`, which merges the batch's fold
/// into its `items` table by the same rule in SQL).
public struct ObservationFold: Sendable {
    public private(set) var items: [String: (first: StatusModel.Observation, latest: StatusModel.Observation)] = [:]

    public init() {}

    /// The next report to arrive about `item`.
    public mutating func add(item: String, _ o: StatusModel.Observation) {
        guard var t = items[item] else { items[item] = (o, o); return }
        if o.date < t.first.date { t.first = o }
        if o.date >= t.latest.date { t.latest = o }
        items[item] = t
    }
}
