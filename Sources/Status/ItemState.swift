import Plan

/// The state of a milestone or indicator, as `docs/status-model.md` defines it.
public enum ItemState: String, Sendable, Codable, CaseIterable, Comparable {
    case done = "done"
    case notStarted = "not-started"
    case onTrack = "on-track"
    case atRisk = "at-risk"
    case lagging = "lagging"
    case overdue = "overdue"
    /// No data, data older than its cadence allows, or a silent theme service.
    case unknown = "unknown"

    /// How much attention a state asks for, for roll-ups (higher = worse). Unknown ranks
    /// above on-track and at-risk: missing data is never green.
    public var severity: Int {
        switch self {
        case .done: 0
        case .notStarted: 1
        case .onTrack: 2
        case .atRisk: 3
        case .unknown: 4
        case .lagging: 5
        case .overdue: 6
        }
    }

    public static func < (a: ItemState, b: ItemState) -> Bool { a.severity < b.severity }
}

/// Why an item has its state: the evidence, for a person and for alerts.
public struct Evidence: Sendable, Codable, Hashable {
    /// One sentence: "5 of 10 werksferen on 2024-03-31; 7.2 expected by today (behind by 22 %)".
    public var summary: String
    /// The last reported value and its date (`as_of`, or the end of a measurement's period).
    public var lastValue: Double?
    public var lastDate: PlanDate?
    /// Who reported it (the publisher) and when it was received.
    public var reportedBy: String?
    /// The value expected today on the plan's path.
    public var expected: Double?
    /// How far behind the path, as a fraction of the whole way (0.22 = 22 points behind).
    public var deviation: Double?
    /// Days since the last report's date.
    public var ageDays: Int?
    /// The forecast completion date at the reported pace, if there is a pace.
    public var forecast: PlanDate?

    public init(summary: String) { self.summary = summary }
}

/// An item's status: its state and the evidence behind it.
public struct ItemStatus: Sendable, Codable, Hashable {
    public var item: String
    public var state: ItemState
    public var evidence: Evidence
    /// Progress from baseline (0) to target (1), when there is data.
    public var progress: Double?

    public init(item: String, state: ItemState, evidence: Evidence, progress: Double?) {
        self.item = item; self.state = state; self.evidence = evidence; self.progress = progress
    }
}
