import Plan
import Wire

/// Checks a team's report before it reaches the outbox: the same checks the aggregator
/// makes (so a report that is queued will not be refused for a reason known now), a
/// unit check, and the plugin's own rules.
public struct ReportChecker: Sendable {
    public let plan: Plan
    public let plugin: any ThemePlugin
    let validator: ReportValidator
    let codec = WireCodec()

    public init(plan: Plan, plugin: any ThemePlugin) {
        self.plan = plan
        self.plugin = plugin
        self.validator = ReportValidator(catalog: PlanCatalog(plan))
    }

    /// The checked payload, ready to queue.
    ///
    /// - Parameters:
    ///   - now: the clock, in milliseconds since the Unix epoch; it is `reported_at`.
    public func check(_ draft: ReportDraft, reporter: String?, now: Int64) throws(ReportError) -> Payload {
        let catalog = validator.catalog
        if catalog.items[draft.item] == nil {
            let near = catalog.suggestions(for: draft.item)
            throw ReportError(code: .unknownItem, message: "`\(draft.item)` is not in the plan"
                + (near.isEmpty ? "; `koers plan check` lists the plan" : "; did you mean \(near.map { "`\($0)`" }.joined(separator: ", "))?"))
        }
        if let unit = draftUnit(draft), let expected = planUnit(draft.item), unit != expected {
            throw ReportError(code: .valueOutOfRange, message: "`\(draft.item)` is counted in \(expected), not \(unit)")
        }
        let payload = draft.payload(theme: plugin.theme, reportedAt: now, reporter: reporter)
        // The codec's own checks (finite, ranges, lengths, future dates), exactly as the
        // aggregator will run them.
        let message = WireMessage(payload, sequence: 1, sentAt: now)
        let (e, p) = codec.encode(message)
        do {
            _ = try codec.decode(envelope: e, payload: p, now: now)
            try validator.check(payload, identity: plugin.theme)
        } catch {
            throw ReportError(code: error.code, message: error.message)
        }
        try plugin.validate(draft, plan: plan)
        return payload
    }

    private func draftUnit(_ d: ReportDraft) -> String? {
        switch d {
        case .milestone(_, _, _, _, let u), .indicator(_, _, _, _, _, let u): u
        }
    }

    private func planUnit(_ item: String) -> String? {
        switch validator.catalog.items[item] {
        case .milestone(let m, _): m.unit
        case .indicator(let x, _): x.unit
        case nil: nil
        }
    }
}
