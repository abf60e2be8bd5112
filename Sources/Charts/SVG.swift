import Plan

/// Writing SVG text by hand, deterministically: every number goes through `coord` (SVG)
/// or `DutchText.number` (words), never through `String(Double)` or a locale.
enum SVG {
    /// A coordinate rounded to 0.1 px, with a decimal point, no exponent and no `-0`.
    static func coord(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let tenths = Int((v * 10).rounded())
        let a = abs(tenths)
        let text = a % 10 == 0 ? "\(a / 10)" : "\(a / 10).\(a % 10)"
        return tenths < 0 ? "-" + text : text
    }

    /// Text and attribute values with the five XML specials escaped.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }

    /// An id fragment from an item id: letters, digits and `-` kept, anything else `-`.
    static func idFragment(_ s: String) -> String {
        String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "-" })
    }

    /// `M x,y L x,y …` through the points.
    static func path(_ points: [(x: Double, y: Double)]) -> String {
        points.enumerated().map { i, p in "\(i == 0 ? "M" : "L")\(coord(p.x)),\(coord(p.y))" }.joined(separator: " ")
    }

    /// `x,y x,y …` for a polygon or polyline.
    static func points(_ points: [(x: Double, y: Double)]) -> String {
        points.map { "\(coord($0.x)),\(coord($0.y))" }.joined(separator: " ")
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ cls: String) -> String {
        "<line class=\"\(cls)\" x1=\"\(coord(x1))\" y1=\"\(coord(y1))\" x2=\"\(coord(x2))\" y2=\"\(coord(y2))\"/>"
    }

    static func text(_ x: Double, _ y: Double, _ s: String, cls: String = "koers-label", anchor: String = "start") -> String {
        "<text class=\"\(cls)\" x=\"\(coord(x))\" y=\"\(coord(y))\" text-anchor=\"\(anchor)\">\(escape(s))</text>"
    }

    static func circle(_ x: Double, _ y: Double, _ r: Double, _ cls: String) -> String {
        "<circle class=\"\(cls)\" cx=\"\(coord(x))\" cy=\"\(coord(y))\" r=\"\(coord(r))\"/>"
    }

    /// A diamond (a square on its point) of half-diagonal `r`.
    static func diamond(_ x: Double, _ y: Double, _ r: Double, _ cls: String) -> String {
        "<polygon class=\"\(cls)\" points=\"\(points([(x, y - r), (x + r, y), (x, y + r), (x - r, y)]))\"/>"
    }

    static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ cls: String) -> String {
        "<rect class=\"\(cls)\" x=\"\(coord(x))\" y=\"\(coord(y))\" width=\"\(coord(max(0, w)))\" height=\"\(coord(max(0, h)))\"/>"
    }

    /// The opening of a chart: `role="img"`, labelled by its title and described by its desc,
    /// with the default style. Close it with `</svg>`.
    static func open(id: String, kind: String, width: Double, height: Double, title: String, desc: String,
                     extraClass: String = "", style: String = ChartStyle.css) -> String {
        let base = "koers-\(kind)-\(idFragment(id))"
        let cls = (["koers-chart", "koers-\(kind)"] + (extraClass.isEmpty ? [] : [extraClass])).joined(separator: " ")
        return """
        <svg xmlns="http://www.w3.org/2000/svg" class="\(cls)" width="\(coord(width))" height="\(coord(height))" \
        viewBox="0 0 \(coord(width)) \(coord(height))" role="img" aria-labelledby="\(base)-title \(base)-desc">
        <title id="\(base)-title">\(escape(title))</title>
        <desc id="\(base)-desc">\(escape(desc))</desc>
        <style>\(style)</style>

        """
    }

    /// Rough width of `s` in the chart's 11 px sans-serif, for laying out labels (an
    /// overestimate: labels get room rather than overlapping).
    static func textWidth(_ s: String, size: Double = 11) -> Double {
        Double(s.count) * size * 0.58
    }
}
