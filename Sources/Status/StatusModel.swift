import Plan

/// The rules that turn a plan item, its reports and a date into a state
/// (`docs/status-model.md`). Pure functions: the same inputs always give the same state.
public struct StatusModel: Sendable {
    /// How far behind the path (fraction of the whole way) a milestone may fall before
    /// it is lagging.
    public var lagTolerance = 0.15
    /// Once lagging, it stays lagging until it is within `lagTolerance - hysteresis`.
    public var hysteresis = 0.05
    /// A report is stale when older than its cadence times this.
    public var staleFactor = 1.5
    /// Indicators are published with a delay: stale after cadence times this.
    public var indicatorStaleFactor = 2.5
    /// A binary milestone is at risk in the last part of its window (fraction) if not done.
    public var binaryRiskWindow = 0.2

    public init() {}

    /// One reported value of an item.
    public struct Observation: Sendable, Hashable, Codable {
        public var value: Double
        /// `as_of` for milestones; the end of the period for indicators.
        public var date: PlanDate
        public var publisher: String
        public init(value: Double, date: PlanDate, publisher: String) {
            self.value = value
            self.date = date
            self.publisher = publisher
        }
    }

    // MARK: - Milestones

    /// The value expected on `date`: baseline before the start, then linear through the
    /// checkpoints to the target at the due date, the target after it.
    public func expected(_ m: Milestone, on date: PlanDate) -> Double {
        let points = [Checkpoint(date: m.start, value: m.baseline)] + m.checkpoints + [Checkpoint(date: m.due, value: m.target)]
        if date <= m.start { return m.baseline }
        if date >= m.due { return m.target }
        for (a, b) in zip(points, points.dropFirst()) where date <= b.date {
            let span = Double(a.date.days(to: b.date))
            guard span > 0 else { return b.value }
            return a.value + (b.value - a.value) * Double(a.date.days(to: date)) / span
        }
        return m.target
    }

    /// Progress as a fraction of the way from baseline to target.
    public func fraction(_ m: Milestone, _ v: Double) -> Double {
        let span = m.target - m.baseline
        return span == 0 ? 1 : (v - m.baseline) / span
    }

    /// The milestone's state on `today`.
    ///
    /// - Parameters:
    ///   - latest: the most recent observation with a date on or before `today`, if any.
    ///   - first: the earliest observation, for the pace.
    ///   - previous: the state at the last evaluation (for hysteresis).
    ///   - predecessors: the states of the milestones it depends on.
    ///   - themeSilent: whether the theme's service has gone silent.
    public func evaluate(_ m: Milestone, today: PlanDate, latest: Observation?, first: Observation? = nil,
                         previous: ItemState? = nil, predecessors: [String: ItemState] = [:],
                         themeSilent: Bool = false) -> ItemStatus {
        var ev = Evidence(summary: "")
        let expectedNow = expected(m, on: today)
        ev.expected = expectedNow
        if let latest {
            ev.lastValue = latest.value
            ev.lastDate = latest.date
            ev.reportedBy = latest.publisher
            ev.ageDays = latest.date.days(to: today)
        }
        let progress = latest.map { fraction(m, $0.value) }
        func status(_ s: ItemState, _ why: String) -> ItemStatus {
            ev.summary = why
            return ItemStatus(item: m.id, state: s, evidence: ev, progress: progress)
        }
        let unit = m.kind == .binary ? "" : " \(m.unit)"
        let valueText = latest.map { m.kind == .binary ? ($0.value >= 1 ? "done" : "not done") : "\(fmtNum($0.value)) of \(fmtNum(m.target))\(unit)" }

        // Done is done, whatever else holds.
        if let latest, fraction(m, latest.value) >= 1 {
            return status(.done, "\(valueText!) on \(latest.date), reported by \(latest.publisher)")
        }
        if themeSilent {
            return status(.unknown, "the \(latest?.publisher ?? "theme") service is silent; the last known value cannot be trusted as current")
        }
        if today < m.start && (latest.map { fraction(m, $0.value) <= 0 } ?? true) {
            return status(.notStarted, "starts \(m.start)")
        }
        if today > m.due {
            return status(.overdue, "due \(m.due), \(Durations.days(m.start.days(to: today) - m.start.days(to: m.due))) ago; " + (valueText.map { "last: \($0) on \(latest!.date)" } ?? "nothing reported"))
        }
        guard let latest, let progress else {
            return status(.unknown, "no report since the start on \(m.start); missing data is unknown, not on track")
        }
        let staleAfter = Int(Double(m.cadence.approximateDays) * staleFactor)
        let age = latest.date.days(to: today)
        if age > staleAfter {
            return status(.unknown, "last report \(Durations.days(age)) old (\(valueText!) on \(latest.date)); the cadence of \(m.cadence.spoken) allows \(Durations.days(staleAfter))")
        }
        let deviation = fraction(m, expectedNow) - progress
        ev.deviation = deviation
        // Forecast at the average pace since the first report (or since the start).
        if let forecast = forecast(m, latest: latest, first: first) { ev.forecast = forecast }
        if m.kind == .quantitative {
            let threshold = previous == .lagging ? lagTolerance - hysteresis : lagTolerance
            if deviation > threshold {
                return status(.lagging, "\(valueText!) on \(latest.date); \(fmtNum(expectedNow)) expected by today (behind by \(pct(deviation)))")
            }
        }
        let late = predecessors.filter { $0.value == .lagging || $0.value == .overdue || $0.value == .atRisk }.keys.sorted()
        if !late.isEmpty {
            return status(.atRisk, "depends on \(late.map { "`\($0)` (\(predecessors[$0]!.rawValue))" }.joined(separator: ", "))")
        }
        if m.kind == .binary {
            let window = Double(m.start.days(to: m.due))
            if window > 0 && Double(m.start.days(to: today)) / window >= 1 - binaryRiskWindow {
                return status(.atRisk, "not done with \(Durations.days(today.days(to: m.due))) to go (due \(m.due))")
            }
            return status(.onTrack, "not done yet; due \(m.due)")
        }
        if let f = ev.forecast, f > m.due {
            return status(.atRisk, "\(valueText!) on \(latest.date); at this pace done \(f), after the due date \(m.due)")
        } else if ev.forecast == nil && progress < 1 && m.start.days(to: latest.date) > 0 && fraction(m, latest.value) <= 0 {
            return status(.atRisk, "no progress since the start on \(m.start)")
        }
        return status(.onTrack, "\(valueText!) on \(latest.date); \(fmtNum(expectedNow)) expected by today")
    }

    /// When the target is reached at the average pace so far; nil without a pace.
    public func forecast(_ m: Milestone, latest: Observation, first: Observation?) -> PlanDate? {
        let origin = first.map { ($0.date, $0.value) } ?? (m.start, m.baseline)
        let (d0, v0) = latest.date > origin.0 ? origin : (m.start, m.baseline)
        let days = Double(d0.days(to: latest.date))
        guard days > 0 else { return nil }
        let pace = (latest.value - v0) / days
        let remaining = m.target - latest.value
        guard pace != 0, (remaining > 0) == (pace > 0) else { return nil }
        let more = remaining / pace
        guard more < 365 * 100 else { return nil }
        return latest.date.adding(days: Int(more.rounded(.up)))
    }

    /// The first date after `today` on which the milestone's state can change without
    /// a new report: the start, the due date, the day the data goes stale, or the day
    /// the rising path leaves the value behind by the tolerance. Nil when nothing can
    /// change it but a report.
    public func nextChange(_ m: Milestone, today: PlanDate, latest: Observation?, state: ItemState) -> PlanDate? {
        if state == .done { return nil }
        var candidates: [PlanDate] = [m.due.adding(days: 1)]
        if today < m.start { candidates.append(m.start) }
        if let latest {
            candidates.append(latest.date.adding(days: Int(Double(m.cadence.approximateDays) * staleFactor) + 1))
            if m.kind == .quantitative && state != .lagging {
                // The day the expected fraction exceeds the reported one by the tolerance.
                let goal = fraction(m, latest.value) + lagTolerance
                if goal < 1, let day = firstDay(from: today, to: m.due, where: { fraction(m, expected(m, on: $0)) > goal }) {
                    candidates.append(day)
                }
            }
        } else if today <= m.start {
            candidates.append(m.start.adding(days: 1))
        }
        if m.kind == .binary {
            let window = m.start.days(to: m.due)
            candidates.append(m.start.adding(days: Int((Double(window) * (1 - binaryRiskWindow)).rounded(.up))))
        }
        return candidates.filter { $0 > today }.min()
    }

    /// The first day in (from, to] for which `condition` holds, by bisection (the
    /// conditions used are monotonic).
    func firstDay(from: PlanDate, to: PlanDate, where condition: (PlanDate) -> Bool) -> PlanDate? {
        guard to > from, condition(to) else { return nil }
        var lo = from.daysSinceEpoch, hi = to.daysSinceEpoch
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if condition(PlanDate(daysSinceEpoch: mid)) { hi = mid } else { lo = mid }
        }
        return PlanDate(daysSinceEpoch: hi)
    }

    // MARK: - Indicators

    /// The value expected on `date` on the straight path from the baseline (end of its
    /// year) to the target (end of its year).
    public func expected(_ x: Indicator, on date: PlanDate) -> Double {
        let start = PlanDate(year: x.baselineYear, month: 12, day: 31)!, end = PlanDate(year: x.targetYear, month: 12, day: 31)!
        if date <= start { return x.baseline }
        if date >= end { return x.target }
        return x.baseline + (x.target - x.baseline) * Double(start.days(to: date)) / Double(start.days(to: end))
    }

    /// The indicator's state on `today` from its latest measurement.
    public func evaluate(_ x: Indicator, today: PlanDate, latest: Observation?, previous: ItemState? = nil, themeSilent: Bool = false) -> ItemStatus {
        var ev = Evidence(summary: "")
        func status(_ s: ItemState, _ why: String, _ progress: Double? = nil) -> ItemStatus {
            ev.summary = why
            return ItemStatus(item: x.id, state: s, evidence: ev, progress: progress)
        }
        let baselineEnd = PlanDate(year: x.baselineYear, month: 12, day: 31)!
        let staleAfter = Int(Double(x.cadence.approximateDays) * indicatorStaleFactor)
        guard let latest else {
            if baselineEnd.days(to: today) > staleAfter {
                return status(.unknown, "no measurement since the baseline \(fmtNum(x.baseline))\(unitText(x.unit)) (\(x.baselineYear))")
            }
            return status(.onTrack, "baseline \(fmtNum(x.baseline))\(unitText(x.unit)) (\(x.baselineYear)); the next measurement is not due yet")
        }
        ev.lastValue = latest.value
        ev.lastDate = latest.date
        ev.reportedBy = latest.publisher
        ev.ageDays = latest.date.days(to: today)
        let span = x.target - x.baseline
        let progress = span == 0 ? 1 : (latest.value - x.baseline) / span
        let expectedThen = expected(x, on: latest.date)
        ev.expected = expectedThen
        let deviation = span == 0 ? 0 : (expectedThen - latest.value) / span
        ev.deviation = deviation
        let refText = x.references["nederland"].map { "; Nederland \(fmtNum($0))\(unitText(x.unit))" } ?? ""
        if progress >= 1 { return status(.done, "\(fmtNum(latest.value))\(unitText(x.unit)) (to \(latest.date)) reaches the target \(fmtNum(x.target))\(unitText(x.unit))\(refText)", progress) }
        if themeSilent { return status(.unknown, "the \(latest.publisher) service is silent", progress) }
        if latest.date.days(to: today) > staleAfter {
            return status(.unknown, "the last measurement covers up to \(latest.date), \(Durations.days(latest.date.days(to: today))) ago; the cadence is \(x.cadence.spoken)", progress)
        }
        let threshold = previous == .lagging ? lagTolerance - hysteresis : lagTolerance
        if deviation > threshold {
            return status(.lagging, "\(fmtNum(latest.value))\(unitText(x.unit)) (to \(latest.date)); \(fmtNum(expectedThen))\(unitText(x.unit)) expected on the path to \(fmtNum(x.target))\(unitText(x.unit)) by \(x.targetYear)\(refText)", progress)
        }
        if deviation > 0 {
            return status(.atRisk, "\(fmtNum(latest.value))\(unitText(x.unit)) (to \(latest.date)), below the path (\(fmtNum(expectedThen))\(unitText(x.unit)))\(refText)", progress)
        }
        return status(.onTrack, "\(fmtNum(latest.value))\(unitText(x.unit)) (to \(latest.date)), on the path to \(fmtNum(x.target))\(unitText(x.unit)) by \(x.targetYear)\(refText)", progress)
    }
}

/// A unit after a number: `%` and `‰` attach, words take a space (`6.9 cijfer`, `82%`).
func unitText(_ unit: String) -> String {
    unit.isEmpty || unit == "%" || unit == "‰" ? unit : " \(unit)"
}

func fmtNum(_ v: Double) -> String {
    if v.rounded() == v && abs(v) < 1e12 { return String(Int(v)) }
    return String((v * 10).rounded() / 10)
}

func pct(_ f: Double) -> String { "\(Int((f * 100).rounded())) %" }
