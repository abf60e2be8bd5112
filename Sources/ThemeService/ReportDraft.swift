import Plan
import Wire

/// A report as a team makes it, before it is checked, numbered and queued.
public enum ReportDraft: Sendable, Hashable {
    /// A milestone's value on a date.
    case milestone(item: String, value: Double, asOf: PlanDate, note: String?, unit: String?)
    /// An indicator's value for a period.
    case indicator(item: String, value: Double, periodStart: PlanDate, periodEnd: PlanDate, note: String?, unit: String?)

    /// The item the report is about.
    public var item: String {
        switch self {
        case .milestone(let i, _, _, _, _), .indicator(let i, _, _, _, _, _): i
        }
    }

    /// The wire payload for a theme, stamped with when and by whom it was reported.
    public func payload(theme: String, reportedAt: Int64, reporter: String?) -> Payload {
        switch self {
        case .milestone(let item, let value, let asOf, let note, _):
            .milestoneProgress(MilestoneProgress(theme: theme, item: item, value: value, asOf: asOf, reportedAt: reportedAt,
                                                 note: note, reporter: reporter))
        case .indicator(let item, let value, let start, let end, let note, _):
            .indicatorMeasurement(IndicatorMeasurement(theme: theme, item: item, value: value, periodStart: start, periodEnd: end,
                                                       reportedAt: reportedAt, note: note, reporter: reporter))
        }
    }
}

/// A report the kit refused before queueing it, with what to do about it.
public struct ReportError: Error, Sendable, CustomStringConvertible {
    /// The protocol reason, when the refusal is one the aggregator would also make.
    public var code: ReasonCode?
    /// A sentence for a person.
    public var message: String
    /// The CSV row (1-based, header = 1), for imports.
    public var row: Int?

    public init(code: ReasonCode? = nil, message: String, row: Int? = nil) {
        self.code = code
        self.message = message
        self.row = row
    }

    public var description: String { row.map { "row \($0): \(message)" } ?? message }
}
