/// The default look, as CSS inside each SVG. Pages restyle by class (`svg.koers-chart
/// .koers-path { … }` outranks these); nothing depends on colour alone — lines differ in
/// dash pattern and width, markers in shape, and the legend says it in words — so the
/// charts read in greyscale and on a black-and-white print.
public enum ChartStyle {
    public static let css = [
        ".koers-chart{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;font-size:11px}",
        ".koers-label{fill:#222}",
        ".koers-tick{fill:#444;font-size:10px}",
        ".koers-axis{stroke:#444;stroke-width:1}",
        ".koers-grid{stroke:#ddd;stroke-width:1}",
        ".koers-band{fill:#dbe7f3;stroke:none}",
        ".koers-risk-window{fill:#f3e3c7;stroke:#8a5a00;stroke-width:1;stroke-dasharray:2 2}",
        ".koers-path{fill:none;stroke:#1f4e79;stroke-width:2.5}",
        ".koers-checkpoint{fill:#fff;stroke:#1f4e79;stroke-width:1.5}",
        ".koers-reported-line{fill:none;stroke:#c0392b;stroke-width:1.5}",
        ".koers-reported{fill:#c0392b;stroke:#fff;stroke-width:1}",
        ".koers-forecast{fill:none;stroke:#c0392b;stroke-width:1.5;stroke-dasharray:6 4}",
        ".koers-due{stroke:#222;stroke-width:1.5}",
        ".koers-today{stroke:#222;stroke-width:1.5;stroke-dasharray:1 3;stroke-linecap:round}",
        ".koers-reference{stroke:#555;stroke-width:1;stroke-dasharray:8 3 2 3}",
        ".koers-timeline{fill:#dbe7f3;stroke:#1f4e79;stroke-width:1}",
        ".koers-done{fill:#1f4e79;stroke:#fff;stroke-width:1}",
        ".koers-done-line{stroke:#1f4e79;stroke-width:1}",
        ".koers-track{fill:#eee;stroke:#888;stroke-width:0.5}",
        ".koers-progress{fill:#1f4e79}",
        ".koers-expected{stroke:#c0392b;stroke-width:2}",
        ".koers-state-lagging .koers-progress,.koers-state-overdue .koers-progress{fill:#c0392b}",
        ".koers-state-at-risk .koers-progress{fill:#b9770e}",
        ".koers-state-unknown .koers-progress{fill:#888}",
        ".koers-state-done .koers-progress{fill:#1e7d4f}",
    ].joined()
}

/// One entry of a legend: a marker and its words.
struct LegendItem {
    enum Marker { case line(String), circle(String), diamond(String), swatch(String), vertical(String) }
    var marker: Marker
    var text: String
}

extension LegendItem {
    /// The legend in rows that fit `width`, starting at (`x`, `y`); returns the SVG and
    /// the number of rows.
    static func render(_ items: [LegendItem], x: Double, y: Double, width: Double) -> (svg: String, rows: Int) {
        var out = "", cx = x, cy = y, rows = items.isEmpty ? 0 : 1
        for item in items {
            let w = 22 + SVG.textWidth(item.text) + 14
            if cx > x && cx + w > x + width { cx = x; cy += 16; rows += 1 }
            out += marker(item.marker, cx, cy - 4) + "\n"
            out += SVG.text(cx + 22, cy, item.text) + "\n"
            cx += w
        }
        return (out, rows)
    }

    static func marker(_ m: Marker, _ x: Double, _ y: Double) -> String {
        switch m {
        case .line(let c): SVG.line(x, y, x + 18, y, c)
        case .circle(let c): SVG.circle(x + 9, y, 3.5, c)
        case .diamond(let c): SVG.diamond(x + 9, y, 4.5, c)
        case .swatch(let c): SVG.rect(x + 1, y - 5, 16, 10, c)
        case .vertical(let c): SVG.line(x + 9, y - 6, x + 9, y + 6, c)
        }
    }

    /// Rows a legend of these items takes at `width`.
    static func rows(_ items: [LegendItem], width: Double) -> Int {
        render(items, x: 0, y: 0, width: width).rows
    }
}

/// Labels along the top of a plot (for vertical lines), in two lanes so neighbours
/// never overlap, and kept inside the chart's width.
struct TopLabels {
    /// Each label's x range and lane, given its anchor x.
    static func place(_ labels: [(x: Double, text: String)], width: Double) -> [(x: Double, lane: Int, text: String)] {
        var lanesEnd = [-Double.infinity, -Double.infinity]
        var out: [(x: Double, lane: Int, text: String)] = []
        for l in labels.sorted(by: { $0.x < $1.x }) {
            let w = SVG.textWidth(l.text)
            let start = min(max(2, l.x - w / 2), width - w - 2)
            let lane = lanesEnd[0] + 6 <= start ? 0 : (lanesEnd[1] + 6 <= start ? 1 : (lanesEnd[0] <= lanesEnd[1] ? 0 : 1))
            lanesEnd[lane] = start + w
            out.append((start, lane, l.text))
        }
        return out
    }
}
