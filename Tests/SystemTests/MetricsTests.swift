import Foundation
import Plan
import Testing
import ThemeService
import Wire
import ZeroMQ

/// `/metrics` from a real aggregator, read by the real Prometheus tools (Debian's
/// `prometheus` package: promtool and the server), and the Grafana dashboard's queries.
@Suite("Prometheus metrics over HTTP, with Debian's promtool and Prometheus", .serialized)
struct MetricsTests {
    /// An aggregator with the safety theme's service, one report stored and one message
    /// refused, up and scraped once: (workspace, children to stop, the /metrics text).
    func running(_ body: (Workspace, String) async throws -> Void) async throws {
        let ws = try Workspace()
        // The report is in the outbox before the service starts (two processes creating
        // one outbox file at once would race over its tables).
        try ws.outbox("safety").enqueue([.milestoneProgress(MilestoneProgress(
            theme: "safety", item: "sociaal-veilig-financiering", value: 1, asOf: PlanDate(iso: "2023-03-01")!, reportedAt: 1_700_000_000_000))],
            now: 1_700_000_000_000)
        let aggregator = try ws.aggregator()
        let service = try ws.theme("safety")
        defer { service.stop(); aggregator.stop() }
        try eventually("the HTTP server answers", within: 90) { try httpGet(ws.httpURL + "/readyz").status == 200 }
        // A message the aggregator refuses (one frame): counted under the key's theme.
        let context = try Context()
        defer { context.terminate() }
        let s = try context.socket(.dealer)
        defer { s.close() }
        try s.makeCurveClient(keyPair: try CurveKeyFile.read("\(ws.keys)/work.key_secret").keyPair!,
                              serverKey: try CurveKeyFile.read(ws.keys + "/aggregator.key").publicKey)
        try s.set(.linger, .after(.zero))
        try s.set(.receiveTimeout, .after(.seconds(30)))
        try s.connect(ws.endpoint)
        try s.send(Message([Frame([1, 2, 3])]))
        _ = try s.receive()
        var text = ""
        try eventually("the report is counted as stored and shown in the item's series", within: 60) {
            text = try httpGet(ws.httpURL + "/metrics").body
            // Both: a scrape reads the status before it writes the counters, so one scrape
            // may count the report stored and still show the item as it was before it.
            return text.contains(#"koers_reports_stored_total{theme="safety"} 1"#)
                && text.contains(#"koers_item_progress_ratio{theme="safety",item="sociaal-veilig-financiering"}"#)
        }
        try await body(ws, text)
    }

    @Test("/metrics passes promtool check metrics and has every series the issue asks for")
    func exposition() async throws {
        try await bounded(180, "metrics") {
            try await self.running { ws, text in
                let file = ws.dir + "/metrics.txt"
                try text.write(toFile: file, atomically: true, encoding: .utf8)
                let (status, lint) = try runProgram("/bin/sh", ["-c", "/usr/bin/promtool check metrics < '\(file)'"])
                #expect(status == 0 && lint.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool: \(lint)")
                for series in [#"koers_reports_received_total{theme="safety"}"#, #"koers_reports_refused_total{theme="work",code="100",reason="frame_count"} 1"#,
                               "koers_ingest_batch_messages_bucket", "koers_ingest_commit_duration_seconds_count",
                               "koers_report_to_stream_duration_seconds_bucket", "koers_stream_sequence ",
                               #"koers_alerts_open{severity="critical",state="firing"}"#, #"koers_items{theme="safety",state="done"}"#,
                               #"koers_node_state{node="programme""#, #"koers_theme_quiet_seconds{theme="safety"}"#,
                               #"koers_theme_last_heard_timestamp_seconds{theme="safety"}"#, #"koers_theme_silent{theme="talent"}"#,
                               #"koers_item_progress_ratio{theme="safety",item="sociaal-veilig-financiering"} 1"#,
                               #"koers_item_expected_progress_ratio{theme="safety",item="sociaal-veilig-financiering"}"#,
                               "koers_status_date_timestamp_seconds "] {
                    #expect(text.contains(series), "missing \(series)")
                }
                // The programme and each theme are in exactly one state.
                for node in ["programme", "safety", "talent"] {
                    let ones = text.split(separator: "\n").filter { $0.hasPrefix("koers_node_state{node=\"\(node)\",") && $0.hasSuffix(" 1.0") }
                    #expect(ones.count == 1, "\(node) is in \(ones.count) states: \(ones)")
                }
                // Every metric has its help text.
                for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
                    let name = line.split(separator: " ")[2]
                    #expect(text.contains("# HELP \(name) "), "no help text for \(name)")
                }
            }
        }
    }

    @Test("--no-item-metrics leaves the per-item series out")
    func withoutItems() async throws {
        try await bounded(150, "metrics without items") {
            let ws = try Workspace()
            let aggregator = try ws.aggregator(["--no-item-metrics"])
            defer { aggregator.stop() }
            var text = ""
            try eventually("the HTTP server answers", within: 90) {
                text = try httpGet(ws.httpURL + "/metrics").body
                return text.contains("koers_items{")
            }
            #expect(!text.contains("koers_item_progress_ratio") && !text.contains("koers_item_expected_progress_ratio"))
        }
    }

    @Test("Prometheus scrapes /metrics: the target is up and Koers' series are queryable")
    func prometheusScrapes() async throws {
        try await bounded(240, "prometheus") {
            try await self.running { ws, _ in
                let port = try ZeroMQ.unusedLoopbackPort()
                let config = ws.dir + "/prometheus.yml"
                try """
                    global:
                      scrape_interval: 1s
                    scrape_configs:
                      - job_name: koers
                        static_configs:
                          - targets: ['\(ws.httpAddress)']
                    """.write(toFile: config, atomically: true, encoding: .utf8)
                let prometheus = try Child.unblocked(["/usr/bin/prometheus",
                    "--config.file=\(config)", "--storage.tsdb.path=\(ws.dir)/tsdb", "--web.listen-address=127.0.0.1:\(port)"],
                    log: ws.dir + "/prometheus.log")
                defer { prometheus.stop() }
                func query(_ q: String) throws -> String {
                    try httpGet("http://127.0.0.1:\(port)/api/v1/query?query=" + q.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!).body
                }
                try eventually("Prometheus has scraped Koers", within: 120) {
                    try query(#"up{job="koers"}"#).contains(#""value":["#) && query(#"up{job="koers"}"#).contains(#","1"]"#)
                }
                try eventually("Koers' series are in Prometheus", within: 60) {
                    try query(#"koers_reports_stored_total{theme="safety"}"#).contains(#","1"]"#)
                }
                #expect(try query("koers_stream_sequence").contains("koers_stream_sequence"))
            }
        }
    }

    @Test("every metric the Grafana dashboard queries is in /metrics")
    func dashboard() async throws {
        try await bounded(180, "dashboard") {
            try await self.running { _, text in
                let json = try String(contentsOfFile: repositoryRoot() + "/docs/grafana/koers.json", encoding: .utf8)
                let dashboard = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
                var exprs: [String] = []
                func walk(_ v: Any) {
                    if let d = v as? [String: Any] {
                        if let e = d["expr"] as? String { exprs.append(e) }
                        if let q = d["query"] as? [String: Any], let e = q["query"] as? String { exprs.append(e) }
                        d.values.forEach(walk)
                    } else if let a = v as? [Any] { a.forEach(walk) }
                }
                walk(dashboard)
                #expect(exprs.count >= 10)
                let names = Set(exprs.flatMap { e in
                    e.matches(of: /koers_[a-z_]+/).map { String($0.output) }
                })
                for name in names {
                    // A histogram's series are NAME_bucket, NAME_sum, NAME_count.
                    var base = name
                    for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) { base = String(name.dropLast(suffix.count)) }
                    let known = text.contains("# TYPE \(base) ")
                    // The notifiers' series appear only when a notifier runs; their names are in the catalog.
                    #expect(known || base.hasPrefix("koers_notify_"), "the dashboard queries \(name), which /metrics does not have")
                }
            }
        }
    }
}
