/// A calendar date without a time of day or a time zone, as plans speak of dates.
///
/// Stored as days since 1970-01-01 (proleptic Gregorian), so comparing and
/// subtracting dates is integer arithmetic.
public struct PlanDate: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// Days since 1970-01-01.
    public let daysSinceEpoch: Int

    /// The date `days` days after 1970-01-01.
    public init(daysSinceEpoch days: Int) { daysSinceEpoch = days }

    /// Milliseconds in a day: the one place this number is written.
    public static let millisecondsPerDay: Int64 = 86_400_000

    /// The date a moment falls on (UTC), from milliseconds since 1970.
    public init(epochMilliseconds ms: Int64) { daysSinceEpoch = Int(ms / Self.millisecondsPerDay) }

    /// The first millisecond of this date (UTC), since 1970.
    public var epochMilliseconds: Int64 { Int64(daysSinceEpoch) * Self.millisecondsPerDay }

    /// The date with the given year, month (1–12) and day (1–31); nil when no such date exists.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= PlanDate.daysIn(month: month, year: year) else { return nil }
        daysSinceEpoch = PlanDate.daysFromCivil(year, month, day)
    }

    /// Parses `YYYY-MM-DD`; nil when the text is not a real date in that form.
    public init?(iso text: String) {
        // Byte by byte: dates are parsed per report and per stored row.
        var text = text
        let parsed: (Int, Int, Int)? = text.withUTF8 { b in
            guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
            func digits(_ range: Range<Int>) -> Int? {
                var n = 0
                for i in range {
                    let d = Int(b[i]) - 48
                    guard d >= 0, d <= 9 else { return nil }
                    n = n * 10 + d
                }
                return n
            }
            guard let y = digits(0..<4), let m = digits(5..<7), let d = digits(8..<10) else { return nil }
            return (y, m, d)
        }
        guard let (y, m, d) = parsed else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// (year, month, day).
    public var components: (year: Int, month: Int, day: Int) { PlanDate.civilFromDays(daysSinceEpoch) }

    /// The year.
    public var year: Int { components.year }

    /// `YYYY-MM-DD`.
    public var iso: String {
        let c = components
        guard (0...9999).contains(c.year) else {
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
            return "\(c.year)-\(two(c.month))-\(two(c.day))"
        }
        // Ten ASCII bytes, written directly: this runs for every report stored.
        return String(unsafeUninitializedCapacity: 10) { b in
            let y = c.year
            b[0] = UInt8(48 + y / 1000); b[1] = UInt8(48 + y / 100 % 10); b[2] = UInt8(48 + y / 10 % 10); b[3] = UInt8(48 + y % 10)
            b[4] = UInt8(ascii: "-"); b[5] = UInt8(48 + c.month / 10); b[6] = UInt8(48 + c.month % 10)
            b[7] = UInt8(ascii: "-"); b[8] = UInt8(48 + c.day / 10); b[9] = UInt8(48 + c.day % 10)
            return 10
        }
    }

    public var description: String { iso }

    public static func < (a: PlanDate, b: PlanDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    /// The date `n` days later (earlier when negative).
    public func adding(days n: Int) -> PlanDate { PlanDate(daysSinceEpoch: daysSinceEpoch + n) }

    /// The date `n` months later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb).
    public func adding(months n: Int) -> PlanDate {
        let c = components
        let total = c.year * 12 + (c.month - 1) + n
        let y = total >= 0 ? total / 12 : (total - 11) / 12
        let m = total - y * 12 + 1
        return PlanDate(year: y, month: m, day: min(c.day, PlanDate.daysIn(month: m, year: y)))!
    }

    /// Days from `self` to `other` (positive when `other` is later).
    public func days(to other: PlanDate) -> Int { other.daysSinceEpoch - daysSinceEpoch }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let d = PlanDate(iso: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a YYYY-MM-DD date: \(text)"))
        }
        self = d
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(iso)
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// How often something is expected: an ISO 8601 duration of days, weeks, months or
/// years (`P1D`, `P2W`, `P1M`, `P3M`, `P1Y`).
public struct Cadence: Hashable, Sendable, CustomStringConvertible {
    /// The unit of a cadence.
    public enum Unit: String, Sendable { case day = "D", week = "W", month = "M", year = "Y" }
    /// How many units.
    public let count: Int
    /// The unit.
    public let unit: Unit

    /// A cadence of `count` units; `count` must be positive and at most ``longest(_:)``.
    public init?(count: Int, unit: Unit) {
        guard count > 0, count <= Cadence.longest(unit) else { return nil }
        self.count = count
        self.unit = unit
    }

    /// The most units a cadence may have: a hundred years in each unit. No cadence of a
    /// plan is longer, and the day arithmetic of the status model (``approximateDays``,
    /// ``after(_:)``, heartbeats in milliseconds) would overflow on one of 10^17 years.
    public static func longest(_ unit: Unit) -> Int {
        switch unit {
        case .day: 36_525
        case .week: 5_218
        case .month: 1_200
        case .year: 100
        }
    }

    /// Parses `PnD`, `PnW`, `PnM` or `PnY`; nil when longer than ``longest(_:)``.
    public init?(iso text: String) {
        guard let (n, u) = Cadence.parts(text) else { return nil }
        self.init(count: n, unit: u)
    }

    /// Whether `text` has the form of a cadence but is longer than ``longest(_:)``.
    public static func isTooLong(iso text: String) -> Bool {
        guard let (n, u) = parts(text) else { return false }
        return n > longest(u)
    }

    private static func parts(_ text: String) -> (Int, Unit)? {
        guard text.count >= 3, text.first == "P", let u = text.last.flatMap({ Unit(rawValue: String($0)) }),
              let n = Int(text.dropFirst().dropLast()), n > 0 else { return nil }
        return (n, u)
    }

    /// The date one cadence after `date`.
    public func after(_ date: PlanDate) -> PlanDate {
        switch unit {
        case .day: date.adding(days: count)
        case .week: date.adding(days: 7 * count)
        case .month: date.adding(months: count)
        case .year: date.adding(months: 12 * count)
        }
    }

    /// The cadence's nominal length in days (a month is 30, a year 365).
    public var approximateDays: Int {
        switch unit {
        case .day: count
        case .week: 7 * count
        case .month: 30 * count
        case .year: 365 * count
        }
    }

    public var description: String { "P\(count)\(unit.rawValue)" }
}
