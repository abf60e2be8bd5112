import Feed
import Foundation
import Plan
import Prometheus
import Status
import StreamProtocol
import Synchronization

/// The status half of `/metrics`, kept from the aggregator's stream: items by state per
/// theme, the programme's and themes' states, open alerts by severity and state, the
/// stream's sequence. Seeded from one snapshot and then moved by each stream document,
/// so a scrape costs no snapshot whatever the plan's size. Per item (progress against
/// the path), liveness and the date are read at each scrape: they change without a
/// stream message. Large plans leave the per-item series out (`--metrics-items off`).
public final class StatusGauges: Sendable {
    let feed: any StatusFeed
    let registry: PrometheusCollectorRegistry
    let perItem: Bool
    let index: PlanIndex
    let model = StatusModel()
    let themes: [String]
    let followed: Mutex<Followed>

    struct Followed {
        var items: [String: ItemState] = [:]
        var alerts: [String: (severity: Severity, state: AlertState)] = [:]
        var nodes: [String: ItemState] = [:]
        var sequence: UInt64 = 0
    }

    let sequence: Gauge, date: Gauge
    let items: [String: [ItemState: Gauge]]
    let nodeState: [String: [ItemState: Gauge]]
    let alertsOpen: [Severity: [AlertState: Gauge]]
    let silent: [String: Gauge]
    static let openStates: [AlertState] = [.pending, .firing, .acknowledged, .flapping]

    public init(feed: any StatusFeed, registry: PrometheusCollectorRegistry, perItem: Bool) {
        self.feed = feed
        self.registry = registry
        self.perItem = perItem
        index = PlanIndex(feed.plan)
        themes = feed.plan.themes.map(\.id)
        followed = Mutex(Followed())
        func gauge(_ name: String, _ labels: [(String, String)] = []) -> Gauge {
            registry.makeGauge(name: name, labels: labels, help: MetricCatalog.help(name))
        }
        sequence = gauge("koers_stream_sequence")
        date = gauge("koers_status_date_timestamp_seconds")
        var items: [String: [ItemState: Gauge]] = [:], nodes: [String: [ItemState: Gauge]] = [:], silent: [String: Gauge] = [:]
        for t in themes {
            for s in ItemState.allCases { items[t, default: [:]][s] = gauge("koers_items", [("theme", t), ("state", s.rawValue)]) }
            silent[t] = gauge("koers_theme_silent", [("theme", t)])
        }
        for n in ["programme"] + themes {
            for s in ItemState.allCases { nodes[n, default: [:]][s] = gauge("koers_node_state", [("node", n), ("state", s.rawValue)]) }
        }
        var alerts: [Severity: [AlertState: Gauge]] = [:]
        for sev in Severity.allCases {
            for st in Self.openStates { alerts[sev, default: [:]][st] = gauge("koers_alerts_open", [("severity", sev.rawValue), ("state", st.rawValue)]) }
        }
        self.items = items
        self.nodeState = nodes
        self.alertsOpen = alerts
        self.silent = silent
    }

    /// Follows the stream until cancelled (or the aggregator stops).
    public func run() async {
        // Subscribe first, then take the snapshot: what the snapshot holds is skipped.
        let sub = feed.hub.subscribeBatches()
        let snap = await feed.snapshot(theme: nil)
        seed(snap)
        for await batch in sub.batches {
            apply(batch.lazy.filter { $0.sequence > snap.sequence })
        }
    }

    func seed(_ snap: StreamDocuments.Snapshot) {
        followed.withLock { f in
            for i in snap.items where index.position(of: i.item) != nil { f.items[i.item] = i.state }
            for r in snap.rollups { if let n = Self.node(r.node, themes: themes) { f.nodes[n] = r.state } }
            for a in snap.alerts { f.alerts[a.key] = (a.severity, a.state) }
            f.sequence = snap.sequence
            refreshCounts(f)
        }
    }

    func apply(_ documents: some Sequence<FeedDocument>) {
        followed.withLock { f in
            for d in documents { apply(d, to: &f) }
            sequence.set(Double(f.sequence))
        }
    }

    private func apply(_ d: FeedDocument, to f: inout Followed) {
        guard let content = try? d.decoded() else { return }
        do {
            f.sequence = d.sequence
            switch content {
            case .statusChange(let c):
                if let p = index.position(of: c.item) {
                    let theme = index.theme(at: p)
                    if let old = f.items[c.item] { items[theme]?[old]?.decrement() }
                    items[theme]?[c.to]?.increment()
                    f.items[c.item] = c.to
                } else if let node = Self.node(c.item, themes: themes) {
                    if let old = f.nodes[node] { nodeState[node]?[old]?.set(to: 0) }
                    nodeState[node]?[c.to]?.set(to: 1)
                    f.nodes[node] = c.to
                }
            case .alertTransition(let t):
                if let old = f.alerts[t.key] { alertsOpen[old.severity]?[old.state]?.decrement() }
                if t.to == .resolved {
                    f.alerts[t.key] = nil
                } else {
                    alertsOpen[t.alert.severity]?[t.to]?.increment()
                    f.alerts[t.key] = (t.alert.severity, t.to)
                }
            }
        }
    }

    /// The `node` label of a roll-up node the gauges show: `programme` and the themes
    /// (roll-up keys `programme`, `theme:ID`); nil for goals, interventions and areas.
    static func node(_ key: String, themes: [String]) -> String? {
        if key == "programme" { return key }
        guard key.hasPrefix("theme:") else { return nil }
        let t = String(key.dropFirst(6))
        return themes.contains(t) ? t : nil
    }

    /// Sets every followed gauge from the followed state.
    private func refreshCounts(_ f: Followed) {
        var count: [String: [ItemState: Int]] = [:]
        for (item, state) in f.items {
            guard let p = index.position(of: item) else { continue }
            count[index.theme(at: p), default: [:]][state, default: 0] += 1
        }
        for (t, byState) in items { for (s, g) in byState { g.set(Double(count[t]?[s] ?? 0)) } }
        for (n, byState) in nodeState { for (s, g) in byState { g.set(to: f.nodes[n] == s ? 1 : 0) } }
        var open: [Severity: [AlertState: Int]] = [:]
        for a in f.alerts.values { open[a.severity, default: [:]][a.state, default: 0] += 1 }
        for (sev, byState) in alertsOpen { for (st, g) in byState { g.set(Double(open[sev]?[st] ?? 0)) } }
        sequence.set(Double(f.sequence))
    }

    /// Reads what changes without a stream message, just before a scrape is answered:
    /// the date, liveness, and (when on) each item's progress against its path.
    public func collect() async {
        let now = feed.now()
        let heard = await feed.lastHeard()
        for t in themes {
            guard let ms = heard[t] else { continue }
            registry.makeGauge(name: "koers_theme_last_heard_timestamp_seconds", labels: [("theme", t)],
                               help: MetricCatalog.help("koers_theme_last_heard_timestamp_seconds")).set(Double(ms) / 1000)
            registry.makeGauge(name: "koers_theme_quiet_seconds", labels: [("theme", t)],
                               help: MetricCatalog.help("koers_theme_quiet_seconds")).set(Double(max(0, now - ms)) / 1000)
        }
        // A snapshot only for the per-item series: a very large plan's scrape takes the
        // date and liveness alone.
        let summary = await feed.summary()
        date.set(Double(summary.date.daysSinceEpoch) * 86_400)
        for t in themes { silent[t]?.set(to: summary.silentThemes.contains(t) ? 1 : 0) }
        guard perItem else { return }
        let snap = await feed.snapshot(theme: nil)
        for i in snap.items {
            guard let p = index.position(of: i.item) else { continue }
            let labels = [("theme", index.theme(at: p)), ("item", i.item)]
            if let progress = i.progress {
                registry.makeGauge(name: "koers_item_progress_ratio", labels: labels, help: MetricCatalog.help("koers_item_progress_ratio")).set(progress)
            }
            registry.makeGauge(name: "koers_item_expected_progress_ratio", labels: labels,
                               help: MetricCatalog.help("koers_item_expected_progress_ratio")).set(expectedProgress(at: p, on: snap.date))
        }
    }

    /// The progress an item is expected to have on `date` on its planned path (0–1).
    func expectedProgress(at p: Int, on date: PlanDate) -> Double {
        if let placed = index.milestone(at: p) {
            let m = placed.milestone
            return min(1, max(0, model.fraction(m, model.expected(m, on: date))))
        }
        let x = index.indicator(at: p)!.indicator
        let span = x.target - x.baseline
        return span == 0 ? 1 : min(1, max(0, (model.expected(x, on: date) - x.baseline) / span))
    }
}
