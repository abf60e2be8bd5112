/// Cross-reference checks on a plan that parsed: ids, references, dates, directions,
/// dependency cycles, funding and revision history.
struct PlanValidator {
    let plan: Plan
    let locations: Locations
    let file: String

    /// Appends every problem found, in the order the checks run: ids, themes and
    /// leefgebieden, interventions and milestones, dependency cycles, indicators, funding,
    /// revisions.
    func validate(into diagnostics: inout [PlanDiagnostic]) {
        var run = Run(plan: plan, locations: locations, file: file)
        run.checkUniqueIDs()
        run.checkThemesAndLeefgebieden()
        run.checkInterventionsAndMilestones()
        run.checkDependencyCycles()
        run.checkIndicators()
        run.checkFunding()
        run.checkRevisions()
        diagnostics += run.diagnostics
    }
}

extension PlanValidator {
    /// One pass over a plan: what the checks share, and the diagnostics they collect.
    struct Run {
        let plan: Plan
        let locations: Locations
        let file: String
        private(set) var diagnostics: [PlanDiagnostic] = []
        let leefIDs: Set<String>
        let areaIDs: Set<String>
        let orgIDs: Set<String>
        let fundIDs: Set<String>
        /// The first milestone and indicator of each id (a duplicate is reported, not used).
        let milestones: [String: Milestone]
        let indicators: [String: Indicator]
        /// Which milestone secures each funding line's continuation; filled by the milestone checks.
        var securedBy: [String: String] = [:]

        init(plan: Plan, locations: Locations, file: String) {
            self.plan = plan
            self.locations = locations
            self.file = file
            leefIDs = Set(plan.leefgebieden.map(\.id))
            areaIDs = Set(plan.areas.map(\.id))
            orgIDs = Set(plan.organisations.map(\.id))
            fundIDs = Set(plan.funding.map(\.id))
            milestones = Dictionary(plan.milestones.map { ($0.milestone.id, $0.milestone) }, uniquingKeysWith: { a, _ in a })
            indicators = Dictionary(plan.indicators.map { ($0.indicator.id, $0.indicator) }, uniquingKeysWith: { a, _ in a })
        }

        mutating func report(_ key: String, _ message: String, fix: String? = nil) {
            let loc = locations[key] ?? locations[String(key.prefix { $0 != "." })]
            diagnostics.append(PlanDiagnostic(file: file, line: loc?.line ?? 1, column: loc?.column ?? 1,
                                              path: loc?.path ?? key, message: message, fix: fix))
        }

        /// Reports `ref` unless it is one of `ids`, suggesting the nearest id or where to declare it.
        mutating func check(_ ref: String, in ids: Set<String>, _ what: String, at key: String) {
            guard !ids.contains(ref) else { return }
            let near = closest(ref, among: ids)
            report(key, "unknown \(what) `\(ref)`", fix: near.map { "did you mean `\($0)`?" } ?? "declare it under `\(Self.section(of: what))`")
        }

        /// The plan's top-level key that declares items of kind `what`.
        static func section(of what: String) -> String {
            switch what {
            case "area": "areas"
            case "organisation": "organisations"
            case "funding line": "funding"
            case "leefgebied": "leefgebieden"
            default: what + "s"
            }
        }

        // MARK: - Unique ids

        mutating func checkUniqueIDs() {
            var seen: [String: String] = [:]
            func claim(_ id: String, _ what: String, _ key: String) {
                if let other = seen[id] {
                    report(key, "duplicate id `\(id)`: already used by a \(other)", fix: "give this \(what) an id of its own")
                } else {
                    seen[id] = what
                }
            }
            for t in plan.themes {
                claim(t.id, "theme", "theme:\(t.id)")
                for g in t.goals {
                    claim(g.id, "goal", "goal:\(g.id)")
                    for i in g.interventions {
                        claim(i.id, "intervention", "intervention:\(i.id)")
                        for m in i.milestones { claim(m.id, "milestone", "milestone:\(m.id)") }
                    }
                    for x in g.indicators { claim(x.id, "indicator", "indicator:\(x.id)") }
                }
            }
            reportDuplicates(plan.leefgebieden, \.id, "leefgebied", "leefgebied")
            reportDuplicates(plan.areas, \.id, "area", "area")
            reportDuplicates(plan.organisations, \.id, "organisation", "organisation")
            reportDuplicates(plan.funding, \.id, "funding line", "funding")
        }

        /// Ids that need only be unique among their own kind (areas, funding lines, …).
        mutating func reportDuplicates<T>(_ items: [T], _ id: (T) -> String, _ what: String, _ prefix: String) {
            var ids = Set<String>()
            for item in items where !ids.insert(id(item)).inserted {
                report("\(prefix):\(id(item))", "duplicate \(what) id `\(id(item))`", fix: "each \(what) needs its own id")
            }
        }

        // MARK: - Themes and leefgebieden

        mutating func checkThemesAndLeefgebieden() {
            var covered = Set<String>()
            for t in plan.themes {
                for l in t.leefgebieden {
                    check(l, in: leefIDs, "leefgebied", at: "theme:\(t.id).leefgebieden")
                    covered.insert(l)
                }
            }
            for l in plan.leefgebieden where !covered.contains(l.id) {
                report("leefgebied:\(l.id)", "leefgebied `\(l.id)` is covered by no theme", fix: "list it under a theme's `leefgebieden`")
            }
        }

        // MARK: - Interventions and milestones

        mutating func checkInterventionsAndMilestones() {
            for (i, _, _) in plan.interventions {
                check(i.owner, in: orgIDs, "organisation", at: "intervention:\(i.id).owner")
                for p in i.partners { check(p, in: orgIDs, "organisation", at: "intervention:\(i.id).partners") }
                for a in i.areas { check(a, in: areaIDs, "area", at: "intervention:\(i.id).areas") }
                for f in i.funding { check(f, in: fundIDs, "funding line", at: "intervention:\(i.id).funding") }
                for m in i.milestones { checkMilestone(m) }
            }
        }

        /// Dates against each other and the horizon, the target, checkpoints, references;
        /// notes the funding line the milestone secures.
        mutating func checkMilestone(_ m: Milestone) {
            let horizon = plan.programme.horizon
            let k = "milestone:\(m.id)"
            if m.due < m.start {
                report("\(k).due", "milestone `\(m.id)` is due \(m.due), before its start \(m.start)",
                       fix: "move `due` after \(m.start), or `start` before \(m.due)")
            }
            if m.due > horizon.end {
                report("\(k).due", "milestone `\(m.id)` is due \(m.due), after the programme's horizon \(horizon.end)",
                       fix: "bring `due` within the horizon")
            }
            if m.kind == .quantitative && m.target == m.baseline {
                report("\(k).target", "milestone `\(m.id)` has target \(fmt(m.target)) equal to its baseline: nothing to achieve",
                       fix: "set a target beyond the baseline")
            }
            checkCheckpoints(of: m)
            for a in m.areas { check(a, in: areaIDs, "area", at: "\(k).areas") }
            for d in m.dependsOn where milestones[d] == nil {
                let near = closest(d, among: Set(milestones.keys))
                report("\(k).depends-on", "`\(m.id)` depends on unknown milestone `\(d)`",
                       fix: near.map { "did you mean `\($0)`?" } ?? "name an existing milestone id")
            }
            if let f = m.secures {
                check(f, in: fundIDs, "funding line", at: "\(k).secures")
                securedBy[f] = m.id
            }
        }

        /// Checkpoints lie in date order strictly between start and due, with values on the
        /// way from baseline to target.
        mutating func checkCheckpoints(of m: Milestone) {
            var last = m.start
            for (n, c) in m.checkpoints.enumerated() {
                let ck = "milestone-checkpoint:\(m.id):\(n)"
                if c.date <= last || c.date >= m.due {
                    report(ck, "checkpoint \(c.date) of `\(m.id)` must lie after \(last) and before the due date \(m.due)",
                           fix: "order checkpoints by date, strictly between start and due")
                }
                let lo = min(m.baseline, m.target), hi = max(m.baseline, m.target)
                if c.value < lo || c.value > hi {
                    report(ck, "checkpoint value \(fmt(c.value)) of `\(m.id)` lies outside \(fmt(m.baseline))…\(fmt(m.target))",
                           fix: "use a value between the baseline and the target")
                }
                last = max(last, c.date)
            }
        }

        // MARK: - Dependency cycles

        /// Each cycle once, however many of its milestones the walk starts from.
        mutating func checkDependencyCycles() {
            var state: [String: Int] = [:]  // 1 visiting, 2 done
            var reported = Set<String>()
            func visit(_ id: String, _ stack: [String]) {
                if state[id] == 2 { return }
                if state[id] == 1 {
                    let cycle = Array(stack.drop { $0 != id }) + [id]
                    let key = Set(cycle).sorted().joined(separator: ",")
                    if reported.insert(key).inserted {
                        report("milestone:\(id).depends-on", "dependency cycle: \(cycle.joined(separator: " → "))",
                               fix: "remove one of these `depends-on` entries")
                    }
                    return
                }
                state[id] = 1
                for d in milestones[id]?.dependsOn ?? [] where milestones[d] != nil { visit(d, stack + [id]) }
                state[id] = 2
            }
            for id in milestones.keys.sorted() { visit(id, []) }
        }

        // MARK: - Indicators

        mutating func checkIndicators() {
            let horizon = plan.programme.horizon
            for x in plan.indicators.map(\.indicator) {
                let k = "indicator:\(x.id)"
                let beyond = x.direction == .higherIsBetter ? x.target > x.baseline : x.target < x.baseline
                if !beyond {
                    report("indicator-target:\(x.id)",
                           "indicator `\(x.id)` is \(x.direction.rawValue) but its target \(fmt(x.target)) is not beyond its baseline \(fmt(x.baseline))",
                           fix: x.direction == .higherIsBetter ? "set a target above \(fmt(x.baseline)), or `direction: lower-is-better`"
                                                                : "set a target below \(fmt(x.baseline)), or `direction: higher-is-better`")
                }
                if x.targetYear <= x.baselineYear || x.targetYear > horizon.end.year {
                    report(k, "indicator `\(x.id)` targets \(x.targetYear): it must lie after its baseline year \(x.baselineYear) and by the horizon \(horizon.end.year)",
                           fix: "choose a target year in \(x.baselineYear + 1)…\(horizon.end.year)")
                }
                if x.targetBasis == .nationalAverage, let nl = x.references["nederland"], nl != x.target {
                    report("indicator-target:\(x.id)", "indicator `\(x.id)` targets the national average, but its target \(fmt(x.target)) differs from `references.nederland` \(fmt(nl))",
                           fix: "make the target \(fmt(nl)), or `basis: threshold`")
                }
            }
        }

        // MARK: - Funding

        /// Needs `securedBy`: runs after the milestone checks.
        mutating func checkFunding() {
            for f in plan.funding {
                if let s = f.securedUntil {
                    if !f.period.contains(s) {
                        report("funding:\(f.id).secured-until", "funding `\(f.id)` is secured until \(s), outside its period \(f.period)",
                               fix: "secure it within its period, or extend the period")
                    }
                    if s < f.period.end && securedBy[f.id] == nil {
                        report("funding:\(f.id).secured-until",
                               "funding `\(f.id)` is secured only until \(s), but no milestone secures its continuation",
                               fix: "add a binary milestone with `secures: \(f.id)` due by \(s)")
                    }
                }
            }
        }

        // MARK: - Revisions

        /// One change to one field, in the revision that made it.
        typealias RevisionLink = (rev: Int, change: Revision.Change, index: Int)

        mutating func checkRevisions() {
            checkRevisionChains(checkRevisionList())
        }

        /// Numbering, dates and the items changed, revision by revision; returns each
        /// revised field's changes in revision order.
        mutating func checkRevisionList() -> [String: [RevisionLink]] {
            var expected = 2
            var lastDate: PlanDate?
            var chains: [String: [RevisionLink]] = [:]
            for r in plan.revisions {
                if r.version != expected {
                    report("revision:\(r.version)", "revision \(r.version) is out of order: expected version \(expected)",
                           fix: "number revisions 2, 3, 4, … in the order they were made (version 1 is the original plan)")
                }
                expected = r.version + 1
                if let lastDate, r.date < lastDate {
                    report("revision:\(r.version)", "revision \(r.version) is dated \(r.date), before the previous revision \(lastDate)",
                           fix: "list revisions oldest first")
                }
                lastDate = r.date
                if r.changes.isEmpty {
                    report("revision:\(r.version)", "revision \(r.version) changes nothing", fix: "list its changes, or remove it")
                }
                for (i, c) in r.changes.enumerated() {
                    let ck = "revision:\(r.version):\(i)"
                    guard milestones[c.item] != nil || indicators[c.item] != nil else {
                        report(ck, "revision \(r.version) changes unknown item `\(c.item)`",
                               fix: closest(c.item, among: Set(milestones.keys).union(indicators.keys)).map { "did you mean `\($0)`?" } ?? "name a milestone or indicator id")
                        continue
                    }
                    if indicators[c.item] != nil && (c.field == .start || c.field == .due) {
                        report(ck, "indicator `\(c.item)` has no `\(c.field.rawValue)`", fix: "indicators revise `target` or `baseline`")
                        continue
                    }
                    chains["\(c.item).\(c.field.rawValue)", default: []].append((r.version, c, i))
                }
            }
            return chains
        }

        /// Each change starts where the one before it left the field, and the last one
        /// leaves it as the plan has it now.
        mutating func checkRevisionChains(_ chains: [String: [RevisionLink]]) {
            for (_, chain) in chains {
                for (n, link) in chain.enumerated() {
                    let ck = "revision:\(link.rev):\(link.index)"
                    if n > 0 && !same(chain[n - 1].change.to, link.change.from, link.change.field) {
                        report(ck, "revision \(link.rev) changes `\(link.change.item)` \(link.change.field.rawValue) from \(link.change.from), but revision \(chain[n - 1].rev) left it at \(chain[n - 1].change.to)",
                               fix: "make `from` \(chain[n - 1].change.to)")
                    }
                }
                if let final = chain.last, let current = currentValue(final.change.item, final.change.field, milestones, indicators),
                   !same(final.change.to, current, final.change.field) {
                    report("revision:\(final.rev):\(final.index)",
                           "`\(final.change.item)` \(final.change.field.rawValue) is \(current) in the plan, but its last revision \(final.rev) set it to \(final.change.to)",
                           fix: "a change to a due date or target is a new revision: add one from \(final.change.to) to \(current), with its reason")
                }
            }
        }

        func currentValue(_ item: String, _ field: Revision.Change.Field, _ ms: [String: Milestone], _ xs: [String: Indicator]) -> String? {
            if let m = ms[item] {
                switch field {
                case .start: return m.start.iso
                case .due: return m.due.iso
                case .baseline: return fmt(m.baseline)
                case .target: return fmt(m.target)
                }
            }
            if let x = xs[item] {
                switch field {
                case .baseline: return fmt(x.baseline)
                case .target: return fmt(x.target)
                default: return nil
                }
            }
            return nil
        }

        func same(_ a: String, _ b: String, _ field: Revision.Change.Field) -> Bool {
            switch field {
            case .start, .due: return PlanDate(iso: a) != nil && PlanDate(iso: a) == PlanDate(iso: b)
            case .baseline, .target: return Double(a) != nil && Double(a) == Double(b)
            }
        }
    }
}

/// A number as a plan writes it: no trailing `.0`.
func fmt(_ v: Double) -> String {
    v.rounded() == v && abs(v) < 1e15 ? String(Int(v)) : String(v)
}
