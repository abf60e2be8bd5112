import Plan
import Status

/// What an indicator chart needs: the indicator, its measurements (each dated at the end
/// of the period it covers, as the status model compares them), and the peildatum.
public struct IndicatorChartInput: Sendable {
    public var indicator: Indicator
    public var observations: [(date: PlanDate, value: Double)]
    public var asOf: PlanDate
    public var state: ItemState?
    /// The name of the goal (doel) the indicator measures, for the description.
    public var goal: String?
    public var size: ChartSize
    public var model: StatusModel

    public init(indicator: Indicator, observations: [(date: PlanDate, value: Double)], asOf: PlanDate,
                state: ItemState? = nil, goal: String? = nil, size: ChartSize = .standard, model: StatusModel = StatusModel()) {
        self.indicator = indicator; self.observations = observations; self.asOf = asOf
        self.state = state; self.goal = goal; self.size = size; self.model = model
    }

    var visible: [(date: PlanDate, value: Double)] {
        observations.enumerated().filter { $0.element.date <= asOf }
            .sorted { ($0.element.date, $0.offset) < ($1.element.date, $1.offset) }.map(\.element)
    }

    var baselineEnd: PlanDate { PlanDate(year: indicator.baselineYear, month: 12, day: 31)! }
    var targetEnd: PlanDate { PlanDate(year: indicator.targetYear, month: 12, day: 31)! }

    /// The reference figures, Nederland first, then Heerlen-Noord, Heerlen, the rest by name.
    var references: [(key: String, value: Double)] {
        let order = ["nederland": 0, "heerlen-noord": 1, "heerlen": 2]
        return indicator.references.sorted { (order[$0.key] ?? 9, $0.key) < (order[$1.key] ?? 9, $1.key) }
            .map { ($0.key, $0.value) }
    }
}

/// The computed geometry of an indicator chart.
public struct IndicatorGeometry: Sendable {
    public var frame: Frame
    /// The straight path from the baseline to the target, sampled with `StatusModel.expected(_:on:)`.
    public var planned: [PlotPoint]
    public var bandUpper: [PlotPoint]
    public var bandLower: [PlotPoint]
    public var measured: [PlotPoint]
    /// Each reference figure's line: its key, value and y.
    public var references: [(key: String, value: Double, y: Double)]
    public var todayX: Double
}

extension Chart {
    /// The labels in the right margin: each reference figure, and the target when no
    /// reference already says it.
    static func rightLabels(_ input: IndicatorChartInput) -> [(value: Double, text: String)] {
        let x = input.indicator
        var labels: [(value: Double, text: String)] = []
        var targetSaid = false
        for r in input.references {
            let isTarget = x.targetBasis == .nationalAverage && r.key == "nederland" && r.value == x.target
            targetSaid = targetSaid || isTarget
            labels.append((r.value, "\(DutchText.reference(r.key)) \(DutchText.amount(r.value, x.unit))" + (isTarget ? " = doel" : "")))
        }
        if !targetSaid { labels.append((x.target, "doel \(DutchText.amount(x.target, x.unit)) (\(x.targetYear))")) }
        return labels
    }

    public static func indicatorGeometry(_ input: IndicatorChartInput) -> IndicatorGeometry {
        let x = input.indicator, obs = input.visible, model = input.model
        let first = [input.baselineEnd, input.asOf, obs.first?.date ?? input.baselineEnd].min()!
        let rawLast = [input.targetEnd, input.asOf, obs.last?.date ?? input.targetEnd].max()!
        let last = rawLast.adding(days: max(7, first.days(to: rawLast) / 40))
        let (low, high, step) = Frame.valueDomain([x.baseline, x.target] + obs.map(\.value) + x.references.values)
        let labelWidth = min(180, max(60, rightLabels(input).map { SVG.textWidth($0.text) }.max() ?? 60))
        let rows = LegendItem.rows(indicatorLegend(input), width: input.size.width - 16)
        let frame = Frame(left: 56, top: 36, width: input.size.width - 56 - labelWidth - 12,
                          height: input.size.height - 36 - (30 + Double(rows) * 16),
                          firstDate: first, lastDate: last, low: low, high: high, step: step)
        var dates = Set([first, last, input.baselineEnd, input.targetEnd])
        for i in 0...48 { dates.insert(first.adding(days: first.days(to: last) * i / 48)) }
        let sorted = dates.sorted()
        let drop = model.lagTolerance * (x.target - x.baseline)
        let window = sorted.filter { $0 >= input.baselineEnd && $0 <= input.targetEnd }
        return IndicatorGeometry(
            frame: frame, planned: sorted.map { frame.point($0, model.expected(x, on: $0)) },
            bandUpper: window.map { frame.point($0, model.expected(x, on: $0)) },
            bandLower: window.map { frame.point($0, min(high, max(low, model.expected(x, on: $0) - drop))) },
            measured: obs.map { frame.point($0.date, $0.value) },
            references: input.references.map { ($0.key, $0.value, frame.y($0.value)) }, todayX: frame.x(input.asOf))
    }

    static func indicatorLegend(_ input: IndicatorChartInput) -> [LegendItem] {
        let x = input.indicator
        return [
            LegendItem(marker: .line("koers-path"), text: "pad naar het doel in \(x.targetYear)"),
            LegendItem(marker: .circle("koers-reported"), text: input.visible.isEmpty ? "gemeten: nog geen meting" : "gemeten"),
            LegendItem(marker: .line("koers-reference"), text: "referentie"),
            LegendItem(marker: .swatch("koers-band"), text: "marge: tot \(DutchText.percent(input.model.lagTolerance)) achter het pad"),
        ]
    }

    /// The SVG of an indicator chart: Heerlen-Noord's path from the baseline to the
    /// target (the national average by the horizon), its measurements, and the reference
    /// figures as labelled lines.
    public static func indicator(_ input: IndicatorChartInput) -> String {
        let g = indicatorGeometry(input), f = g.frame, x = input.indicator
        var out = SVG.open(id: x.id, kind: "indicator", width: input.size.width, height: input.size.height,
                           title: "Indicator: \(x.name)", desc: indicatorDescription(input))
        let band = g.bandUpper.map { ($0.x, $0.y) } + g.bandLower.reversed().map { ($0.x, $0.y) }
        if !band.isEmpty { out += "<polygon class=\"koers-band\" points=\"\(SVG.points(band))\"/>\n" }
        out += f.axes()
        for r in g.references { out += SVG.line(f.left, r.y, f.right, r.y, "koers-reference") + "\n" }
        let labels = spread(rightLabels(input).map { (f.y($0.value), $0.text) }, top: f.top, bottom: f.bottom)
        for l in labels { out += SVG.text(f.right + 8, l.y + 4, l.text) + "\n" }
        out += "<path class=\"koers-path\" d=\"\(SVG.path(g.planned.map { ($0.x, $0.y) }))\"/>\n"
        if g.measured.count > 1 { out += "<polyline class=\"koers-reported-line\" points=\"\(SVG.points(g.measured.map { ($0.x, $0.y) }))\"/>\n" }
        out += g.measured.map { SVG.circle($0.x, $0.y, 3.5, "koers-reported") + "\n" }.joined()
        out += verticals(f, [(g.todayX, "koers-today", "vandaag \(input.asOf)")], width: input.size.width)
        out += unitCaption(f, "\(x.unit) (\(DutchText.direction(x.direction)))")
        out += LegendItem.render(indicatorLegend(input), x: 8, y: f.bottom + 38, width: input.size.width - 16).svg
        return out + "</svg>\n"
    }

    /// Labels at their y, pushed apart to at least 13 px and kept between top and bottom.
    static func spread(_ labels: [(y: Double, text: String)], top: Double, bottom: Double) -> [(y: Double, text: String)] {
        var sorted = labels.enumerated().sorted { ($0.element.y, $0.offset) < ($1.element.y, $1.offset) }.map(\.element)
        for i in sorted.indices.dropFirst() where sorted[i].y < sorted[i - 1].y + 13 { sorted[i].y = sorted[i - 1].y + 13 }
        if let last = sorted.last, last.y > bottom {
            let shift = last.y - bottom
            for i in sorted.indices { sorted[i].y -= shift }
        }
        for i in sorted.indices { sorted[i].y = max(top + 13 * Double(i), sorted[i].y) }
        return sorted
    }
}
