import Feed
import Foundation
import Logging
import Plan
import Status
import StreamProtocol
import Wire

/// The status and the alerts, and the numbering of the stream: the state the ingest
/// thread owns (``IngestLoop``). Not shared: every other part asks for it through
/// ``StatusKeeper``, whose requests the loop runs between batches.
///
/// The apply and evaluate stages of the pipeline are the engines themselves
/// (`Status.StatusEngine` moves the items, `Status.AlertEngine` decides the alerts;
/// each is tested alone in StatusTests); this type numbers what they produce.
struct StatusCore {
    var engine: StatusEngine
    var alerts: AlertEngine
    let planThemes: [String]
    private(set) var sequence: UInt64
    /// Each topic's latest stream sequence: the `previous` of its next message.
    private(set) var topics: [String: UInt64]

    /// One message for the operators' stream.
    typealias StreamEvent = ReportStore.StreamRecord

    /// Rebuilds the state from the store: each item's first and latest observation (the
    /// `items` table, one row per item) evaluated as of the clock's date, open alerts
    /// restored as last stored (so nothing is announced twice).
    ///
    /// Then the alerts for what already holds (an item overdue before any report
    /// arrives) are stored and published through `hub`, in chunks: a large plan's first
    /// start raises an alert per item, and holding all their documents at once would set
    /// the process's memory high-water mark.
    init(index: PlanIndex, store: ReportStore, hub: StreamHub, nowMs: Int64, silenceGraceMs: Int64) throws {
        var engine = StatusEngine(index: index, today: PlanDate(epochMilliseconds: nowMs), observations: try store.itemObservations())
        engine.silenceGraceMs = silenceGraceMs
        // A theme never heard since this start is silent once its cadence has passed.
        engine.startedMs = nowMs
        self.engine = engine
        alerts = AlertEngine(index: index)
        alerts.restore(try store.openAlerts())
        planThemes = index.plan.themes.map(\.id)
        sequence = try store.lastStreamSequence()
        topics = try store.lastTopicSequences()
        let all = engine.allStatuses.sorted { $0.item < $1.item }
        var start = 0
        repeat {
            let chunk = all[start..<min(start + 5_000, all.count)].map { StatusEngine.Change(item: $0.item, from: nil, to: $0) }
            var transitions = alerts.itemsChanged(chunk, engine: engine)
            if start + 5_000 >= all.count { transitions += alerts.daily(engine: engine) }
            let out = numbered(changes: [], transitions: transitions)
            try store.appendStream(out, at: nowMs)
            hub.publish(out.lazy.map(\.forPublishing))
            start += 5_000
        } while start < all.count
    }

    // MARK: - Apply and evaluate

    /// A batch's effect: the date moves to `ms`, the themes heard are alive, the reports
    /// are recorded; the changes and the alert transitions they cause, numbered.
    mutating func apply(_ reports: [ReportStore.StoredReport], heard: Set<String>, at ms: Int64) -> [StreamEvent] {
        var changes = engine.advance(to: PlanDate(epochMilliseconds: ms), nowMs: ms)
        for p in heard { changes += engine.heard(theme: p, at: ms) }
        changes += engine.record(reports.map { ($0.item, StatusModel.Observation(value: $0.value, date: $0.date, publisher: $0.publisher)) })
        return numbered(changes: changes, transitions: alerts.itemsChanged(changes, engine: engine) + alerts.daily(engine: engine))
    }

    /// The passage of time: scheduled re-evaluation, liveness, alert promotion.
    mutating func tick(at ms: Int64) -> [StreamEvent] {
        let changes = engine.advance(to: PlanDate(epochMilliseconds: ms), nowMs: ms)
        return numbered(changes: changes, transitions: alerts.itemsChanged(changes, engine: engine) + alerts.daily(engine: engine))
    }

    /// An operator acknowledges an alert: the transition, numbered (the caller stores it
    /// with the acknowledgement log entry, then publishes it).
    mutating func acknowledge(key: String, by: String, reason: String, until: PlanDate?) -> Result<StreamEvent, AlertError> {
        do throws(AlertError) {
            let t = try alerts.acknowledge(key, Acknowledgement(by: by, reason: reason, until: until), today: engine.today)
            return .success(numbered(changes: [], transitions: [t])[0])
        } catch {
            return .failure(error)
        }
    }

    // MARK: - Numbering

    /// Numbers changes and transitions as stream messages (changes first).
    mutating func numbered(changes: [StatusEngine.Change], transitions: [AlertTransition]) -> [StreamEvent] {
        var out: [StreamEvent] = []
        out.reserveCapacity(changes.count + transitions.count)
        for c in changes {
            sequence += 1
            // Items, and the goals and interventions inside a theme, go on the theme's
            // topic; areas and the programme on `status.programme`.
            let topic = "status.\(engine.theme(ofNode: c.item) ?? "programme")"
            let previous = topics.updateValue(sequence, forKey: topic) ?? 0
            let doc = StreamDocuments.StatusChange(sequence: sequence, date: engine.today, item: c.item, from: c.from, to: c.to.state,
                                                   why: c.to.evidence.summary, evidence: c.to.evidence, progress: c.to.progress,
                                                   topic: topic, previous: previous)
            out.append(StreamEvent(sequence: sequence, type: .statusChange, topic: topic, document: StreamDocuments.encode(doc),
                                   content: .statusChange(doc)))
        }
        for t in transitions {
            sequence += 1
            out.append(Self.event(t, sequence: sequence, previous: topics.updateValue(sequence, forKey: Self.topic(of: t)) ?? 0))
        }
        return out
    }

    /// The topic of an alert transition: `alert.<theme>.<severity>`.
    static func topic(of t: AlertTransition) -> String { "alert.\(t.alert.theme ?? "programme").\(t.alert.severity.rawValue)" }

    /// An alert transition as a numbered stream message.
    static func event(_ t: AlertTransition, sequence: UInt64, previous: UInt64) -> StreamEvent {
        let topic = topic(of: t)
        let doc = StreamDocuments.AlertTransitionDocument(sequence: sequence, date: t.date, key: t.key, from: t.from, to: t.to, alert: t.alert,
                                                          topic: topic, previous: previous)
        let alert = StreamDocuments.encode(t.alert)
        return StreamEvent(sequence: sequence, type: .alertTransition, topic: topic,
                           document: StreamDocuments.encode(doc, alertJSON: alert), alert: (t.key, t.to == .resolved ? nil : alert),
                           content: .alertTransition(doc))
    }

    // MARK: - What the others read

    /// The aggregator's programme date.
    var today: PlanDate { engine.today }

    /// The current state, and the sequence it holds at.
    func snapshot(theme: String?) -> StreamDocuments.Snapshot {
        StreamDocuments.Snapshot(engine: engine, alerts: alerts.openAlerts, sequence: sequence, theme: theme, topics: topics)
    }

    /// The current state without the items' statuses (roll-ups, alerts, liveness).
    func summarySnapshot() -> StreamDocuments.Snapshot {
        StreamDocuments.Snapshot(engine: engine, alerts: alerts.openAlerts, sequence: sequence, theme: nil, topics: topics, withItems: false)
    }

    /// The date, the sequence and the silent themes.
    func summary() -> StatusSummary { StatusSummary(date: engine.today, sequence: sequence, silentThemes: engine.silent) }

    /// What a stream heartbeat says: the last sequence, and each topic's.
    func heartbeat() -> StreamDocuments.Heartbeat { StreamDocuments.Heartbeat(sequence: sequence, topics: topics) }
}
