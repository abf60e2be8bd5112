import Plan

/// Durations as a person says them in the texts operators read: "1 day", "45 days",
/// "1 month", "3 months", "more than 1 day" — never "1 days" or "P1D".
public enum Durations {
    /// A count of days: `1 day`, `2 days`, `0 days`.
    public static func days(_ n: Int) -> String { count(n, "day") }

    /// A plan cadence (`P1D`, `P2W`, `P3M`, `P1Y`) in words: `1 day`, `2 weeks`, `3 months`, `1 year`.
    public static func cadence(_ c: Cadence) -> String {
        switch c.unit {
        case .day: count(c.count, "day")
        case .week: count(c.count, "week")
        case .month: count(c.count, "month")
        case .year: count(c.count, "year")
        }
    }

    /// `n` and `unit`, plural unless `n` is 1 (or -1).
    static func count(_ n: Int, _ unit: String) -> String {
        abs(n) == 1 ? "\(n) \(unit)" : "\(n) \(unit)s"
    }
}

extension Cadence {
    /// The cadence in words: `1 day`, `3 months` (`description` stays the ISO 8601 form).
    public var spoken: String { Durations.cadence(self) }
}
