import Plan
import Status

extension Chart {
    /// A binary milestone (done or not) as a timeline: its window from start to due, the
    /// risk window at its end (the status model's `binaryRiskWindow`), the due date,
    /// today, and the date it was reported done, if it was. Takes the input's width and
    /// sets its own height: a timeline has no value axis to stretch.
    public static func binaryTimeline(_ input: MilestoneChartInput) -> String {
        let m = input.milestone, width = input.size.width
        let done = input.visible.first { input.model.fraction(m, $0.value) >= 1 }?.date
        let first = [m.start, input.asOf, done ?? m.start].min()!
        let rawLast = [m.due, input.asOf, done ?? m.due].max()!
        let legend = binaryLegend(input, done: done)
        let rows = LegendItem.rows(legend, width: width - 16)
        let f = Frame(left: 16, top: 36, width: width - 32, height: 24, firstDate: first,
                      lastDate: rawLast.adding(days: max(7, first.days(to: rawLast) / 25)), low: 0, high: 1)
        let height = f.bottom + 30 + Double(rows) * 16
        var out = SVG.open(id: m.id, kind: "milestone", width: width, height: height,
                           title: "Mijlpaal: \(m.name)", desc: binaryDescription(input, done: done), extraClass: "koers-binary")
        out += SVG.rect(f.x(m.start), f.top + 4, f.x(m.due) - f.x(m.start), 16, "koers-timeline") + "\n"
        let risk = riskStart(input)
        out += SVG.rect(f.x(risk), f.top + 4, f.x(m.due) - f.x(risk), 16, "koers-risk-window") + "\n"
        out += f.dateAxis()
        var lines: [(x: Double, cls: String, label: String)] = [
            (f.x(m.due), "koers-due", "einddatum \(m.due)"), (f.x(input.asOf), "koers-today", "vandaag \(input.asOf)"),
        ]
        if let done { lines.append((f.x(done), "koers-done-line", "gereed \(done)")) }
        out += verticals(f, lines, width: width)
        if let done { out += SVG.circle(f.x(done), f.top + 12, 5, "koers-done") + "\n" }
        out += LegendItem.render(legend, x: 8, y: f.bottom + 38, width: width - 16).svg
        return out + "</svg>\n"
    }

    static func binaryLegend(_ input: MilestoneChartInput, done: PlanDate?) -> [LegendItem] {
        var items = [
            LegendItem(marker: .swatch("koers-timeline"), text: "looptijd (start tot einddatum)"),
            LegendItem(marker: .swatch("koers-risk-window"),
                       text: "risicoperiode (laatste \(DutchText.percent(input.model.binaryRiskWindow)))"),
        ]
        items.append(done == nil ? LegendItem(marker: .vertical("koers-today"), text: "nog niet gereed")
                                 : LegendItem(marker: .circle("koers-done"), text: "gereed"))
        return items
    }
}
