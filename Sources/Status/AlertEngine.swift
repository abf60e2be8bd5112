import Plan

/// Turns item states into alerts and runs each alert through its lifecycle:
/// pending → firing → resolved, with acknowledged and flapping (`docs/status-model.md`).
public struct AlertEngine: Sendable {
    /// The version of these rules, recorded with every alert.
    public static let ruleVersion = 1

    /// Days a condition must hold before it fires, by severity.
    public var pendingDays: [Severity: Int] = [.critical: 0, .warning: 7, .info: 14]
    /// Transitions within `flapWindowDays` that make an alert flapping.
    public var flapTransitions = 4
    public var flapWindowDays = 90
    /// Quiet days before a flapping alert settles.
    public var flapSettleDays = 30
    /// Days before a funding line's secured-until date that its expiry becomes an alert.
    public var fundingNoticeDays = 90

    /// Open alerts in slots, and each open alert's slot by key: a dictionary of whole
    /// alerts would reserve room for 2.6 times as many (tens of thousands with a large plan).
    var slots: [Alert?] = []
    var slotOf: [String: Int32] = [:]
    var freeSlots: [Int32] = []
    /// Per item position, which of ``itemRules`` have an open alert for it (bit i for rule
    /// i): reconciling an item looks up just those keys, not a key per rule (a restart
    /// with 100,000 items made half a million keys to find nothing).
    var openItemRules: [UInt8]
    /// Open alerts that the passage of time can move: pending ones, acknowledgements
    /// with an end date, flapping ones. The daily pass looks at these only.
    var timed: Set<String> = []
    /// The day the daily promotion last ran; it runs once per day.
    var promotedOn: PlanDate?
    /// Recent firing/resolved transition dates per key, for flapping.
    var recent: [String: [PlanDate]] = [:]
    /// Themes found silent: their items' alerts are held (neither resolved nor promoted)
    /// until the theme is heard again, when each of its items is evaluated again.
    var held: Set<String> = []
    let plan: Plan
    let index: PlanIndex
    /// The milestone that secures each funding line, and its theme.
    let securing: [String: (milestone: String, theme: String)]

    /// The rules that can hold for each kind of subject; an alert's key is `RULE:SUBJECT`.
    static let itemRules = ["milestone-overdue", "milestone-lagging", "milestone-at-risk", "indicator-lagging", "data-missing"]
    static let themeRules = ["theme-silent"]
    static let fundingRules = ["funding-expiring"]

    public init(plan: Plan) { self.init(index: PlanIndex(plan)) }

    public init(index: PlanIndex) {
        self.plan = index.plan
        self.index = index
        openItemRules = [UInt8](repeating: 0, count: index.count)
        var sec: [String: (String, String)] = [:]
        for m in index.milestones { if let f = m.milestone.secures { sec[f] = (m.milestone.id, m.theme) } }
        securing = sec
    }

    /// Alerts not resolved, by key (built on request).
    public var active: [String: Alert] {
        Dictionary(uniqueKeysWithValues: slots.compactMap { $0 }.map { ($0.key, $0) })
    }

    /// Alerts not resolved.
    public var openAlerts: [Alert] { slots.compactMap { $0 } }

    /// How many alerts are open.
    public var openCount: Int { slotOf.count }

    /// An open alert.
    public func alert(_ key: String) -> Alert? { slotOf[key].flatMap { slots[Int($0)] } }

    /// Where an item's alerts are shown: its theme, its intervention's owner, its areas.
    func placement(of subject: String) -> (theme: String, owner: String?, areas: [String])? {
        guard let p = index.position(of: subject) else { return nil }
        guard let m = index.milestone(at: p) else { return (index.theme(at: p), nil, []) }
        let i = index.interventions[m.intervention]
        return (m.theme, i?.owner, m.milestone.areas.isEmpty ? (i?.areas ?? []) : m.milestone.areas)
    }

    /// The rule (and severity) that an item's status triggers, if any.
    public func rule(for status: ItemStatus, isIndicator: Bool, themeSilent: Bool) -> (rule: String, severity: Severity)? {
        switch (status.state, isIndicator) {
        case (.overdue, false): return ("milestone-overdue", .critical)
        case (.lagging, false): return ("milestone-lagging", .warning)
        case (.atRisk, false): return ("milestone-at-risk", .info)
        case (.lagging, true): return ("indicator-lagging", .warning)
        // A silent theme raises one alert of its own; its items' missing data does not.
        case (.unknown, _) where !themeSilent: return ("data-missing", .warning)
        default: return nil
        }
    }

    /// Brings the alerts of one subject in line with its current condition.
    ///
    /// - Parameters:
    ///   - subject: the item, theme or funding line.
    ///   - condition: the rule that holds now, or nil.
    ///   - evidence: the evidence now; an alert that resolves carries it, not the
    ///     evidence from when it fired.
    ///   - resolution: what resolves the alerts whose condition no longer holds.
    ///   - position: the subject's item position, when it is an item (`rules` are then ``itemRules``).
    mutating func reconcile(subject: String, position: Int? = nil, rules: [String], theme: String?, condition: (rule: String, severity: Severity)?,
                            evidence: Evidence, resolution: Resolution? = nil, today: PlanDate, into out: inout [AlertTransition]) {
        // Alerts of this subject under another rule resolve.
        var open = position.map { openItemRules[$0] } ?? UInt8(truncatingIfNeeded: (1 << rules.count) - 1)
        while open != 0 && !slotOf.isEmpty {
            let rule = rules[open.trailingZeroBitCount]
            open &= open - 1
            guard rule != condition?.rule else { continue }
            let key = "\(rule):\(subject)"
            if slotOf[key] != nil {
                let r = resolution ?? Self.resolution(evidence, today: today)
                transition(key, to: .resolved, today: today, into: &out) { a in
                    a.evidence = evidence
                    a.resolvedBy = r
                }
            }
        }
        guard let condition else { return }
        let key = "\(condition.rule):\(subject)"
        if let slot = slotOf[key] {
            slots[Int(slot)]!.evidence = evidence
            return
        }
        let place = placement(of: subject)
        let alert = Alert(key: key, rule: condition.rule, subject: subject, theme: theme ?? place?.theme, severity: condition.severity,
                          state: .pending, since: today, acknowledgement: nil, evidence: evidence, owner: place?.owner,
                          areas: place?.areas ?? [], ruleVersion: Self.ruleVersion)
        store(key, alert)
        out.append(AlertTransition(key: key, from: nil, to: .pending, date: today, alert: alert))
        promote(key, today: today, into: &out)
    }

    /// Pending alerts whose time has come fire; expired acknowledgements lapse; flapping settles.
    mutating func promote(_ key: String, today: PlanDate, into out: inout [AlertTransition]) {
        guard let a = alert(key) else { return }
        switch a.state {
        case .pending where a.since.days(to: today) >= pendingDays[a.severity, default: 0]:
            if isFlapping(key, today: today) {
                transition(key, to: .flapping, today: today, into: &out)
            } else {
                transition(key, to: .firing, today: today, into: &out)
            }
        case .acknowledged:
            if let until = a.acknowledgement?.until, today > until {
                var lapsed = a
                lapsed.acknowledgement = nil
                store(key, lapsed)
                transition(key, to: .firing, today: today, into: &out)
            }
        case .flapping:
            if (recent[key]?.last).map({ $0.days(to: today) >= flapSettleDays }) ?? true {
                recent[key] = []
                transition(key, to: .firing, today: today, into: &out)
            }
        default: break
        }
    }

    func isFlapping(_ key: String, today: PlanDate) -> Bool {
        (recent[key] ?? []).filter { $0.days(to: today) <= flapWindowDays }.count >= flapTransitions
    }

    /// What resolved an alert, from the evidence of the status that cleared it: the
    /// report behind it (value, date, publisher), and the date it was found.
    static func resolution(_ e: Evidence, today: PlanDate) -> Resolution {
        Resolution(summary: e.summary.isEmpty ? "the condition no longer holds on \(today)" : e.summary, on: today,
                   value: e.lastValue, asOf: e.lastDate, reportedBy: e.reportedBy)
    }

    mutating func transition(_ key: String, to state: AlertState, today: PlanDate, into out: inout [AlertTransition],
                             _ amend: (inout Alert) -> Void = { _ in }) {
        guard var a = alert(key), a.state != state else { return }
        amend(&a)
        let from = a.state
        // A flapping alert resolves quietly: it is already known to come and go.
        if from == .firing || from == .acknowledged || state == .firing {
            recent[key, default: []].append(today)
            recent[key] = recent[key]!.filter { $0.days(to: today) <= flapWindowDays }
        }
        a.state = state
        a.since = today
        if state == .resolved {
            // A pending alert that is dropped is announced too (pending → resolved): the
            // stream showed it pending, and a follower must see it go.
            store(key, nil)
        } else {
            store(key, a)
        }
        out.append(AlertTransition(key: key, from: from, to: state, date: today, alert: a))
    }

    // MARK: - Entry points

    /// Alerts for items whose state changed. An item of a silent theme is unknown for
    /// want of news, not because its condition cleared: its alerts are held as they are
    /// until the theme is heard again (see ``daily(engine:)``).
    public mutating func itemsChanged(_ changes: [StatusEngine.Change], engine: StatusEngine) -> [AlertTransition] {
        var out: [AlertTransition] = []
        // One item may change twice in one pass (silent, then heard): its last change counts.
        var last: [String: Int] = [:]
        for (n, c) in changes.enumerated() { last[c.item] = n }
        // Roll-up nodes (`intervention:ID`, `programme`, …) have no alerts of their own. By
        // bytes: Foundation's `contains` of a string was a measurable share of a small batch.
        for (n, c) in changes.enumerated() where !c.item.utf8.contains(UInt8(ascii: ":")) && c.item != "programme" && last[c.item] == n {
            guard let p = index.position(of: c.item) else { continue }
            let theme = index.theme(at: p)
            if engine.silent.contains(theme) {
                held.insert(theme)
                continue
            }
            evaluate(c.to, at: p, theme: theme, engine: engine, into: &out)
        }
        return out
    }

    /// Reconciles an item's alerts with its status; an existing alert held while its
    /// theme was silent is promoted if its time came meanwhile.
    mutating func evaluate(_ status: ItemStatus, at p: Int, theme: String, engine: StatusEngine, into out: inout [AlertTransition]) {
        let condition = rule(for: status, isIndicator: index.indicator(at: p) != nil, themeSilent: false)
        reconcile(subject: status.item, position: p, rules: Self.itemRules, theme: theme, condition: condition,
                  evidence: status.evidence, today: engine.today, into: &out)
        if let condition { promote("\(condition.rule):\(status.item)", today: engine.today, into: &out) }
    }

    /// The daily pass: pending alerts fire, acknowledgements lapse, funding notices, silent themes.
    public mutating func daily(engine: StatusEngine) -> [AlertTransition] {
        var out: [AlertTransition] = []
        let today = engine.today
        for t in plan.themes {
            let silent = engine.silent.contains(t.id)
            var ev: Evidence
            if let ms = engine.lastHeard[t.id] {
                let heardOn = PlanDate(epochMilliseconds: ms)
                ev = Evidence(summary: silent
                    ? "no message from the \(t.id) theme service since \(heardOn), more than its heartbeat of \(t.heartbeat.spoken); its items are unknown and their alerts held"
                    : "the \(t.id) theme service was heard from again on \(heardOn)")
                ev.lastDate = heardOn
                ev.ageDays = Int((today.epochMilliseconds - ms) / PlanDate.millisecondsPerDay)
            } else {
                let since = engine.startedMs.map { " since the aggregator started on \(PlanDate(epochMilliseconds: $0))" } ?? ""
                ev = Evidence(summary: silent
                    ? "no message from the \(t.id) theme service\(since) (it never connected), more than its heartbeat of \(t.heartbeat.spoken); its items are unknown and their alerts held"
                    : "")
            }
            reconcile(subject: t.id, rules: Self.themeRules, theme: t.id, condition: silent ? ("theme-silent", .critical) : nil, evidence: ev,
                      resolution: Resolution(summary: ev.summary, on: today, asOf: ev.lastDate, reportedBy: t.id), today: today, into: &out)
            // Its items' alerts were held while it was silent; now each is evaluated again.
            if silent {
                held.insert(t.id)
            } else if held.remove(t.id) != nil {
                for p in index.positions(ofTheme: t.id) {
                    if let s = engine.status(of: index.id(at: p)) { evaluate(s, at: p, theme: t.id, engine: engine, into: &out) }
                }
            }
        }
        for f in plan.funding {
            guard let until = f.securedUntil, until < f.period.end else { continue }
            let securing = self.securing[f.id]
            let done = securing.map { engine.status(of: $0.milestone)?.state == .done } ?? false
            let near = today.days(to: until) <= fundingNoticeDays
            var ev = Evidence(summary: today > until
                ? "funding `\(f.id)` (\(f.source)) ran out on \(until); its continuation is not secured"
                : "funding `\(f.id)` (\(f.source)) is secured until \(until), \(Durations.days(today.days(to: until))) from now; its continuation is not secured")
            ev.lastDate = until
            let resolution = done
                ? Self.resolution(engine.status(of: securing!.milestone)!.evidence, today: today)
                : Resolution(summary: "funding `\(f.id)` no longer expiring on \(today)", on: today)
            if done, let m = securing?.milestone { ev.summary = "`\(m)` is done: the continuation of funding `\(f.id)` is secured" }
            reconcile(subject: f.id, rules: Self.fundingRules, theme: securing?.theme, condition: (!done && near) ? ("funding-expiring", today > until ? .critical : .warning) : nil,
                      evidence: ev, resolution: resolution, today: today, into: &out)
        }
        // Promotion depends on the date alone (a new alert is promoted as it is made), so
        // it runs once per day, over the alerts that time can move.
        if promotedOn != today {
            promotedOn = today
            for key in timed.sorted() {
                // Held: an item alert of a silent theme moves only once the theme is heard.
                if let a = alert(key), let t = a.theme, engine.silent.contains(t), Self.itemRules.contains(a.rule) { continue }
                promote(key, today: today, into: &out)
            }
        }
        return out
    }

    /// Restores open alerts (after a restart), without announcing them again.
    public mutating func restore(_ alerts: [Alert]) {
        for a in alerts { store(a.key, a) }
        promotedOn = nil
    }

    /// Sets or removes an open alert, keeping the slots and the timed set in step.
    mutating func store(_ key: String, _ alert: Alert?) {
        timed.remove(key)
        guard let alert else {
            if let slot = slotOf.removeValue(forKey: key) {
                slots[Int(slot)] = nil
                freeSlots.append(slot)
                markItemRule(key, open: false)
            }
            return
        }
        if let slot = slotOf[key] {
            slots[Int(slot)] = alert
        } else if let slot = freeSlots.popLast() {
            slots[Int(slot)] = alert
            slotOf[key] = slot
            markItemRule(key, open: true)
        } else {
            slotOf[key] = Int32(slots.count)
            slots.append(alert)
            markItemRule(key, open: true)
        }
        switch alert.state {
        case .pending, .flapping: timed.insert(key)
        case .acknowledged where alert.acknowledgement?.until != nil: timed.insert(key)
        default: break
        }
    }

    /// Keeps ``openItemRules`` in step with the keys in ``slotOf``: a key `RULE:ITEM` of an
    /// item rule sets or clears its bit (other keys, of themes and funding lines, have none).
    mutating func markItemRule(_ key: String, open: Bool) {
        guard let colon = key.firstIndex(of: ":"), let r = Self.itemRules.firstIndex(of: String(key[..<colon])),
              let p = index.position(of: String(key[key.index(after: colon)...])) else { return }
        if open { openItemRules[p] |= 1 << r } else { openItemRules[p] &= ~(1 << r) }
    }

    /// An operator acknowledges a firing alert.
    ///
    /// - Throws: ``AlertError`` when the alert is unknown or not firing.
    public mutating func acknowledge(_ key: String, _ ack: Acknowledgement, today: PlanDate) throws(AlertError) -> AlertTransition {
        guard let a = alert(key) else {
            var near = Array(slotOf.keys.sorted().filter { $0.hasSuffix(key) || $0.contains(key) }.prefix(3))
            if near.isEmpty, let typo = closest(key, among: Set(slotOf.keys)) { near = [typo] }
            throw AlertError(message: "no open alert `\(key)`" + (near.isEmpty ? "" : "; did you mean \(near.map { "`\($0)`" }.joined(separator: ", "))?"))
        }
        guard a.state == .firing || a.state == .acknowledged || a.state == .flapping else {
            throw AlertError(message: "alert `\(key)` is \(a.state.rawValue); only a firing alert can be acknowledged")
        }
        var acked = a
        acked.acknowledgement = ack
        store(key, acked)
        var out: [AlertTransition] = []
        if a.state == .acknowledged {
            acked.since = today
            store(key, acked)
            return AlertTransition(key: key, from: .acknowledged, to: .acknowledged, date: today, alert: acked)
        }
        transition(key, to: .acknowledged, today: today, into: &out)
        return out[0]
    }
}

/// An operator's request that cannot be done.
public struct AlertError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
