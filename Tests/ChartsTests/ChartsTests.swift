import Foundation
import Plan
import Status
import Testing
@testable import Charts

/// Every kind of chart, for the checks that hold for all of them.
func everyChart() -> [(name: String, svg: String)] {
    let notDone = MilestoneChartInput(milestone: milestone("doorstroom-vergunning"), observations: [(d("2023-03-31"), 0)],
                                      asOf: d("2023-05-01"))
    var done = notDone
    done.observations.append((d("2023-04-20"), 1))
    return [
        ("milestone", Chart.milestone(werksferenInput())),
        ("milestone-small", Chart.milestone(werksferenInput(size: ChartSize(width: 360, height: 240)))),
        ("milestone-empty", Chart.milestone(MilestoneChartInput(milestone: milestone("slakhorst-woningen"), observations: [], asOf: d("2022-03-01")))),
        ("binary-not-done", Chart.milestone(notDone)),
        ("binary-done", Chart.milestone(done)),
        ("indicator", Chart.indicator(gelukkigInput())),
        ("indicator-threshold", Chart.indicator(IndicatorChartInput(indicator: indicator("persoonlijk-welzijn"), observations: [], asOf: d("2024-01-01")))),
        ("sparkline", Chart.sparkline(werksferenInput())),
        ("progress", Chart.progressBar(progress: 0.5, expected: 0.72, state: .lagging, id: "bvs-werksferen")),
        ("progress-unknown", Chart.progressBar(progress: nil, expected: nil, state: nil, id: "x")),
    ]
}

@Suite("Charts")
struct ChartsTests {
    @Test("the same input gives the same bytes")
    func deterministic() {
        let a = everyChart(), b = everyChart()
        for (x, y) in zip(a, b) { #expect(x.svg == y.svg, "\(x.name)") }
    }

    @Test("the chart code reads no clock and draws no random numbers")
    func noClock() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/Charts")
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            for banned in ["Date()", "Date.now", ".random", "UUID", "import Foundation", "DispatchTime", "ContinuousClock"] {
                #expect(!text.contains(banned), "\(file) uses \(banned)")
            }
        }
    }

    @Test("every chart parses as XML and is an image with a Dutch title and description")
    func accessible() {
        for (name, svg) in everyChart() {
            let p = ParsedSVG.parse(svg)
            #expect(p.error == nil, "\(name): \(String(describing: p.error))")
            let root = p.elements.first
            #expect(root?.name == "svg", "\(name)")
            #expect(root?.attributes["role"] == "img", "\(name)")
            let title = p.first("title"), desc = p.first("desc")
            #expect(title != nil && desc != nil, "\(name)")
            #expect(root?.attributes["aria-labelledby"] == "\(title?.attributes["id"] ?? "?") \(desc?.attributes["id"] ?? "?")", "\(name)")
            #expect(p.first("style") != nil, "\(name)")
            let words = ["Mijlpaal", "Indicator", "Voortgang", "voortgang", "Geen", "geen"]
            #expect(words.contains { (desc?.text ?? "").contains($0) }, "\(name): \(desc?.text ?? "")")
        }
    }

    @Test("ids come from the item id")
    func ids() {
        let p = ParsedSVG.parse(Chart.milestone(werksferenInput()))
        #expect(p.first("title")?.attributes["id"] == "koers-milestone-bvs-werksferen-title")
        #expect(p.first("desc")?.attributes["id"] == "koers-milestone-bvs-werksferen-desc")
    }

    @Test("the drawn path is StatusModel.expected at every sampled date")
    func pathMatchesModel() {
        let input = werksferenInput(), model = StatusModel(), m = input.milestone
        let g = Chart.milestoneGeometry(input)
        for p in g.planned { #expect(p.value == model.expected(m, on: p.date), "\(p.date)") }
        // Where the path bends, it is sampled.
        for c in m.checkpoints { #expect(g.planned.contains { $0.date == c.date && $0.value == c.value }) }
        #expect(g.planned.contains { $0.date == m.start && $0.value == m.baseline })
        #expect(g.planned.contains { $0.date == m.due && $0.value == m.target })
        // The SVG's path, read back and mapped to dates and values, is the model's path.
        let drawn = ParsedSVG.parse(Chart.milestone(input)).first("path", class: "koers-path")!.attributes["d"]!
        let points = pathPoints(drawn)
        #expect(points.count == g.planned.count)
        let f = g.frame
        let dayPerPx = Double(f.firstDate.days(to: f.lastDate)) / f.width, valuePerPx = (f.high - f.low) / f.height
        for (pt, planned) in zip(points, g.planned) {
            let day = f.firstDate.adding(days: Int(((pt.x - f.left) * dayPerPx).rounded()))
            #expect(abs(day.days(to: planned.date)) <= Int((0.05 * dayPerPx).rounded(.up)))
            let value = f.low + (f.bottom - pt.y) * valuePerPx
            #expect(abs(value - model.expected(m, on: planned.date)) <= 0.05 * valuePerPx + 1e-9, "\(planned.date)")
        }
    }

    @Test("the indicator's path is StatusModel.expected, and reference lines sit at their values")
    func indicatorPath() {
        let input = gelukkigInput(), x = input.indicator
        let g = Chart.indicatorGeometry(input)
        for p in g.planned { #expect(p.value == StatusModel().expected(x, on: p.date)) }
        #expect(g.references.map(\.key) == ["nederland", "heerlen"])
        for r in g.references { #expect(r.y == g.frame.y(r.value)) }
    }

    @Test("the tolerance band runs from the path down by the status model's tolerance")
    func band() {
        let input = werksferenInput(), g = Chart.milestoneGeometry(input), m = input.milestone
        #expect(!g.bandUpper.isEmpty && g.bandUpper.count == g.bandLower.count)
        for (u, l) in zip(g.bandUpper, g.bandLower) {
            #expect(u.date >= m.start && u.date <= m.due)
            #expect(l.value == max(g.frame.low, u.value - 0.15 * (m.target - m.baseline)))
        }
    }

    @Test("reports after the peildatum are not drawn; the forecast runs from the latest to the target")
    func asOf() {
        var input = werksferenInput()
        input.observations.append((d("2024-06-30"), 9))
        let g = Chart.milestoneGeometry(input)
        #expect(g.reported.map(\.value) == [0, 1, 2, 4, 5])
        #expect(g.forecast.map(\.value) == [5, 10])
        #expect(g.forecast.last?.date == input.forecast)
    }

    @Test("the milestone's words: Dutch, with a decimal comma")
    func milestoneWords() throws {
        let input = werksferenInput()
        let p = ParsedSVG.parse(Chart.milestone(input))
        let desc = try #require(p.first("desc")?.text)
        let expected = StatusModel().expected(input.milestone, on: input.asOf)
        #expect(desc.hasPrefix("Mijlpaal Werksferen opgezet (bvs-werksferen): 5 van 10 werksferen gerapporteerd op 2024-03-31"))
        #expect(desc.contains("verwacht op de peildatum (vandaag) 2024-04-15: \(DutchText.number(expected))"))
        #expect(DutchText.number(expected) == "4,2")
        #expect(desc.contains("einddatum 2025-12-31"))
        #expect(desc.contains("prognose: gereed op \(input.forecast!)"))
        #expect(p.first("title")?.text == "Mijlpaal: Werksferen opgezet")
        let legend = p.all("text", class: "koers-label").map(\.text)
        for word in ["gepland pad", "tussendoel", "gerapporteerd", "einddatum 2025-12-31", "vandaag 2024-04-15"] {
            #expect(legend.contains(word), "\(word) in \(legend)")
        }
        // Marker shapes differ: reported values are circles, checkpoints diamonds.
        #expect(p.all("circle", class: "koers-reported").count == 5 + 1)
        #expect(p.all("polygon", class: "koers-checkpoint").count == 2 + 1)
    }

    @Test("Dutch numbers", arguments: [(7.2, "7,2"), (140, "140"), (59.94, "59,9"), (7.96, "8"), (-0.5, "-0,5"), (0, "0")])
    func numbers(v: Double, text: String) {
        #expect(DutchText.number(v) == text)
    }

    @Test("axis ticks below 1 show their decimals", arguments: [(6.8, 2, "6,80"), (0.05, 2, "0,05"), (-1.5, 1, "-1,5"), (3, 1, "3,0")])
    func tickNumbers(v: Double, decimals: Int, text: String) {
        #expect(DutchText.number(v, decimals: decimals) == text)
    }

    @Test("the threshold indicator's value ticks are distinct")
    func distinctTicks() {
        let g = Chart.indicatorGeometry(IndicatorChartInput(indicator: indicator("persoonlijk-welzijn"), observations: [], asOf: d("2024-01-01")))
        let labels = g.frame.valueTicks().map(\.label)
        #expect(Set(labels).count == labels.count, "\(labels)")
    }

    @Test("SVG coordinates have a decimal point and no negative zero")
    func coords() {
        #expect(SVG.coord(1.25) == "1.3")
        #expect(SVG.coord(-0.01) == "0")
        #expect(SVG.coord(-3.04) == "-3")
        #expect(SVG.coord(12) == "12")
    }

    @Test("an indicator's words follow its direction")
    func direction() throws {
        let lower = Indicator(id: "overlast", name: "Ervaren overlast", unit: "%", direction: .lowerIsBetter, baseline: 40,
                              baselineYear: 2020, references: ["nederland": 25], target: 25, targetYear: 2047,
                              targetBasis: .nationalAverage, cadence: Cadence(iso: "P1Y")!, source: "test", sourceURL: nil)
        let svg = Chart.indicator(IndicatorChartInput(indicator: lower, observations: [(d("2023-12-31"), 37)], asOf: d("2024-03-01")))
        let p = ParsedSVG.parse(svg)
        let desc = try #require(p.first("desc")?.text)
        #expect(desc.contains("lager is beter"))
        #expect(desc.contains("12 procentpunt slechter dan Nederland (25%)"))
        #expect(p.elements.contains { $0.text == "% (lager is beter)" })
        #expect(p.elements.contains { $0.text == "Nederland 25% = doel" })
        let higher = Chart.indicator(gelukkigInput())
        let hd = try #require(ParsedSVG.parse(higher).first("desc")?.text)
        #expect(hd.contains("hoger is beter") && hd.contains("6 procentpunt slechter dan Nederland (88%)"))
        #expect(hd.contains("verwacht op het pad op die datum 83,6%"))
    }

    @Test("a binary milestone is a timeline: done or not, in words")
    func binary() throws {
        let m = milestone("doorstroom-vergunning")
        let open = ParsedSVG.parse(Chart.milestone(MilestoneChartInput(milestone: m, observations: [], asOf: d("2023-05-01"))))
        #expect(try #require(open.first("desc")?.text).contains("nog niet gereed op de peildatum (vandaag) 2023-05-01"))
        #expect(open.first("circle", class: "koers-done") == nil)
        let done = ParsedSVG.parse(Chart.milestone(MilestoneChartInput(milestone: m, observations: [(d("2023-04-20"), 1)], asOf: d("2023-05-01"))))
        #expect(try #require(done.first("desc")?.text).contains("gereed op 2023-04-20"))
        #expect(done.first("circle", class: "koers-done") != nil)
        #expect(done.elements.contains { $0.text == "gereed 2023-04-20" })
    }

    @Test("the progress bar says progress, expected and state in words and a mark")
    func progressBar() throws {
        let p = ParsedSVG.parse(Chart.progressBar(progress: 0.5, expected: 0.72, state: .lagging, id: "bvs-werksferen"))
        #expect(try #require(p.first("desc")?.text) == "Voortgang 50 %; verwacht 72 %; status: achter op schema")
        #expect(p.elements.first?.attributes["class"]?.contains("koers-state-lagging") == true)
        #expect(p.elements.contains { $0.text == "50 % ▼" })
        let w = try #require(p.first("rect", class: "koers-progress")?.attributes["width"])
        #expect(w == "50")
    }

    @Test("golden files: one real milestone and one real indicator of plans/nphln.yaml (KOERS_UPDATE_GOLDEN=1 rewrites them)")
    func golden() throws {
        let update = ProcessInfo.processInfo.environment["KOERS_UPDATE_GOLDEN"] == "1"
        for (file, svg) in [("bvs-werksferen.svg", Chart.milestone(werksferenInput())), ("gelukkig.svg", Chart.indicator(gelukkigInput()))] {
            let url = goldenDirectory.appendingPathComponent(file)
            if update {
                try FileManager.default.createDirectory(at: goldenDirectory, withIntermediateDirectories: true)
                try svg.write(to: url, atomically: true, encoding: .utf8)
                continue
            }
            let stored = try String(contentsOf: url, encoding: .utf8)
            #expect(stored == svg, "\(file) differs from the chart; if the change is meant, run KOERS_UPDATE_GOLDEN=1 swift test --filter ChartsTests and look at the diff")
        }
    }

    /// For a person's look: KOERS_CHARTS_OUT=DIR writes every chart there (then
    /// `rsvg-convert` them to PNG). Not a check.
    @Test("writes every chart to KOERS_CHARTS_OUT when set")
    func writeOut() throws {
        guard let dir = ProcessInfo.processInfo.environment["KOERS_CHARTS_OUT"] else { return }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, svg) in everyChart() { try svg.write(toFile: "\(dir)/\(name).svg", atomically: true, encoding: .utf8) }
    }
}
