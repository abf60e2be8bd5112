import Plan

/// How urgent an alert is.
public enum Severity: String, Sendable, Codable, Comparable, CaseIterable {
    case info, warning, critical
    var rank: Int { self == .info ? 0 : self == .warning ? 1 : 2 }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// Where an alert is in its lifecycle.
public enum AlertState: String, Sendable, Codable {
    /// The condition holds, not yet for long enough to fire.
    case pending
    /// The condition holds and operators are told.
    case firing
    /// An operator has taken it on (who, why, until when).
    case acknowledged
    /// It fired and resolved too often recently; transitions are held back until it settles.
    case flapping
    /// The condition no longer holds.
    case resolved
}

/// An operator's acknowledgement.
public struct Acknowledgement: Sendable, Codable, Hashable {
    public var by: String
    public var reason: String
    /// Until this date; nil means until the alert resolves.
    public var until: PlanDate?
    public init(by: String, reason: String, until: PlanDate?) { self.by = by; self.reason = reason; self.until = until }
}

/// An alert: a rule that holds for an item (or a theme, or a funding line).
public struct Alert: Sendable, Codable, Hashable {
    /// Stable identity: `RULE:SUBJECT`, e.g. `milestone-lagging:bvs-werksferen`.
    public var key: String
    public var rule: String
    /// The milestone, indicator, theme or funding line the alert is about.
    public var subject: String
    public var theme: String?
    public var severity: Severity
    public var state: AlertState
    /// When the current state began.
    public var since: PlanDate
    public var acknowledgement: Acknowledgement?
    /// The evidence, as the status model gives it.
    public var evidence: Evidence
    /// The owning organisation and the areas, from the plan.
    public var owner: String?
    public var areas: [String]
    public var ruleVersion: Int
    /// Set once resolved: what closed it (the report that cleared the condition, or the
    /// date it stopped holding). The evidence then is the evidence at resolution too,
    /// not the evidence from when it fired.
    public var resolvedBy: Resolution? = nil

    /// An alert with every member given (the store's reader of open alerts builds them so).
    public init(key: String, rule: String, subject: String, theme: String?, severity: Severity, state: AlertState, since: PlanDate,
                acknowledgement: Acknowledgement?, evidence: Evidence, owner: String?, areas: [String], ruleVersion: Int,
                resolvedBy: Resolution? = nil) {
        self.key = key; self.rule = rule; self.subject = subject; self.theme = theme; self.severity = severity; self.state = state
        self.since = since; self.acknowledgement = acknowledgement; self.evidence = evidence; self.owner = owner; self.areas = areas
        self.ruleVersion = ruleVersion; self.resolvedBy = resolvedBy
    }
}

/// What resolved an alert.
public struct Resolution: Sendable, Codable, Hashable {
    /// One sentence: "8 of 10 werksferen on 2024-09-30 (on-track), reported by work".
    public var summary: String
    /// The date the condition was found to no longer hold.
    public var on: PlanDate
    /// The report behind it, when there is one: its value, its date and who sent it.
    public var value: Double?
    public var asOf: PlanDate?
    public var reportedBy: String?
    public init(summary: String, on: PlanDate, value: Double? = nil, asOf: PlanDate? = nil, reportedBy: String? = nil) {
        self.summary = summary; self.on = on; self.value = value; self.asOf = asOf; self.reportedBy = reportedBy
    }
}

/// One numbered step in an alert's life.
public struct AlertTransition: Sendable, Codable, Hashable {
    public var key: String
    public var from: AlertState?
    public var to: AlertState
    public var date: PlanDate
    public var alert: Alert
}
