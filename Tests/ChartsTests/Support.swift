import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Plan
import Status
@testable import Charts

func d(_ s: String) -> PlanDate { PlanDate(iso: s)! }

/// The built-in plan, loaded once.
let plan: Plan = try! PlanLoader.loadDefault(path: nil)

func milestone(_ id: String) -> Milestone { plan.milestones.first { $0.milestone.id == id }!.milestone }
func indicator(_ id: String) -> Indicator { plan.indicators.first { $0.indicator.id == id }!.indicator }

/// The golden milestone: bvs-werksferen (0 → 10 werksferen, 2022-07-01 → 2025-12-31, via
/// 3 by 2023-12-31 and 7 by 2024-12-31), reported up to 5 on 2024-03-31, seen on 2024-04-15.
func werksferenInput(size: ChartSize = .standard) -> MilestoneChartInput {
    let m = milestone("bvs-werksferen")
    let values: [(date: PlanDate, value: Double)] = [
        (d("2023-01-31"), 0), (d("2023-06-30"), 1), (d("2023-09-30"), 2), (d("2023-12-31"), 4), (d("2024-03-31"), 5),
    ]
    let model = StatusModel()
    let obs = values.map { StatusModel.Observation(value: $0.value, date: $0.date, publisher: "work") }
    let asOf = d("2024-04-15")
    let status = model.evaluate(m, today: asOf, latest: obs.last, first: obs.first)
    return MilestoneChartInput(milestone: m, observations: values, asOf: asOf, forecast: status.evidence.forecast,
                               state: status.state, size: size)
}

/// The golden indicator: gelukkig, 83% (2020) → 88% (2047), with the CBS figure of
/// status-model.md (82% to 2023-12-31) and one more, seen on 2024-06-30.
func gelukkigInput() -> IndicatorChartInput {
    let x = indicator("gelukkig")
    let values: [(date: PlanDate, value: Double)] = [(d("2022-12-31"), 82.5), (d("2023-12-31"), 82)]
    let asOf = d("2024-06-30")
    let status = StatusModel().evaluate(x, today: asOf, latest: .init(value: 82, date: d("2023-12-31"), publisher: "health"))
    return IndicatorChartInput(indicator: x, observations: values, asOf: asOf, state: status.state,
                               goal: "Welzijn van de inwoners op het landelijk gemiddelde")
}

/// An SVG parsed back: every element with its attributes and text, in document order.
final class ParsedSVG: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attributes: [String: String]; var text: String }
    var elements: [Element] = []
    private var stack: [Int] = []
    var error: Error?

    static func parse(_ svg: String) -> ParsedSVG {
        let p = ParsedSVG()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = p
        if !parser.parse() { p.error = parser.parserError ?? NSError(domain: "xml", code: 1) }
        return p
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes, text: ""))
        stack.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let i = stack.last { elements[i].text += string }
    }

    func first(_ name: String, class cls: String? = nil) -> Element? {
        elements.first { $0.name == name && (cls == nil || ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(cls!))) }
    }

    func all(_ name: String, class cls: String) -> [Element] {
        elements.filter { $0.name == name && ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(cls)) }
    }
}

/// `M1,2 L3,4` → [(1, 2), (3, 4)].
func pathPoints(_ d: String) -> [(x: Double, y: Double)] {
    d.split(separator: " ").map { part in
        let xy = part.dropFirst().split(separator: ",").map { Double($0)! }
        return (xy[0], xy[1])
    }
}

/// Where golden files live, next to this source file.
let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
