import Plan
import Status

extension Chart {
    /// A bar for a table cell: progress (0 → 1 of the way from baseline to target) as a
    /// filled bar, the expected progress today as a tick across it, and the percentage
    /// and a state mark in text beside it, so the state is not told by colour alone.
    /// `id` (the item's id) makes the title's and desc's ids.
    public static func progressBar(progress: Double?, expected: Double?, state: ItemState?, id: String,
                                   width: Double = 160, height: Double = 16) -> String {
        let bar = max(20, width - 60), inner = height - 4
        var words = [progress.map { "voortgang \(DutchText.percent($0))" } ?? "geen voortgang gerapporteerd"]
        if let expected { words.append("verwacht \(DutchText.percent(expected))") }
        if let state { words.append("status: \(DutchText.state(state))") }
        let desc = words.joined(separator: "; ")
        var out = SVG.open(id: id, kind: "progress", width: width, height: height, title: "Voortgang \(id)",
                           desc: desc.prefix(1).uppercased() + desc.dropFirst(),
                           extraClass: state.map { "koers-state-\($0.rawValue)" } ?? "")
        out += SVG.rect(0.5, 2, bar, inner, "koers-track") + "\n"
        if let progress { out += SVG.rect(0.5, 2, bar * min(1, max(0, progress)), inner, "koers-progress") + "\n" }
        if let expected {
            let x = 0.5 + bar * min(1, max(0, expected))
            out += SVG.line(x, 0, x, height, "koers-expected") + "\n"
        }
        let label = (progress.map { DutchText.percent($0) } ?? "–") + (state.map { " " + stateMark($0) } ?? "")
        out += SVG.text(bar + 6, height / 2 + 4, label, cls: "koers-label koers-tick") + "\n"
        return out + "</svg>\n"
    }

    /// A one-character mark per state, beside the bar: words in a table say the rest.
    public static func stateMark(_ s: ItemState) -> String {
        switch s {
        case .done: "✓"
        case .notStarted: "○"
        case .onTrack: "="
        case .atRisk: "!"
        case .lagging: "▼"
        case .overdue: "‼"
        case .unknown: "?"
        }
    }

    /// A sparkline of a quantitative milestone for small multiples: the planned path and
    /// the reported values (the same geometry as `milestone`, without axes or legend),
    /// the latest value as a circle and today as a dotted line.
    public static func sparkline(_ input: MilestoneChartInput, width: Double = 120, height: Double = 32) -> String {
        var small = input
        small.size = ChartSize(width: width, height: height)
        let g = sparkGeometry(small), m = input.milestone
        var out = SVG.open(id: m.id, kind: "sparkline", width: width, height: height,
                           title: "Mijlpaal: \(m.name)", desc: milestoneDescription(input))
        out += SVG.line(g.todayX, 1, g.todayX, height - 1, "koers-today") + "\n"
        out += "<path class=\"koers-path\" d=\"\(SVG.path(g.planned.map { ($0.x, $0.y) }))\"/>\n"
        if g.reported.count > 1 { out += "<polyline class=\"koers-reported-line\" points=\"\(SVG.points(g.reported.map { ($0.x, $0.y) }))\"/>\n" }
        if let last = g.reported.last { out += SVG.circle(last.x, last.y, 2.5, "koers-reported") + "\n" }
        return out + "</svg>\n"
    }

    /// The milestone geometry fitted to the whole of a small box (no margins, no legend).
    static func sparkGeometry(_ input: MilestoneChartInput) -> MilestoneGeometry {
        var g = milestoneGeometry(input)
        let f = g.frame
        let fitted = Frame(left: 3, top: 3, width: input.size.width - 6, height: input.size.height - 6,
                           firstDate: f.firstDate, lastDate: f.lastDate, low: f.low, high: f.high)
        func refit(_ p: [PlotPoint]) -> [PlotPoint] { p.map { fitted.point($0.date, $0.value) } }
        g.frame = fitted
        g.planned = refit(g.planned); g.reported = refit(g.reported)
        g.todayX = fitted.x(input.asOf); g.dueX = fitted.x(input.milestone.due)
        return g
    }
}
