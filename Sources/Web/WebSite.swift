import Feed
import Foundation
import Synchronization
import History
import Mustache
import Plan
import Status
import StreamProtocol

/// The web pages (`docs/web.md`): rendered on the server from the feed's snapshot (or
/// one recomputed as of a date), so they are whole without JavaScript; a small script
/// keeps a live page current through `/api/v1/stream`.
public struct WebSite: Sendable {
    public let feed: any StatusFeed
    /// Above this many items the overview lists interventions with their counts, and
    /// the items per wijk and per item (a 100,000-milestone page would be megabytes).
    public var itemsOnOverview = 2_000
    /// At most this many alerts are listed on the overview (all on /alerts, in pages).
    public var alertsOnOverview = 50
    let library: MustacheLibrary
    let store: StoreReader
    let lookup: PlanLookup

    /// A rendered page and its HTTP status.
    public struct Page: Sendable {
        public var status: Int
        public var html: String
        public init(status: Int, html: String) { self.status = status; self.html = html }
    }

    public init(feed: any StatusFeed) throws {
        self.feed = feed
        var templates: [String: MustacheTemplate] = [:]
        for (name, text) in [("layout", Templates.layout), ("itemRow", Templates.itemRow), ("itemTableHead", Templates.itemTableHead),
                             ("themes", Templates.themes), ("alertList", Templates.alertList), ("overview", Templates.overview),
                             ("item", Templates.item), ("areas", Templates.areas), ("area", Templates.area), ("alerts", Templates.alerts)] {
            templates[name] = try MustacheTemplate(string: text)
        }
        library = MustacheLibrary(templates: templates)
        store = StoreReader(path: feed.storePath)
        lookup = PlanLookup(feed.plan)
    }

    public static var stylesheet: String { Assets.css }
    public static var script: String { Assets.js }

    /// The status to show: live, or as of `asOf` (a date before the aggregator's).
    func snapshot(asOf: PlanDate?) async throws -> (StreamDocuments.Snapshot, live: Bool) {
        let live = await feed.snapshot(theme: nil)
        guard let asOf, asOf < live.date else { return (live, true) }
        // The same replay as `koers status --as-of`.
        let observations = try store.history().itemObservations(asOf: asOf)
        return (StreamDocuments.Snapshot(replaying: feed.plan, asOf: asOf, observations: observations), false)
    }

    /// What every page's frame shows.
    struct Frame {
        var title: String
        var programme: String
        var dateText: String
        var asOfValue: String
        var asOf: Bool
        var live: Bool
        var sequence: UInt64
        var planVersion: Int
        var query: String
        var isOverview = false
        var isAreas = false
        var isAlerts = false
        var body: String
    }

    func frame(_ title: String, _ snap: StreamDocuments.Snapshot, live: Bool, body: String) -> Frame {
        Frame(title: title, programme: feed.plan.programme.name, dateText: Dutch.date(snap.date), asOfValue: snap.date.iso, asOf: !live,
              live: live, sequence: snap.sequence, planVersion: snap.planVersion, query: live ? "" : "?as_of=\(snap.date.iso)", body: body)
    }

    func render(_ frame: Frame) -> String { library.render(frame, withTemplate: "layout") ?? "" }

    /// The overview: programme → themes → interventions → items, the open alerts and
    /// what changed in the last week.
    public func overview(asOf: PlanDate?) async throws -> Page {
        let summarised = lookup.index.count > itemsOnOverview
        // A summarised live page needs no item statuses: the counts are the programme's
        // roll-up, the alerts carry their evidence.
        let (snap, live) = summarised && asOf == nil ? (await feed.snapshotWithoutItems(), true) : try await snapshot(asOf: asOf)
        let model = PageModel(plan: feed.plan, lookup: lookup, snapshot: snap)
        let heard = live ? await feed.lastHeard() : [:]
        let alerts = model.alerts(snap.alerts, canAcknowledge: false, limit: alertsOnOverview)
        struct View {
            var heading: String; var state: String; var stateWord: String; var symbol: String; var itemCount: Int
            var summary: [CountView]; var summarised: Bool; var alerts: [AlertView]; var alertCount: Int; var moreAlerts: Bool
            var changes: [ChangeView]; var themes: [ThemeView]; var query: String
        }
        let programme = model.rollups["programme"]?.state ?? .unknown
        let view = View(heading: "Toekomstplan \(feed.plan.programme.name): stand per \(Dutch.date(snap.date))",
                        state: programme.rawValue, stateWord: Dutch.word(programme), symbol: Dutch.symbol(programme),
                        itemCount: lookup.index.count, summary: snap.items.isEmpty ? model.summary(counts: model.rollups["programme"]?.counts ?? [:]) : model.summary(items: snap.items),
                        summarised: summarised,
                        alerts: alerts, alertCount: snap.alerts.count, moreAlerts: snap.alerts.count > alertsOnOverview,
                        changes: live ? try changes(model, since: snap.date.adding(days: -7)) : [],
                        themes: model.themes(lastHeard: heard, now: feed.now(), summarised: summarised), query: live ? "" : "?as_of=\(snap.date.iso)")
        var f = frame("Overzicht", snap, live: live, body: library.render(view, withTemplate: "overview") ?? "")
        f.isOverview = true
        return Page(status: 200, html: render(f))
    }

    /// The items that changed state, and the alerts that fired or resolved, since `since`,
    /// newest first, from the stored stream.
    func changes(_ model: PageModel, since: PlanDate) throws -> [ChangeView] {
        var out: [ChangeView] = []
        let decoder = JSONDecoder()
        for m in try store.history().recentChanges(since: since, limit: 50) {
            if m.type == .statusChange, let c = try? decoder.decode(StreamDocuments.StatusChange.self, from: Data(m.document.utf8)) {
                guard let name = model.names[c.item] else { continue }
                let text = "\(name): \(c.from.map { Dutch.word($0) + " → " } ?? "")\(Dutch.word(c.to))"
                out.append(ChangeView(date: Dutch.date(c.date), text: text, symbol: Dutch.symbol(c.to), state: c.to.rawValue,
                                      link: "/items/\(PageModel.escapePath(c.item))"))
            } else if m.type == .alertTransition, let t = try? decoder.decode(StreamDocuments.AlertTransitionDocument.self, from: Data(m.document.utf8)) {
                let name = model.names[t.alert.subject] ?? t.alert.subject
                out.append(ChangeView(date: Dutch.date(t.date), text: "melding \(Dutch.word(t.alert.severity)) \(Dutch.word(t.to)): \(name)",
                                      symbol: t.to == .resolved ? "✔" : "!", state: t.to == .resolved ? "done" : "overdue",
                                      link: "/items/\(PageModel.escapePath(t.alert.subject))"))
            }
        }
        return out
    }
}

/// The store, opened once on first use and kept (opening it per page cost milliseconds).
final class StoreReader: Sendable {
    let path: String
    private let opened = Mutex<StoreHistory?>(nil)

    init(path: String) { self.path = path }

    func history() throws -> StoreHistory {
        try opened.withLock { h in
            if let h { return h }
            let made = try StoreHistory(path: path)
            h = made
            return made
        }
    }
}
