import Plan

/// A chart's size in px.
public struct ChartSize: Sendable, Hashable {
    public var width: Double
    public var height: Double
    public init(width: Double, height: Double) { self.width = width; self.height = height }
    /// A web page's chart, and the council report's (fits A4 portrait at full width).
    public static let standard = ChartSize(width: 640, height: 300)
}

/// A point of a chart in plan terms and in px.
public struct PlotPoint: Sendable, Hashable {
    public var date: PlanDate
    public var value: Double
    public var x: Double
    public var y: Double
}

/// A tick of an axis: where, and its label.
public struct Tick: Sendable, Hashable {
    public var position: Double
    public var label: String
}

/// The plot area and its two scales: dates → x, values → y.
public struct Frame: Sendable {
    public var left: Double, top: Double, width: Double, height: Double
    public var firstDate: PlanDate, lastDate: PlanDate
    public var low: Double, high: Double
    /// The value axis's tick step; 0 picks one from the range.
    public var step: Double = 0
    public var right: Double { left + width }
    public var bottom: Double { top + height }

    public func x(_ d: PlanDate) -> Double {
        let span = Double(firstDate.days(to: lastDate))
        return left + (span == 0 ? 0 : Double(firstDate.days(to: d)) / span * width)
    }

    public func y(_ v: Double) -> Double {
        bottom - (high == low ? 0 : (v - low) / (high - low) * height)
    }

    public func point(_ d: PlanDate, _ v: Double) -> PlotPoint { PlotPoint(date: d, value: v, x: x(d), y: y(v)) }

    /// Date ticks: years (every 1, 2, 5, 10 or 25) for spans of two years or more, else
    /// month starts (every 1, 2, 3 or 6 months), at most about seven.
    public func dateTicks() -> [Tick] {
        let days = firstDate.days(to: lastDate)
        if days >= 730 {
            let step = [1, 2, 5, 10, 25].first { days / 365 / $0 <= 7 } ?? 50
            let y0 = firstDate.year + 1, y1 = lastDate.year
            return stride(from: (y0 + step - 1) / step * step, through: y1, by: step).map {
                Tick(position: x(PlanDate(year: $0, month: 1, day: 1)!), label: "\($0)")
            }
        }
        let step = [1, 2, 3, 6].first { days / 30 / $0 <= 6 } ?? 12
        var ticks: [Tick] = []
        var d = PlanDate(year: firstDate.year, month: firstDate.components.month, day: 1)!
        if d < firstDate { d = d.adding(months: 1) }
        while d <= lastDate {
            if (d.components.month - 1) % step == 0 { ticks.append(Tick(position: x(d), label: DutchText.month(d))) }
            d = d.adding(months: 1)
        }
        return ticks
    }

    /// Value ticks at a round step (1, 2 or 5 × 10ⁿ), about five of them.
    public func valueTicks() -> [Tick] {
        let step = step > 0 ? step : Frame.niceStep(high - low)
        let first = (low / step).rounded(.up)
        var decimals = 0, unit = 1.0
        while step * unit < 1 - 1e-9 && decimals < 6 { unit *= 10; decimals += 1 }
        return stride(from: first, through: (high / step + 1e-9).rounded(.down), by: 1).map {
            Tick(position: y($0 * step), label: decimals == 0 ? DutchText.number($0 * step) : DutchText.number($0 * step, decimals: decimals))
        }
    }

    static func niceStep(_ span: Double, count: Double = 5) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / count
        var magnitude = 1.0
        while magnitude * 10 <= raw { magnitude *= 10 }
        while magnitude > raw { magnitude /= 10 }
        let steps = [1.0, 2, 5, 10]
        return (steps.first { $0 * magnitude >= raw } ?? 10) * magnitude
    }

    /// `[lo, hi]` widened a little and out to a round step, for a value axis (never
    /// below 0 when no value is), and that step.
    static func valueDomain(_ values: [Double]) -> (low: Double, high: Double, step: Double) {
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi == lo { lo -= 1; hi += 1 }
        let pad = (hi - lo) * 0.05
        let step = niceStep(hi - lo)
        let nLo = ((lo - pad) / step).rounded(.down) * step
        return (lo >= 0 && nLo < 0 ? 0 : nLo, ((hi + pad) / step).rounded(.up) * step, step)
    }

    /// The axes: frame lines, grid, tick labels.
    func axes() -> String {
        var out = ""
        for t in valueTicks() {
            out += SVG.line(left, t.position, right, t.position, "koers-grid") + "\n"
            out += SVG.text(left - 6, t.position + 4, t.label, cls: "koers-label koers-tick", anchor: "end") + "\n"
        }
        out += dateAxis()
        out += SVG.line(left, top, left, bottom, "koers-axis") + "\n"
        return out
    }

    /// The date axis along the bottom, with its ticks and labels.
    func dateAxis() -> String {
        var out = ""
        for t in dateTicks() where t.position >= left && t.position <= right {
            out += SVG.line(t.position, bottom, t.position, bottom + 4, "koers-axis") + "\n"
            out += SVG.text(t.position, bottom + 16, t.label, cls: "koers-label koers-tick", anchor: "middle") + "\n"
        }
        out += SVG.line(left, bottom, right, bottom, "koers-axis") + "\n"
        return out
    }
}
