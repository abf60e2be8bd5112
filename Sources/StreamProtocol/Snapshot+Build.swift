import Plan
import Status

extension StreamDocuments.Snapshot {
    /// The one way a snapshot is made, by the running aggregator and by a replay alike:
    /// every item's status, every roll-up node, the open alerts and the silent themes,
    /// each sorted so the same state always gives the same document.
    ///
    /// - Parameters:
    ///   - engine: the status engine holding the state.
    ///   - alerts: the open alerts.
    ///   - sequence: the stream sequence the state holds at (0 for a replay).
    ///   - theme: only this theme's items, its roll-up nodes (the theme, its goals and
    ///     interventions) and its alerts; nil for everything.
    ///   - topics: each stream topic's latest sequence (nil for a replay).
    ///   - withItems: false leaves the items out (and the alerts unsorted): what a
    ///     summarised page of a very large plan needs, without sorting 100,000 of each.
    public init(engine: StatusEngine, alerts: [Alert], sequence: UInt64, theme: String? = nil, topics: [String: UInt64]? = nil,
                withItems: Bool = true) {
        let items = withItems ? engine.allStatuses.filter { theme == nil || engine.themeOf($0.item) == theme }.sorted { $0.item < $1.item } : []
        let rollups = engine.rolledUp.keys.sorted().compactMap { node -> StreamDocuments.Rollup? in
            guard let s = engine.summary(of: node) else { return nil }
            if let theme, engine.theme(ofNode: node) != theme { return nil }
            return StreamDocuments.Rollup(node: node, state: s.state,
                                          counts: Dictionary(uniqueKeysWithValues: s.counts.map { ($0.key.rawValue, $0.value) }))
        }
        let filtered = theme == nil ? alerts : alerts.filter { $0.theme == theme }
        let open = withItems ? filtered.sorted { $0.key < $1.key } : filtered
        self.init(sequence: sequence, date: engine.today, planVersion: engine.plan.version, items: items, rollups: rollups,
                  alerts: open, silentThemes: engine.silent.filter { theme == nil || $0 == theme }.sorted(), topics: topics)
    }
}
