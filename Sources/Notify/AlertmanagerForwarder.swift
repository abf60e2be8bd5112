import CoreMetrics
import Feed
import Foundation
import History
import Logging
import Plan
import ServiceLifecycle
import Status
import StreamProtocol

/// Forwards Koers' alerts to one Prometheus Alertmanager (`koers aggregator run
/// --alertmanager URL`; give it twice for an HA pair: each is a target of its own).
///
/// What is sent (`docs/operations.md`, "Alertmanager"): every fired alert — firing,
/// acknowledged, flapping; never pending — as a postable alert with the labels
/// `alertname`, `alertkey`, `theme`, `item`, `severity`, `area`, `owner`, the
/// annotations `summary`, `why`, `evidence`, `what_to_do`, `link`, its `startsAt`, and an
/// `endsAt` of now + 4 × the re-send interval, re-sent on that interval the way
/// Prometheus does, so Alertmanager keeps it while Koers runs and resolves it by itself
/// when Koers is gone. A resolve is sent with `endsAt` = now.
///
/// Durable, at least once: on start the open alerts are sent from a snapshot, then
/// every stored transition after the target's position, in order; the position
/// (`NotifyPositions`) advances only after Alertmanager answered 2xx.
public struct AlertmanagerForwarder: Service {
    public static let notifier = "alertmanager"

    let feed: any StatusFeed
    let baseURL: URL
    let positions: NotifyPositions
    let publicURL: String?
    let resendInterval: Duration
    let delivery: Delivery
    let names: [String: String]

    /// - Parameters:
    ///   - url: Alertmanager's base URL (`http://host:9093`); alerts go to `{url}/api/v2/alerts`.
    ///   - publicURL: where operators reach the aggregator's HTTP server, for each alert's `link`.
    ///   - resendInterval: how often every open alert is sent again (60 s).
    public init(feed: any StatusFeed, url: URL, positions: NotifyPositions, publicURL: String?, resendInterval: Duration = .seconds(60),
                metricsFactory: any MetricsFactory, logger: Logger) {
        self.feed = feed
        self.baseURL = url
        self.positions = positions
        self.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.resendInterval = resendInterval
        self.delivery = Delivery(notifier: Self.notifier, target: url.absoluteString, logger: logger, metricsFactory: metricsFactory)
        var names: [String: String] = [:]
        let plan = feed.plan
        for m in plan.milestones { names[m.milestone.id] = m.milestone.name }
        for i in plan.indicators { names[i.indicator.id] = i.indicator.name }
        for t in plan.themes { names[t.id] = t.name }
        for f in plan.funding { names[f.id] = f.name }
        self.names = names
    }

    var alertsURL: URL { baseURL.appendingPathComponent("api/v2/alerts") }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            do { try await self.forward() } catch is CancellationError { return }
        }
    }

    func forward() async throws {
        let reader = StreamReader(hub: feed.hub, history: try StoreHistory(path: feed.storePath))
        let target = delivery.target
        var position = try positions.position(notifier: Self.notifier, target: target)
        delivery.logger.info("forwarding alerts to Alertmanager",
                             metadata: ["position": "\(position.map(String.init) ?? "none: from the current snapshot")"])
        // The label set last sent for each alert key: a label that changes (a funding
        // line's severity turning critical) makes a new alert in Alertmanager, so the old
        // one is resolved with it.
        var sent: [String: [String: String]] = [:]
        var resendDue = true
        var lastResend = ContinuousClock.now
        // The position is written at most every second, and when the forwarder stops: at
        // least once allows what a crash leaves unwritten to be sent again, which
        // Alertmanager takes as the same alerts (it keys them by label set), in order; a
        // write per delivery was an fsync per wake-up during a burst.
        var saved = position, savedAt = ContinuousClock.now
        func save(_ force: Bool) throws {
            guard let p = position, p != saved, force || ContinuousClock.now - savedAt >= .seconds(1) else { return }
            try positions.setPosition(p, notifier: Self.notifier, target: target)
            saved = p
            savedAt = .now
        }
        defer { try? save(true) }
        let (wake, stop) = wakeups(feed.hub, tick: .seconds(1))
        defer { stop() }
        for await _ in wake {
            if resendDue {
                // On start, and after an outage (Alertmanager may have restarted: it keeps
                // alerts in memory only), every open alert; it deduplicates by label set.
                let snap = await feed.snapshot(theme: nil)
                let open = snap.alerts.filter { Self.isActive($0.state) }.map { postable($0, endsAt: nil) }
                try await delivery.untilDelivered { try await self.send(open) }
                delivery.delivered.increment(by: Int64(open.count))
                for a in open { sent[a.key] = a.labels }
                if position == nil {
                    // A new target starts at the snapshot: the history before it is in it.
                    position = snap.sequence
                    try save(true)
                }
                resendDue = false
                lastResend = .now
            }
            guard var at = position else { continue }
            while true {
                // A page of transitions is one POST, in stream order (Alertmanager applies
                // a request's alerts in turn): a POST per transition cost a quarter of the
                // ingest under a burst.
                let (page, through) = try reader.page(after: at, limit: 500, kind: .alertTransition)
                var alerts: [PostableAlert] = []
                for d in page {
                    guard case .alertTransition(let doc)? = try? d.decoded() else { continue }
                    alerts += transitionAlerts(doc, sent: &sent)
                }
                if !alerts.isEmpty {
                    if try await delivery.untilDelivered({ try await self.send(alerts) }) { resendDue = true }
                    delivery.delivered.increment(by: Int64(alerts.count))
                }
                at = through
                position = at
                if page.count < 500 { break }
            }
            delivery.position.record(Int64(at))
            try save(false)
            if ContinuousClock.now - lastResend >= resendInterval { resendDue = true }
        }
    }

    /// The states in which an alert is active in Alertmanager: it has fired and not resolved.
    static func isActive(_ state: AlertState) -> Bool {
        state == .firing || state == .acknowledged || state == .flapping
    }

    /// What one transition sends: the alert, active or resolved, or nothing (a pending
    /// alert has not fired; a pending one dropped was never sent).
    func transitionAlerts(_ doc: StreamDocuments.AlertTransitionDocument, sent: inout [String: [String: String]]) -> [PostableAlert] {
        let now = Date()
        if Self.isActive(doc.to) {
            let a = postable(doc.alert, endsAt: nil)
            var out = [a]
            if let old = sent[a.key], old != a.labels {
                var gone = a
                gone.labels = old
                gone.endsAt = Self.timestamp(now)
                out.insert(gone, at: 0)
            }
            sent[a.key] = a.labels
            return out
        }
        guard doc.to == .resolved, let from = doc.from, from != .pending else { return [] }
        var a = postable(doc.alert, endsAt: now)
        if let old = sent.removeValue(forKey: a.key) { a.labels = old }
        return [a]
    }

    /// An alert as Alertmanager's API takes it; `endsAt` nil: active, until now + 4 × the
    /// re-send interval.
    func postable(_ alert: Alert, endsAt: Date?) -> PostableAlert {
        var labels = ["alertname": alert.rule, "alertkey": alert.key, "item": alert.subject, "severity": alert.severity.rawValue]
        if let theme = alert.theme, !theme.isEmpty { labels["theme"] = theme }
        if !alert.areas.isEmpty { labels["area"] = alert.areas.joined(separator: ",") }
        if let owner = alert.owner, !owner.isEmpty { labels["owner"] = owner }
        let name = names[alert.subject].map { "\($0) (\(alert.subject))" } ?? alert.subject
        let meaning = Runbook.rule(alert.rule)?.meaning ?? alert.rule
        var annotations = [
            "summary": "\(alert.rule): \(name) — \(meaning)",
            "why": alert.evidence.summary,
            "evidence": Self.evidenceText(alert.evidence),
            "what_to_do": Runbook.action(for: alert.rule),
            "state": alert.state.rawValue,
        ]
        var generatorURL: String?
        if let publicURL {
            let link = "\(publicURL)/items/\(alert.subject.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? alert.subject)"
            annotations["link"] = link
            generatorURL = link
        }
        if let ack = alert.acknowledgement {
            annotations["acknowledged_by"] = ack.by
            annotations["acknowledged_reason"] = ack.reason
            annotations["acknowledged_until"] = ack.until?.iso ?? "until it resolves"
        }
        let now = Date()
        // Programme dates are days: the alert's `since` at midnight UTC, never later than
        // now (a simulated clock may run ahead, and Alertmanager refuses a start after the end).
        let since = Date(timeIntervalSince1970: Double(alert.since.daysSinceEpoch) * 86_400)
        let ends = endsAt ?? now.addingTimeInterval(4 * Double(resendInterval.components.seconds))
        return PostableAlert(key: alert.key, labels: labels, annotations: annotations, startsAt: Self.timestamp(min(since, ends, now)),
                             endsAt: Self.timestamp(ends), generatorURL: generatorURL)
    }

    static func evidenceText(_ e: Evidence) -> String {
        var parts: [String] = []
        if let v = e.lastValue { parts.append("last value \(JSONNumber.text(v))" + (e.lastDate.map { " on \($0.iso)" } ?? "")) }
        if let v = e.expected { parts.append("expected \(JSONNumber.text(v))") }
        if let d = e.deviation { parts.append("deviation \(JSONNumber.text(d))") }
        if let a = e.ageDays { parts.append("data \(a) days old") }
        if let r = e.reportedBy { parts.append("reported by \(r)") }
        if let f = e.forecast { parts.append("forecast \(f.iso)") }
        return parts.isEmpty ? e.summary : parts.joined(separator: "; ")
    }

    /// RFC 3339 in UTC with milliseconds (`2026-12-04T21:40:05.123Z`), as Alertmanager
    /// takes it. Written out by hand: a Foundation `ISO8601DateFormatter` costs about
    /// 145 µs to make here, and at two per alert it was most of what forwarding a burst
    /// of transitions cost the aggregator.
    static func timestamp(_ d: Date) -> String {
        let ms = Int64((d.timeIntervalSince1970 * 1000).rounded())  // to the nearest millisecond
        let perDay = PlanDate.millisecondsPerDay
        let day = ms >= 0 ? ms / perDay : (ms - perDay + 1) / perDay
        let inDay = ms - day * perDay
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let milli = inDay % 1000
        let fraction = milli < 10 ? "00\(milli)" : milli < 100 ? "0\(milli)" : "\(milli)"
        return "\(PlanDate(daysSinceEpoch: Int(day)).iso)T\(two(inDay / 3_600_000)):\(two(inDay / 60_000 % 60)):\(two(inDay / 1000 % 60)).\(fraction)Z"
    }

    func send(_ alerts: [PostableAlert]) async throws {
        guard !alerts.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await delivery.post(alertsURL, body: try encoder.encode(alerts))
    }
}

/// Alertmanager's `postableAlert` (API v2).
struct PostableAlert: Encodable, Sendable {
    /// The alert key, to remember what was sent; not encoded.
    var key: String
    var labels: [String: String]
    var annotations: [String: String]
    var startsAt: String
    var endsAt: String
    var generatorURL: String?

    enum CodingKeys: String, CodingKey { case labels, annotations, startsAt, endsAt, generatorURL }
}

/// Numbers as a person writes them: 4, 5.5, 0.15.
enum JSONNumber {
    static func text(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.4g", v)
    }
}
