import Plan
import Status

/// What a milestone chart needs: plain values a caller already has — the plan item, its
/// reported values (from the store's history, or a report's data), the as-of date and the
/// status model's forecast, if any.
public struct MilestoneChartInput: Sendable {
    public var milestone: Milestone
    /// Reported values. Those dated after `asOf` are not drawn (not yet reported then).
    public var observations: [(date: PlanDate, value: Double)]
    /// The peildatum: "today" of the chart. Never the wall clock.
    public var asOf: PlanDate
    /// The forecast completion (`Evidence.forecast`, `StatusModel.forecast`), if there is one.
    public var forecast: PlanDate?
    /// The item's state, for the description; the chart's look does not depend on it.
    public var state: ItemState?
    public var size: ChartSize
    /// The rules the path and the tolerance band come from.
    public var model: StatusModel

    public init(milestone: Milestone, observations: [(date: PlanDate, value: Double)], asOf: PlanDate,
                forecast: PlanDate? = nil, state: ItemState? = nil, size: ChartSize = .standard, model: StatusModel = StatusModel()) {
        self.milestone = milestone; self.observations = observations; self.asOf = asOf
        self.forecast = forecast; self.state = state; self.size = size; self.model = model
    }

    /// The observations on or before `asOf`, oldest first (ties keep their order).
    var visible: [(date: PlanDate, value: Double)] {
        observations.enumerated().filter { $0.element.date <= asOf }
            .sorted { ($0.element.date, $0.offset) < ($1.element.date, $1.offset) }.map(\.element)
    }
}

/// The computed geometry of a milestone chart, in plan terms and px: what is drawn, for
/// tests and for callers that want to draw it themselves.
public struct MilestoneGeometry: Sendable {
    public var frame: Frame
    /// The planned path, sampled with `StatusModel.expected(_:on:)`.
    public var planned: [PlotPoint]
    /// The tolerance band between start and due: on the path (upper) down to the value
    /// that is `lagTolerance` of the whole way behind it (lower), clamped to the plot.
    public var bandUpper: [PlotPoint]
    public var bandLower: [PlotPoint]
    public var checkpoints: [PlotPoint]
    public var reported: [PlotPoint]
    /// From the latest reported value to the target on the forecast date; empty without a forecast.
    public var forecast: [PlotPoint]
    public var dueX: Double
    public var todayX: Double
}

public enum Chart {
    /// Samples of the planned path: every point where it bends, and 48 even steps besides,
    /// so the chart follows `expected` even if the model's path stops being straight lines.
    static func sampleDates(_ m: Milestone, from first: PlanDate, to last: PlanDate) -> [PlanDate] {
        let span = first.days(to: last)
        var dates = Set([first, last, m.start, m.due] + m.checkpoints.map(\.date))
        for i in 0...48 { dates.insert(first.adding(days: span * i / 48)) }
        return dates.filter { $0 >= first && $0 <= last }.sorted()
    }

    /// The geometry of a quantitative milestone's chart.
    public static func milestoneGeometry(_ input: MilestoneChartInput) -> MilestoneGeometry {
        let m = input.milestone, obs = input.visible, model = input.model
        let first = [m.start, input.asOf, obs.first?.date ?? m.start].min()!
        let rawLast = [m.due, input.asOf, input.forecast ?? m.due, obs.last?.date ?? m.due].max()!
        let last = rawLast.adding(days: max(7, first.days(to: rawLast) / 25))
        let (low, high, step) = Frame.valueDomain([m.baseline, m.target] + obs.map(\.value))
        let rows = LegendItem.rows(milestoneLegend(input), width: input.size.width - 16)
        let frame = Frame(left: 56, top: 36, width: input.size.width - 56 - 16,
                          height: input.size.height - 36 - (30 + Double(rows) * 16),
                          firstDate: first, lastDate: last, low: low, high: high, step: step)
        let dates = sampleDates(m, from: first, to: last)
        let planned = dates.map { frame.point($0, model.expected(m, on: $0)) }
        let inWindow = dates.filter { $0 >= m.start && $0 <= m.due }
        let drop = model.lagTolerance * (m.target - m.baseline)
        let upper = inWindow.map { frame.point($0, model.expected(m, on: $0)) }
        let lower = inWindow.map { frame.point($0, min(high, max(low, model.expected(m, on: $0) - drop))) }
        var forecast: [PlotPoint] = []
        if let f = input.forecast, let latest = obs.last {
            forecast = [frame.point(latest.date, latest.value), frame.point(f, m.target)]
        }
        return MilestoneGeometry(frame: frame, planned: planned, bandUpper: upper, bandLower: lower,
                                 checkpoints: m.checkpoints.map { frame.point($0.date, $0.value) },
                                 reported: obs.map { frame.point($0.date, $0.value) }, forecast: forecast,
                                 dueX: frame.x(m.due), todayX: frame.x(input.asOf))
    }

    static func milestoneLegend(_ input: MilestoneChartInput) -> [LegendItem] {
        let m = input.milestone
        var items = [LegendItem(marker: .line("koers-path"), text: "gepland pad")]
        if !m.checkpoints.isEmpty { items.append(LegendItem(marker: .diamond("koers-checkpoint"), text: "tussendoel")) }
        items.append(LegendItem(marker: .circle("koers-reported"), text: input.visible.isEmpty ? "gerapporteerd: nog niets" : "gerapporteerd"))
        if let f = input.forecast, !input.visible.isEmpty {
            items.append(LegendItem(marker: .line("koers-forecast"), text: "prognose: gereed \(f)"))
        }
        items.append(LegendItem(marker: .swatch("koers-band"),
                                text: "marge: tot \(DutchText.percent(input.model.lagTolerance)) onder het pad"))
        return items
    }

    /// The SVG of a milestone chart: quantitative milestones as a path over time, binary
    /// ones as a timeline (`binaryTimeline`).
    public static func milestone(_ input: MilestoneChartInput) -> String {
        if input.milestone.kind == .binary { return binaryTimeline(input) }
        let g = milestoneGeometry(input), f = g.frame, m = input.milestone
        var out = SVG.open(id: m.id, kind: "milestone", width: input.size.width, height: input.size.height,
                           title: "Mijlpaal: \(m.name)", desc: milestoneDescription(input))
        let band = g.bandUpper.map { ($0.x, $0.y) } + g.bandLower.reversed().map { ($0.x, $0.y) }
        if !band.isEmpty { out += "<polygon class=\"koers-band\" points=\"\(SVG.points(band))\"/>\n" }
        out += f.axes()
        out += "<path class=\"koers-path\" d=\"\(SVG.path(g.planned.map { ($0.x, $0.y) }))\"/>\n"
        out += g.checkpoints.map { SVG.diamond($0.x, $0.y, 5, "koers-checkpoint") + "\n" }.joined()
        if g.forecast.count == 2 { out += "<path class=\"koers-forecast\" d=\"\(SVG.path(g.forecast.map { ($0.x, $0.y) }))\"/>\n" }
        if g.reported.count > 1 { out += "<polyline class=\"koers-reported-line\" points=\"\(SVG.points(g.reported.map { ($0.x, $0.y) }))\"/>\n" }
        out += g.reported.map { SVG.circle($0.x, $0.y, 3.5, "koers-reported") + "\n" }.joined()
        out += verticals(f, [(g.dueX, "koers-due", "einddatum \(m.due)"), (g.todayX, "koers-today", "vandaag \(input.asOf)")],
                         width: input.size.width)
        out += unitCaption(f, m.unit)
        out += LegendItem.render(milestoneLegend(input), x: 8, y: f.bottom + 38, width: input.size.width - 16).svg
        return out + "</svg>\n"
    }

    /// Vertical lines through the plot with their labels above it, in two lanes.
    static func verticals(_ f: Frame, _ lines: [(x: Double, cls: String, label: String)], width: Double) -> String {
        var out = ""
        for l in lines { out += SVG.line(l.x, f.top, l.x, f.bottom, l.cls) + "\n" }
        for p in TopLabels.place(lines.map { ($0.x, $0.label) }, width: width) {
            out += SVG.text(p.x, f.top - 8 - Double(p.lane) * 13, p.text) + "\n"
        }
        return out
    }

    /// The unit along the value axis, turned a quarter.
    static func unitCaption(_ f: Frame, _ unit: String) -> String {
        "<text class=\"koers-label\" transform=\"rotate(-90)\" x=\"\(SVG.coord(-(f.top + f.height / 2)))\" y=\"14\" "
            + "text-anchor=\"middle\">\(SVG.escape(unit))</text>\n"
    }
}
