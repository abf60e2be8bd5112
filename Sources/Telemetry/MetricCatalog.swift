import CoreMetrics
import Prometheus

/// Every metric `/metrics` shows, with its help text: one list, so that the help texts,
/// `docs/operations.md` ("Metrics") and the Grafana dashboard's queries can be checked
/// against each other. Names follow Prometheus' conventions: a `koers_` prefix, base
/// units (seconds, ratios 0–1), `_total` for counters, `_timestamp_seconds` for times.
public enum MetricCatalog {
    public struct Entry: Sendable {
        public var name: String
        public var type: String
        public var help: String
    }

    public static let entries: [Entry] = [
        // The ingest path (counted by the aggregator through swift-metrics).
        .init(name: "koers_reports_received_total", type: "counter",
              help: "Reports received on the ingest channel (resends included), by the theme that sent them."),
        .init(name: "koers_reports_stored_total", type: "counter",
              help: "Reports stored, by theme: each stored once, however often it was sent."),
        .init(name: "koers_reports_refused_total", type: "counter",
              help: "Messages refused on the ingest channel (NACKed), by theme (unknown: none named) and reason code."),
        .init(name: "koers_ingest_batch_messages", type: "histogram",
              help: "Messages taken from the ingest socket in one batch (one transaction)."),
        .init(name: "koers_ingest_commit_duration_seconds", type: "histogram",
              help: "Time one ingest batch's transaction took to commit (fsync included)."),
        .init(name: "koers_report_to_stream_duration_seconds", type: "histogram",
              help: "Time from a report's arrival to the stream message it caused leaving on the ZeroMQ stream."),
        .init(name: "koers_ingest_connections_dropped_total", type: "counter",
              help: "Ingest connections that ended: peers gone, heartbeats missed, or frames over 64 KiB."),
        .init(name: "koers_ingest_replies_dropped_total", type: "counter",
              help: "Replies (ACK, NACK, WELCOME) not sent because the peer was gone or did not read its replies; an ACK is cumulative, so the next one covers it."),
        .init(name: "koers_store_write_failures_total", type: "counter",
              help: "Writes to the store that failed (a full disk, an I/O error); nothing of them was acknowledged."),
        // The stream and the status (followed from the stream and snapshots).
        .init(name: "koers_stream_sequence", type: "gauge",
              help: "The last sequence number on the operators' stream."),
        .init(name: "koers_status_date_timestamp_seconds", type: "gauge",
              help: "The programme date the status is evaluated on, as a Unix time (midnight UTC)."),
        .init(name: "koers_items", type: "gauge",
              help: "Milestones and indicators in each state, by theme."),
        .init(name: "koers_node_state", type: "gauge",
              help: "1 for the current state of the programme and of each theme (node), 0 for the other states."),
        .init(name: "koers_alerts_open", type: "gauge",
              help: "Open alerts by severity and state (pending, firing, acknowledged, flapping)."),
        .init(name: "koers_theme_silent", type: "gauge",
              help: "1 while a theme service has been quiet longer than its heartbeat cadence allows, else 0."),
        .init(name: "koers_theme_last_heard_timestamp_seconds", type: "gauge",
              help: "When each theme service was last heard from (any message), as a Unix time in the aggregator's clock."),
        .init(name: "koers_theme_quiet_seconds", type: "gauge",
              help: "Seconds since each theme service was last heard from, in the aggregator's clock."),
        .init(name: "koers_item_progress_ratio", type: "gauge",
              help: "Each item's progress from baseline (0) to target (1), when it has data."),
        .init(name: "koers_item_expected_progress_ratio", type: "gauge",
              help: "The progress each item is expected to have today on its planned path, from baseline (0) to target (1)."),
        // The notifiers.
        .init(name: "koers_notify_delivered_total", type: "counter",
              help: "Stream documents (webhooks) or alerts (Alertmanager) delivered, by notifier and target."),
        .init(name: "koers_notify_failures_total", type: "counter",
              help: "Failed delivery attempts, by notifier and target; each is retried."),
        .init(name: "koers_notify_position", type: "gauge",
              help: "The stream sequence each notifier has delivered through, by notifier and target."),
        // The HTTP server.
        .init(name: "koers_http_requests_total", type: "counter",
              help: "HTTP requests answered, by route and status code."),
        .init(name: "koers_sse_clients", type: "gauge",
              help: "Clients following the stream as Server-Sent Events now."),
    ]

    static let help: [String: String] = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.help) })

    /// The help text of a metric (empty for a metric not in the catalog).
    public static func help(_ name: String) -> String { help[name] ?? "" }

    /// Histogram buckets: batch sizes up to the batch limit, commit times around an
    /// fsync, latencies from a millisecond to seconds.
    static let valueBuckets: [String: [Double]] = [
        "koers_ingest_batch_messages": [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 4096],
    ]
    static let durationBuckets: [String: [Duration]] = [
        "koers_ingest_commit_duration_seconds": [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                                 .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)],
        "koers_report_to_stream_duration_seconds": [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                                    .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)],
    ]
}

/// A swift-metrics factory over a Prometheus registry that gives every metric its help
/// text from ``MetricCatalog`` (swift-prometheus' own factory gives none, and a
/// registry refuses one name with two help texts).
public struct CatalogMetricsFactory: MetricsFactory {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: MetricCatalog.help(label))
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: MetricCatalog.help(label))
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(name: label, labels: dimensions, help: MetricCatalog.help(label)) }
        let buckets = MetricCatalog.valueBuckets[label] ?? [1, 10, 100, 1000]
        return registry.makeValueHistogram(name: label, labels: dimensions, buckets: buckets, help: MetricCatalog.help(label))
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(name: label, labels: dimensions, help: MetricCatalog.help(label))
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let buckets = MetricCatalog.durationBuckets[label] ?? [.milliseconds(1), .milliseconds(10), .milliseconds(100), .seconds(1)]
        return registry.makeDurationHistogram(name: label, labels: dimensions, buckets: buckets, help: MetricCatalog.help(label))
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }
    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
        if let h = handler as? ValueHistogram { registry.unregisterValueHistogram(h) }
    }
    public func destroyMeter(_ handler: any MeterHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
    }
    public func destroyTimer(_ handler: any TimerHandler) {
        if let h = handler as? DurationHistogram { registry.unregisterDurationHistogram(h) }
    }
}
