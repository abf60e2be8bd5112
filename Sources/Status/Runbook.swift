import Plan

/// One alert rule: what it means and what an operator does about it. The one place the
/// rule → action mapping lives; `docs/operations.md` ("What each alert means and what
/// to do") is written from ``Runbook/markdownTable`` and a test keeps the two equal.
public struct AlertRule: Sendable, Hashable {
    /// The rule, the first half of an alert's key (`RULE:SUBJECT`).
    public var id: String
    /// What the subject is, as written in the key (`ID`, `FUNDING`, `THEME`).
    public var subject: String
    /// Its severity, in words.
    public var severity: String
    public var meaning: String
    /// What to do.
    public var action: String
}

/// The alert rules and what to do about each.
public enum Runbook {
    public static let rules: [AlertRule] = [
        AlertRule(id: "milestone-overdue", subject: "ID", severity: "critical",
                  meaning: "the due date passed and the milestone is not done",
                  action: "ask the owner (in the alert) for the new date; record it as a plan revision (`docs/plan-format.md`) so the change is visible"),
        AlertRule(id: "milestone-lagging", subject: "ID", severity: "warning",
                  meaning: "more than 15 points behind its path",
                  action: "read the evidence (last value, expected, age); acknowledge with the owner's plan, or re-plan"),
        AlertRule(id: "milestone-at-risk", subject: "ID", severity: "info",
                  meaning: "forecast after the due date, a predecessor slipping, or a binary milestone close to its date",
                  action: "a notice: check with the owner at the next review"),
        AlertRule(id: "indicator-lagging", subject: "ID", severity: "warning",
                  meaning: "a measured indicator is more than 15 % of its way behind its path to the national average",
                  action: "a matter for the theme's programme; acknowledge until the next measurement"),
        AlertRule(id: "data-missing", subject: "ID", severity: "warning",
                  meaning: "no report within 1.5 × the cadence (2.5 × for indicators), or none since the start",
                  action: "ask the theme team to report; `koers theme status` on their side shows what is pending"),
        AlertRule(id: "funding-expiring", subject: "FUNDING", severity: "warning, critical after the date",
                  meaning: "funding secured only until a date, with its continuation not done",
                  action: "escalate to the alliance; the securing milestone in the plan closes the alert"),
        AlertRule(id: "theme-silent", subject: "THEME", severity: "critical",
                  meaning: "no message from that theme service for longer than its heartbeat cadence (also when it never connected since the aggregator started); its items are unknown and their alerts held",
                  action: "the team's service is down or cut off: ask them to check `koers theme run` and its log; nothing is lost, its outbox resends on return"),
    ]

    /// A rule by id.
    public static func rule(_ id: String) -> AlertRule? { rules.first { $0.id == id } }

    /// What to do about an alert of this rule.
    public static func action(for rule: String) -> String {
        self.rule(rule)?.action ?? "unknown rule `\(rule)`: see docs/operations.md"
    }

    /// The runbook table of `docs/operations.md`, one row per rule.
    public static var markdownTable: String {
        (["| alert | meaning | what to do |", "|---|---|---|"]
            + rules.map { "| `\($0.id):\($0.subject)` (\($0.severity)) | \($0.meaning) | \($0.action) |" })
            .joined(separator: "\n")
    }
}

/// Checks of what an operator types, made before anything is sent.
public enum OperatorInput {
    /// A theme id, or the error to print: "no theme `wrk`; did you mean `work`?".
    public static func checkTheme(_ theme: String, in plan: Plan) -> String? {
        let ids = plan.themes.map(\.id)
        guard !ids.contains(theme) else { return nil }
        return "no theme `\(theme)`; " + (closest(theme, among: Set(ids)).map { "did you mean `\($0)`?" } ?? "the plan's themes are \(ids.joined(separator: ", "))")
    }

    /// An area id, or the error to print.
    public static func checkArea(_ area: String, in plan: Plan) -> String? {
        let ids = plan.areas.map(\.id)
        guard !ids.contains(area) else { return nil }
        return "no area `\(area)`; " + (closest(area, among: Set(ids)).map { "did you mean `\($0)`?" } ?? "the plan's areas are \(ids.joined(separator: ", "))")
    }

    /// The date of `koers ack --until`: YYYY-MM-DD, and not before `today` (the
    /// aggregator's date, from its snapshot: a demo or test clock need not be the wall clock).
    public static func ackUntil(_ text: String, today: PlanDate) -> Result<PlanDate, InputError> {
        guard let d = PlanDate(iso: text) else { return .failure(InputError(message: "--until must be YYYY-MM-DD, not `\(text)`")) }
        guard d >= today else {
            return .failure(InputError(message: "--until \(text) is in the past: the aggregator's date is \(today); give a date from \(today) on, or leave --until out to acknowledge until it resolves"))
        }
        return .success(d)
    }
}

/// Input an operator tool refuses before sending.
public struct InputError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
