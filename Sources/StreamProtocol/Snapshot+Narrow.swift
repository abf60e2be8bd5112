import Plan
import Status

extension StreamDocuments.Snapshot {
    /// A snapshot narrowed, on the operator's side, to a theme and/or an area: the items
    /// in them (an area holds milestones: their own areas, or their intervention's), the
    /// alerts about those items (and the silence of their themes), and — narrowed to an
    /// area — roll-ups counted again over just those items. `koers status` prints this,
    /// as text or `--json`; the HTTP API's
    /// `GET /api/v1/status?theme=&area=` returns it. The theme and area must be the plan's
    /// (check them first: `OperatorInput.checkTheme`, `checkArea`).
    public func narrowed(plan: Plan, theme: String?, area: String?) -> StreamDocuments.Snapshot {
        let snap = self
        guard theme != nil || area != nil else { return snap }
        // Each milestone's and indicator's place in the plan.
        var place: [String: (theme: String, goal: String, intervention: String?, areas: [String])] = [:]
        for t in plan.themes {
            for g in t.goals {
                for i in g.interventions {
                    for m in i.milestones { place[m.id] = (t.id, g.id, i.id, m.areas.isEmpty ? i.areas : m.areas) }
                }
                for x in g.indicators { place[x.id] = (t.id, g.id, nil, []) }
            }
        }
        func keep(_ item: String) -> Bool {
            guard let p = place[item] else { return false }
            return (theme == nil || p.theme == theme) && (area == nil || p.areas.contains(area!))
        }
        var out = snap
        out.items = snap.items.filter { keep($0.item) }
        let themes = Set(out.items.compactMap { place[$0.item]?.theme })
        out.silentThemes = snap.silentThemes.filter { theme == nil || $0 == theme }.filter { area == nil || themes.contains($0) }
        out.alerts = snap.alerts.filter { a in
            if keep(a.subject) { return true }
            if place[a.subject] != nil { return false }
            // Theme and funding alerts: by theme; within an area, a theme's silence only.
            if let area, !a.areas.contains(area) { return a.rule == "theme-silent" && themes.contains(a.subject) }
            return theme == nil || a.theme == theme
        }
        if let area {
            var counts: [String: [ItemState: Int]] = [:]
            for s in out.items {
                let p = place[s.item]!
                var nodes = ["area:\(area)", "theme:\(p.theme)", "goal:\(p.goal)"] + (p.intervention.map { ["intervention:\($0)"] } ?? [])
                if theme == nil { nodes.append("programme") }
                for n in nodes { counts[n, default: [:]][s.state, default: 0] += 1 }
            }
            out.rollups = counts.keys.sorted().map { n in
                StreamDocuments.Rollup(node: n, state: StatusEngine.rollUp(counts[n]!),
                                       counts: Dictionary(uniqueKeysWithValues: counts[n]!.map { ($0.key.rawValue, $0.value) }))
            }
        } else if let theme {
            out.rollups = snap.rollups.filter { r in
                r.node == "theme:\(theme)" || (r.node.hasPrefix("goal:") || r.node.hasPrefix("intervention:"))
                    && plan.themes.first { $0.id == theme }!.goals.contains { g in
                        "goal:\(g.id)" == r.node || g.interventions.contains { "intervention:\($0.id)" == r.node }
                    }
            }
        }
        return out
    }

}
