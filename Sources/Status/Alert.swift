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
public struct Alert: Sendable, Hashable {
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
    public var acknowledgement: Acknowledgement? {
        get { rare?.acknowledgement }
        set { rare = Rare.make(newValue, rare?.resolvedBy) }
    }
    /// The evidence, as the status model gives it.
    public var evidence: Evidence
    /// The owning organisation and the areas, from the plan.
    public var owner: String?
    public var areas: [String]
    public var ruleVersion: Int
    /// Set once resolved: what closed it (the report that cleared the condition, or the
    /// date it stopped holding). The evidence then is the evidence at resolution too,
    /// not the evidence from when it fired.
    public var resolvedBy: Resolution? {
        get { rare?.resolvedBy }
        set { rare = Rare.make(rare?.acknowledgement, newValue) }
    }
    /// The acknowledgement and the resolution, behind one reference: nil for almost every
    /// open alert, and inline they took 112 of an alert's 360 bytes (a large plan's first
    /// start holds 100,000 open alerts in ``AlertEngine``'s slots).
    private var rare: Rare?

    /// An alert with every member given (the store's reader of open alerts builds them so).
    public init(key: String, rule: String, subject: String, theme: String?, severity: Severity, state: AlertState, since: PlanDate,
                acknowledgement: Acknowledgement?, evidence: Evidence, owner: String?, areas: [String], ruleVersion: Int,
                resolvedBy: Resolution? = nil) {
        self.key = key; self.rule = rule; self.subject = subject; self.theme = theme; self.severity = severity; self.state = state
        self.since = since; self.evidence = evidence; self.owner = owner; self.areas = areas
        self.ruleVersion = ruleVersion; rare = Rare.make(acknowledgement, resolvedBy)
    }

    /// What few alerts have; immutable, so copies of an alert may share it (a change
    /// makes a new one).
    final class Rare: Sendable, Hashable {
        let acknowledgement: Acknowledgement?
        let resolvedBy: Resolution?
        private init(_ a: Acknowledgement?, _ r: Resolution?) { acknowledgement = a; resolvedBy = r }
        /// Nil when there is neither, so that alerts equal by value are equal here too.
        static func make(_ a: Acknowledgement?, _ r: Resolution?) -> Rare? { a == nil && r == nil ? nil : Rare(a, r) }
        static func == (x: Rare, y: Rare) -> Bool { x.acknowledgement == y.acknowledgement && x.resolvedBy == y.resolvedBy }
        func hash(into h: inout Hasher) { h.combine(acknowledgement); h.combine(resolvedBy) }
    }
}

extension Alert: Codable {
    /// The members as the synthesized conformance had them, in its order, synthesized
    /// here too: `JSONEncoder` writes an alert as it did before the box (the
    /// acknowledgement and the resolution only when there is one).
    private struct Members: Codable {
        var key, rule, subject: String
        var theme: String?
        var severity: Severity
        var state: AlertState
        var since: PlanDate
        var acknowledgement: Acknowledgement?
        var evidence: Evidence
        var owner: String?
        var areas: [String]
        var ruleVersion: Int
        var resolvedBy: Resolution?
    }

    public init(from decoder: any Decoder) throws {
        let m = try Members(from: decoder)
        self.init(key: m.key, rule: m.rule, subject: m.subject, theme: m.theme, severity: m.severity, state: m.state, since: m.since,
                  acknowledgement: m.acknowledgement, evidence: m.evidence, owner: m.owner, areas: m.areas, ruleVersion: m.ruleVersion,
                  resolvedBy: m.resolvedBy)
    }

    public func encode(to encoder: any Encoder) throws {
        try Members(key: key, rule: rule, subject: subject, theme: theme, severity: severity, state: state, since: since,
                    acknowledgement: acknowledgement, evidence: evidence, owner: owner, areas: areas, ruleVersion: ruleVersion,
                    resolvedBy: resolvedBy).encode(to: encoder)
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
