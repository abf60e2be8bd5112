import Feed
import Foundation
import Logging
import Plan
import Status
import StreamProtocol
import Wire

/// The aggregator's single owner of the status and alerts: applies stored reports and
/// the passage of time, numbers every status change and alert transition, and hands
/// them to the stream in order.
public actor StatusKeeper {
    var engine: StatusEngine
    var alerts: AlertEngine
    let store: ReportStore
    let clock: any KoersClock
    let logger: Logger
    nonisolated let planThemes: [String]
    public private(set) var sequence: UInt64
    /// Each topic's latest stream sequence: the `previous` of its next message.
    public private(set) var topics: [String: UInt64]
    /// The stream, in sequence order, for its subscribers (the ZeroMQ publisher first).
    public nonisolated let hub: StreamHub

    /// One message for the operators' stream.
    public typealias StreamEvent = ReportStore.StreamRecord

    /// Rebuilds the state from the store: each item's first and latest observation (the
    /// `items` table, one row per item) evaluated as of the clock's date, open alerts
    /// restored as last stored (so nothing is announced twice).
    ///
    /// The keeper publishes through `hub` from its first start-up alert on: subscribe
    /// before making the keeper to receive them.
    public init(plan: Plan, store: ReportStore, hub: StreamHub, clock: any KoersClock, logger: Logger, silenceGraceMs: Int64 = 0) throws {
        try self.init(index: PlanIndex(plan), store: store, hub: hub, clock: clock, logger: logger, silenceGraceMs: silenceGraceMs)
    }

    public init(index: PlanIndex, store: ReportStore, hub: StreamHub, clock: any KoersClock, logger: Logger, silenceGraceMs: Int64 = 0) throws {
        let today = PlanDate(daysSinceEpoch: Int(clock.now() / 86_400_000))
        var engine = StatusEngine(index: index, today: today, observations: try store.itemObservations())
        engine.silenceGraceMs = silenceGraceMs
        // A theme never heard since this start is silent once its cadence has passed.
        engine.startedMs = clock.now()
        self.engine = engine
        var alerts = AlertEngine(index: index)
        alerts.restore(try store.openAlerts())
        self.alerts = alerts
        self.store = store
        self.planThemes = index.plan.themes.map(\.id)
        self.clock = clock
        self.logger = logger
        self.sequence = try store.lastStreamSequence()
        self.topics = try store.lastTopicSequences()
        self.hub = hub
        // Alerts for what already holds at start (an item overdue before any report
        // arrives); restored open alerts are kept, not announced again. In chunks: a
        // large plan's first start raises an alert per item, and holding all their
        // documents at once would set the process's memory high-water mark.
        let all = engine.allStatuses.sorted { $0.item < $1.item }
        var start = 0
        repeat {
            let chunk = all[start..<min(start + 5_000, all.count)].map { StatusEngine.Change(item: $0.item, from: nil, to: $0) }
            var transitions = self.alerts.itemsChanged(chunk, engine: engine)
            if start + 5_000 >= all.count { transitions += self.alerts.daily(engine: engine) }
            // `publish` does this once the keeper runs; an initialiser may not call it.
            var out: [StreamEvent] = []
            out.reserveCapacity(transitions.count)
            for t in transitions {
                sequence += 1
                let topic = Self.topic(of: t)
                out.append(Self.event(t, sequence: sequence, previous: topics.updateValue(sequence, forKey: topic) ?? 0))
            }
            try store.appendStream(out, at: clock.now())
            hub.publish(out.lazy.map(\.forPublishing))
            start += 5_000
        } while start < all.count
    }

    /// Applies an ingest batch and stores it: its reports, refusals and acknowledgement
    /// levels go into one transaction with the stream messages they cause; the messages
    /// are published after it commits, and the caller acknowledges after this returns.
    ///
    /// If the commit fails the engine has moved past the store; the error ends the
    /// aggregator, and a restart rebuilds the status from what was stored.
    ///
    /// - Returns: how long the transaction took (zero when there was nothing to store).
    @discardableResult
    public func apply(reports: [ReportStore.StoredReport], refusals: [ReportStore.Refusal] = [], acked: [String: UInt64] = [:],
                      heard: [String], at ms: Int64, receivedAt: ContinuousClock.Instant? = nil) throws -> Duration {
        var changes: [StatusEngine.Change] = []
        changes += engine.advance(to: PlanDate(daysSinceEpoch: Int(ms / 86_400_000)), nowMs: ms)
        for p in Set(heard) { changes += engine.heard(theme: p, at: ms) }
        changes += engine.record(reports.map { ($0.item, StatusModel.Observation(value: $0.value, date: PlanDate(iso: $0.date)!, publisher: $0.publisher)) })
        let transitions = alerts.itemsChanged(changes, engine: engine) + alerts.daily(engine: engine)
        guard !reports.isEmpty || !refusals.isEmpty || !acked.isEmpty else {
            try publish(changes: changes, transitions: transitions)
            return .zero
        }
        var events = numbered(changes: changes, transitions: transitions)
        if let receivedAt { for i in events.indices { events[i].receivedAt = receivedAt } }
        let started = ContinuousClock.now
        try store.commit(reports: reports, refusals: refusals, acked: acked, stream: events, at: clock.now())
        let took = ContinuousClock.now - started
        hub.publish(events.lazy.map(\.forPublishing))
        return took
    }

    /// The passage of time: scheduled re-evaluation, liveness, alert promotion.
    public func tick() throws {
        let ms = clock.now()
        let changes = engine.advance(to: PlanDate(daysSinceEpoch: Int(ms / 86_400_000)), nowMs: ms)
        try publish(changes: changes, transitions: alerts.itemsChanged(changes, engine: engine) + alerts.daily(engine: engine))
    }

    /// An operator acknowledges an alert: the transition is published and the
    /// acknowledgement logged with the key's identity, in one transaction.
    ///
    /// - Parameters:
    ///   - identity: the authenticated key (`operator:NAME`; `operator` in plain mode).
    ///   - person: who, as the person at the keyboard names themselves (optional).
    public func acknowledge(key: String, identity: String, person: String?, reason: String, until: PlanDate?) throws -> Result<AlertTransition, AlertError> {
        let by = [identity, person].compactMap { $0 }.joined(separator: "/")
        do {
            let t = try alerts.acknowledge(key, Acknowledgement(by: by, reason: reason, until: until), today: engine.today)
            let out = numbered(changes: [], transitions: [t])
            try store.appendAcknowledgement(.init(alert: key, identity: identity, by: person, reason: reason, until: until?.iso, date: engine.today.iso),
                                            stream: out, at: clock.now())
            hub.publish(out.lazy.map(\.forPublishing))
            return .success(t)
        } catch let e as AlertError {
            return .failure(e)
        }
    }

    /// The aggregator's programme date.
    public var today: PlanDate { engine.today }

    /// The theme of an open alert (nil: no such open alert, or a programme alert).
    public func openAlert(_ key: String) -> Alert? { alerts.openAlerts.first { $0.key == key } }

    /// Whether `theme` is a theme of the plan, and if not, the closest ids.
    public nonisolated var themeIDs: [String] { planThemes }

    /// Stores and publishes the stream messages for changes and transitions.
    func publish(changes: [StatusEngine.Change], transitions: [AlertTransition]) throws {
        let out = numbered(changes: changes, transitions: transitions)
        guard !out.isEmpty else { return }
        try store.appendStream(out, at: clock.now())
        hub.publish(out.lazy.map(\.forPublishing))
    }

    /// Numbers changes and transitions as stream messages (changes first).
    func numbered(changes: [StatusEngine.Change], transitions: [AlertTransition]) -> [StreamEvent] {
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

    /// The current state, and the sequence it holds at.
    public func snapshot(theme: String?) -> StreamDocuments.Snapshot {
        StreamDocuments.Snapshot(engine: engine, alerts: alerts.openAlerts, sequence: sequence, theme: theme, topics: topics)
    }

    /// The date, the sequence and the silent themes.
    public func summary() -> StatusSummary { StatusSummary(date: engine.today, sequence: sequence, silentThemes: engine.silent) }

    /// When each theme was last heard from, in the aggregator's clock (ms).
    public func lastHeard() -> [String: Int64] { engine.lastHeard }

    /// The current state without the items' statuses (roll-ups, alerts, liveness).
    public func summarySnapshot() -> StreamDocuments.Snapshot {
        StreamDocuments.Snapshot(engine: engine, alerts: alerts.openAlerts, sequence: sequence, theme: nil, topics: topics, withItems: false)
    }

    /// What a stream heartbeat says: the last sequence, and each topic's.
    public func heartbeat() -> StreamDocuments.Heartbeat { StreamDocuments.Heartbeat(sequence: sequence, topics: topics) }
}
