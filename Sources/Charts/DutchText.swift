import Plan
import Status

/// The words of the charts: Dutch, in the programme's terms, with a decimal comma.
///
/// Numbers are rounded as the status model's English texts round them (`fmtNum` in
/// `Status/StatusModel.swift`: whole numbers as they are, others to one decimal), but
/// written the Dutch way: `7,2`, not `7.2`. No thousands separator, as there.
public enum DutchText {
    /// `7,2`, `140`, `-0,5`.
    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return "?" }
        let tenths = Int((v * 10).rounded())
        let a = abs(tenths)
        let text = a % 10 == 0 ? "\(a / 10)" : "\(a / 10),\(a % 10)"
        return tenths < 0 ? "-" + text : text
    }

    /// A number with exactly `decimals` decimals (`6,80`), for axis ticks at a step below 1.
    public static func number(_ v: Double, decimals: Int) -> String {
        guard v.isFinite, decimals > 0 else { return number(v.rounded()) }
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let n = Int((v * Double(scale)).rounded())
        let a = abs(n), frac = String(a % scale)
        let text = "\(a / scale)," + String(repeating: "0", count: decimals - frac.count) + frac
        return n < 0 ? "-" + text : text
    }

    /// A number with its unit: `%` and `‰` attach (`82%`), words take a space (`6,9 cijfer`).
    public static func amount(_ v: Double, _ unit: String) -> String {
        number(v) + (unit.isEmpty || unit == "%" || unit == "‰" ? unit : " \(unit)")
    }

    /// A fraction as a whole percentage: `0.43` → `43 %`.
    public static func percent(_ f: Double) -> String {
        guard f.isFinite else { return "?" }
        return "\(Int((f * 100).rounded())) %"
    }

    /// The state in Dutch words.
    public static func state(_ s: ItemState) -> String {
        switch s {
        case .done: "gereed"
        case .notStarted: "nog niet begonnen"
        case .onTrack: "op koers"
        case .atRisk: "risico"
        case .lagging: "achter op schema"
        case .overdue: "over de einddatum"
        case .unknown: "onbekend (geen actuele gegevens)"
        }
    }

    /// A reference key of an indicator as a name: `nederland` → `Nederland`.
    public static func reference(_ key: String) -> String {
        switch key {
        case "nederland": "Nederland"
        case "heerlen": "Heerlen"
        case "heerlen-noord": "Heerlen-Noord"
        default: key
        }
    }

    /// The direction in words.
    public static func direction(_ d: Indicator.Direction) -> String {
        d == .higherIsBetter ? "hoger is beter" : "lager is beter"
    }

    static let months = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]

    /// `mrt 2024`.
    static func month(_ d: PlanDate) -> String {
        let c = d.components
        return "\(months[c.month - 1]) \(c.year)"
    }
}
