import Plan

/// Checks a decoded report against the plan and the sender's authenticated identity.
public struct ReportValidator: Sendable {
    public let catalog: PlanCatalog

    public init(catalog: PlanCatalog) { self.catalog = catalog }

    /// Throws the reason a theme service's message must be refused, if any.
    ///
    /// - Parameters:
    ///   - payload: a decoded ingest payload (hello, heartbeat, progress, measurement).
    ///   - identity: the CURVE identity the ZAP authenticator gave the sender; nil only
    ///     when the aggregator runs in plain mode, where the theme is taken on trust.
    public func check(_ payload: Payload, identity: String?) throws(WireError) {
        let theme: String
        switch payload {
        case .hello(let h): theme = h.theme
        case .heartbeat(let h): theme = h.theme
        case .milestoneProgress(let m): theme = m.theme
        case .indicatorMeasurement(let m): theme = m.theme
        default:
            throw WireError(.wrongDirection, "\(payload.type) is not sent by a theme service", frame: 0)
        }
        guard catalog.themes.contains(theme) else {
            throw WireError(.unknownTheme, "theme `\(theme)` is not in the plan; themes are \(catalog.themes.sorted().joined(separator: ", "))",
                            frame: 1, field: "theme")
        }
        if let identity, identity != theme {
            throw WireError(.identityMismatch, "the key of `\(identity)` may publish for `\(identity)` only, not for `\(theme)`",
                            frame: 1, field: "theme")
        }
        switch payload {
        case .milestoneProgress(let m):
            let milestone: Milestone
            switch try item(m.item, theme: theme) {
            case .milestone(let x, _): milestone = x
            case .indicator: throw WireError(.wrongItemKind, "`\(m.item)` is an indicator: send INDICATOR_MEASUREMENT", frame: 1, field: "item")
            }
            try checkRange(m.value, milestone)
            guard catalog.window.contains(m.asOf) else {
                throw WireError(.outsideHorizon, "as_of \(m.asOf) lies outside the plan's window \(catalog.window)", frame: 1, field: "as_of")
            }
        case .indicatorMeasurement(let m):
            switch try item(m.item, theme: theme) {
            case .indicator: break
            case .milestone: throw WireError(.wrongItemKind, "`\(m.item)` is a milestone: send MILESTONE_PROGRESS", frame: 1, field: "item")
            }
            // A period may start long before (CBS averages over ten years); it must end in the window.
            guard catalog.indicatorWindow.contains(m.periodEnd) else {
                throw WireError(.outsideHorizon, "the period ends \(m.periodEnd), outside \(catalog.indicatorWindow)", frame: 1, field: "period_end")
            }
        default: break
        }
    }

    private func item(_ id: String, theme: String) throws(WireError) -> PlanCatalog.Item {
        guard let item = catalog.items[id] else {
            let near = catalog.suggestions(for: id)
            throw WireError(.unknownItem, "`\(id)` is not in the plan" + (near.isEmpty ? "" : "; did you mean \(near.map { "`\($0)`" }.joined(separator: ", "))?"),
                            frame: 1, field: "item")
        }
        guard item.theme == theme else {
            throw WireError(.itemNotInTheme, "`\(id)` belongs to theme `\(item.theme)`, not `\(theme)`", frame: 1, field: "item")
        }
        return item
    }

    /// The values a milestone accepts; see `docs/protocol.md` ("Plan checks").
    public static func range(of m: Milestone) -> ClosedRange<Double> {
        if m.kind == .binary { return 0...1 }
        let lo = min(m.baseline, m.target), hi = max(m.baseline, m.target), span = hi - lo
        return max(0, lo - span)...(hi + span)
    }

    private func checkRange(_ v: Double, _ m: Milestone) throws(WireError) {
        if m.kind == .binary && v != 0 && v != 1 {
            throw WireError(.valueOutOfRange, "`\(m.id)` is binary: send 1 for done or 0 for not done, not \(v)", frame: 1, field: "value")
        }
        let r = Self.range(of: m)
        guard r.contains(v) else {
            throw WireError(.valueOutOfRange, "`\(m.id)` runs from \(fmtNumber(m.baseline)) to \(fmtNumber(m.target)) \(m.unit); \(fmtNumber(v)) is outside \(fmtNumber(r.lowerBound))…\(fmtNumber(r.upperBound))",
                            frame: 1, field: "value")
        }
    }
}

func fmtNumber(_ v: Double) -> String { v.rounded() == v && abs(v) < 1e15 ? String(Int(v)) : String(v) }
