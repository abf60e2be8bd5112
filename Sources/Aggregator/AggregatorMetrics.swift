import CoreMetrics
import Feed
import Synchronization
import Wire

/// What the ingest path and the stream publisher count, through swift-metrics: the
/// aggregator does not know who reads them (`koers aggregator run` hands it the HTTP
/// server's Prometheus registry; tests hand it nothing). The names, and the help texts
/// `/metrics` shows, are listed in `Telemetry.MetricCatalog` and `docs/operations.md`.
///
/// Counters are made once per label set and kept, so a batch costs a dictionary lookup
/// and an atomic add per theme it touched, not a registry lookup per report.
public final class AggregatorMetrics: Sendable {
    public enum Name {
        public static let received = "koers_reports_received_total"
        public static let stored = "koers_reports_stored_total"
        public static let refused = "koers_reports_refused_total"
        public static let batchMessages = "koers_ingest_batch_messages"
        public static let commitSeconds = "koers_ingest_commit_duration_seconds"
        public static let latencySeconds = "koers_report_to_stream_duration_seconds"
        public static let dropped = "koers_ingest_connections_dropped_total"
        public static let repliesDropped = "koers_ingest_replies_dropped_total"
        public static let storeWriteFailures = "koers_store_write_failures_total"
    }

    let factory: any MetricsFactory
    /// The plan's themes: any other identity is counted as `unknown`, so that label
    /// values stay few whatever a peer claims.
    let themes: Set<String>
    private let counters = Mutex<[CounterKey: CoreMetrics.Counter]>([:])
    let batchMessages: Recorder
    let commit: CoreMetrics.Timer
    let latency: CoreMetrics.Timer
    let dropped: CoreMetrics.Counter
    let repliesDropped: CoreMetrics.Counter
    let storeWriteFailures: CoreMetrics.Counter

    struct CounterKey: Hashable { var name: String; var theme: String; var code: UInt16 }

    public init(factory: any MetricsFactory, themes: Set<String>) {
        self.factory = factory
        self.themes = themes
        batchMessages = Recorder(label: Name.batchMessages, dimensions: [], aggregate: true, factory: factory)
        commit = CoreMetrics.Timer(label: Name.commitSeconds, dimensions: [], factory: factory)
        latency = CoreMetrics.Timer(label: Name.latencySeconds, dimensions: [], factory: factory)
        dropped = CoreMetrics.Counter(label: Name.dropped, dimensions: [], factory: factory)
        repliesDropped = CoreMetrics.Counter(label: Name.repliesDropped, dimensions: [], factory: factory)
        storeWriteFailures = CoreMetrics.Counter(label: Name.storeWriteFailures, dimensions: [], factory: factory)
        // Every theme's series exist from the start, at 0, so that a rate over them
        // starts with the first scrape rather than with the first report.
        for t in themes.sorted() {
            _ = counter(Name.received, theme: t)
            _ = counter(Name.stored, theme: t)
        }
    }

    func theme(_ identity: String?) -> String {
        guard let identity, themes.contains(identity) else { return "unknown" }
        return identity
    }

    private func counter(_ name: String, theme: String, code: ReasonCode? = nil) -> CoreMetrics.Counter {
        let key = CounterKey(name: name, theme: theme, code: code?.rawValue ?? 0)
        return counters.withLock { c in
            if let existing = c[key] { return existing }
            var dims = [("theme", theme)]
            if let code { dims += [("code", "\(code.rawValue)"), ("reason", code.name)] }
            let made = CoreMetrics.Counter(label: name, dimensions: dims, factory: factory)
            c[key] = made
            return made
        }
    }

    /// One ingest batch: how many messages, which reports arrived and were stored,
    /// which messages were refused and why.
    func batch(messages: Int, received: [String: Int], stored: [String: Int], refused: [Intake.RefusalKey: Int], repliesDropped dropped: Int) {
        batchMessages.record(messages)
        if dropped > 0 { repliesDropped.increment(by: dropped) }
        for (t, n) in received { counter(Name.received, theme: theme(t)).increment(by: n) }
        for (t, n) in stored { counter(Name.stored, theme: theme(t)).increment(by: n) }
        for (k, n) in refused { counter(Name.refused, theme: theme(k.theme), code: k.code).increment(by: n) }
    }

    /// The time one batch's transaction took.
    func committed(in d: Duration) { commit.recordNanoseconds(d.nanoseconds) }

    /// A document went out on the stream: the latency from its report's arrival.
    func published(after receivedAt: ContinuousClock.Instant) {
        latency.recordNanoseconds((ContinuousClock.now - receivedAt).nanoseconds)
    }

    /// A write to the store failed (nothing of it was acknowledged).
    func storeWriteFailed() { storeWriteFailures.increment() }

    func connectionDropped() { dropped.increment() }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, a) = components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}
