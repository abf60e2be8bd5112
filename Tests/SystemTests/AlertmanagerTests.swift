import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import CoreMetrics
import Feed
import History
import Logging
@testable import Notify
import Plan
import Status
import StreamProtocol
import Testing
import Wire
import ZeroMQ
@testable import Operators
@testable import ThemeService

/// One HTTP GET on loopback: the status code and the body, nil when nothing answered.
func httpGet(_ url: String, timeout: Double = 5) -> (status: Int, body: String)? {
    final class Box: @unchecked Sendable {
        // Proof for Sendable: written by the one completion handler before the semaphore is signalled, read after.
        var value: (Int, String)?
    }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    var request = URLRequest(url: URL(string: url)!)
    request.timeoutInterval = timeout
    URLSession.shared.dataTask(with: request) { data, response, _ in
        if let r = response as? HTTPURLResponse { box.value = (r.statusCode, String(decoding: data ?? Data(), as: UTF8.self)) }
        done.signal()
    }.resume()
    done.wait()
    return box.value.map { (status: $0.0, body: $0.1) }
}

/// A metric's value from a Prometheus text exposition: the sum of the series of `name`
/// whose labels contain every one of `labels` (`status="resolved"`).
func metricValue(_ text: String, _ name: String, _ labels: [String] = []) -> Double {
    text.split(separator: "\n").filter { line in
        !line.hasPrefix("#") && (line.hasPrefix(name + "{") || line.hasPrefix(name + " ")) && labels.allSatisfy { line.contains($0) }
    }.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
}

/// Debian's /usr/bin/prometheus-alertmanager on a loopback port, with its storage and a
/// minimal configuration (one route to a receiver that notifies nobody) in the workspace,
/// no clustering. Started and stopped by the test, by PID.
final class AlertmanagerProcess: @unchecked Sendable {
    // Proof for Sendable: used from the one test body that owns it.
    static let binary = "/usr/bin/prometheus-alertmanager"
    let port: Int
    let dir: String
    var child: Child?
    var starts = 0
    var url: String { "http://127.0.0.1:\(port)" }

    init(_ ws: Workspace) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw TestFailure("\(Self.binary) is missing: `make test` installs prometheus-alertmanager")
        }
        port = try ZeroMQ.unusedLoopbackPort()
        dir = ws.dir + "/alertmanager"
        try FileManager.default.createDirectory(atPath: dir + "/storage", withIntermediateDirectories: true)
        try """
            route:
              receiver: nobody
            receivers:
              - name: nobody
            """.write(toFile: dir + "/alertmanager.yml", atomically: true, encoding: .utf8)
    }

    /// Starts it (on the same port and storage each time) and waits until it is ready.
    func start() throws {
        starts += 1
        child = try Child.unblocked([Self.binary, "--config.file=\(dir)/alertmanager.yml", "--storage.path=\(dir)/storage",
                                     "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address="],
                                    log: dir + "/alertmanager-\(starts).log")  // one log per start: Child truncates its log
        try eventually("Alertmanager is ready", within: 60) { httpGet(url + "/-/ready")?.status == 200 }
    }

    /// SIGKILL, by PID.
    func kill() {
        child?.kill9()
        child = nil
    }

    /// The active alerts (`GET /api/v2/alerts`: resolved ones are left out), by alertkey.
    func activeAlerts() throws -> [String: (labels: [String: String], annotations: [String: String])] {
        guard let (status, body) = httpGet(url + "/api/v2/alerts"), status == 200 else { throw TestFailure("Alertmanager did not answer") }
        guard let list = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]] else { throw TestFailure("not a list: \(body)") }
        var out: [String: (labels: [String: String], annotations: [String: String])] = [:]
        for a in list {
            let labels = a["labels"] as? [String: String] ?? [:]
            out[labels["alertkey"] ?? "?"] = (labels, a["annotations"] as? [String: String] ?? [:])
        }
        return out
    }

    /// How many alerts it has received since it started, `firing` or `resolved`.
    func received(_ status: String) throws -> Int {
        guard let (code, body) = httpGet(url + "/metrics"), code == 200 else { throw TestFailure("no /metrics") }
        return Int(metricValue(body, "alertmanager_alerts_received_total", ["status=\"\(status)\""]))
    }

    deinit { kill() }
}

extension Child {
    /// Another program (`command[0]`, an absolute path), started through
    /// Tests/python/unblocked.py so that it runs with no signal blocked and stops on SIGTERM.
    static func unblocked(_ command: [String], log: String) throws -> Child {
        try Child([repositoryRoot() + "/Tests/python/unblocked.py"] + command, log: log, executable: "/usr/bin/python3")
    }
}

@Suite("Alertmanager and webhooks, with real processes", .serialized)
struct AlertmanagerTests {
    static let item = "sociaal-veilig-financiering"
    static let key = "milestone-overdue:sociaal-veilig-financiering"

    /// A report on the binary milestone `sociaal-veilig-financiering` (due 2023-04-01):
    /// 1 makes it done, which resolves its overdue alert; 0 at a later date makes it
    /// overdue again, which fires the alert at once (critical).
    static func report(_ ws: Workspace, _ value: Double, asOf: String) throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try ws.outbox("safety").enqueue([.milestoneProgress(MilestoneProgress(
            theme: "safety", item: item, value: value, asOf: PlanDate(iso: asOf)!, reportedAt: now))], now: now)
    }

    /// The stored alert transitions after `seq`.
    static func transitions(_ ws: Workspace, after seq: UInt64) throws -> [StreamDocuments.AlertTransitionDocument] {
        try StoreHistory(path: ws.data + "/aggregator/koers.sqlite").streamMessages(after: seq).filter { $0.type == .alertTransition }
            .map { try StreamDocuments.decode(StreamDocuments.AlertTransitionDocument.self, from: $0.document) }
    }

    static func lastSequence(_ ws: Workspace) throws -> UInt64 {
        try StoreHistory(path: ws.data + "/aggregator/koers.sqlite").streamMessages(after: 0).last?.sequence ?? 0
    }

    static func position(_ ws: Workspace, _ notifier: String, _ url: String) throws -> UInt64? {
        try NotifyPositions(path: ws.data + "/aggregator/notify.sqlite").position(notifier: notifier, target: url)
    }

    /// Reports `value` and waits until the store holds the transition of the alert to `to`.
    static func reportAndWait(_ ws: Workspace, _ value: Double, asOf: String, to: AlertState) throws {
        // Each report its own ingest batch: reports that arrive together announce only their end state.
        let before = try lastSequence(ws)
        try report(ws, value, asOf: asOf)
        try eventually("\(key) \(to) in the store", within: 60) {
            try transitions(ws, after: before).contains { $0.key == key && $0.to == to }
        }
    }

    @Test("fired alerts reach Alertmanager with their labels, resolves end them, and an outage is caught up exactly once per transition")
    func alertmanager() async throws {
        try await bounded(300, "the Alertmanager forwarder") {
            let ws = try Workspace()
            try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "operator:ops", directory: ws.keys)
            let am = try AlertmanagerProcess(ws)
            try am.start()
            defer { am.kill() }
            // No timer re-sends during the test (600 s): what Alertmanager receives is the
            // start, the transitions and the re-send after an outage.
            let aggregator = try ws.aggregator(["--alertmanager", am.url, "--alertmanager-resend", "600", "--public-url", "https://koers.example"])
            let service = try ws.theme("safety")
            defer { service.stop(); aggregator.stop() }

            // On start: the open alerts from a snapshot, the overdue milestone's among them.
            try eventually("the open alerts in Alertmanager", within: 90) { try am.activeAlerts()[Self.key] != nil }
            // (b) A recovering report (done) resolves it: gone from the active list.
            try Self.reportAndWait(ws, 1, asOf: "2023-03-01", to: .resolved)
            try eventually("\(Self.key) resolved in Alertmanager", within: 60) { try am.activeAlerts()[Self.key] == nil }
            // (a) A report that leaves it behind (0 after its due date) fires it again: active, with its labels.
            try Self.reportAndWait(ws, 0, asOf: "2023-05-01", to: .firing)
            try eventually("\(Self.key) active in Alertmanager", within: 60) { try am.activeAlerts()[Self.key] != nil }
            let alert = try #require(try am.activeAlerts()[Self.key])
            #expect(alert.labels["alertname"] == "milestone-overdue")
            #expect(alert.labels["alertkey"] == Self.key)
            #expect(alert.labels["theme"] == "safety")
            #expect(alert.labels["item"] == Self.item)
            #expect(alert.labels["severity"] == "critical")
            #expect(alert.labels["owner"] == "gemeente-heerlen")
            #expect(alert.labels["area"]?.split(separator: ",").contains("gms") == true, "\(alert.labels)")
            #expect(!alert.labels.values.contains(""), "no empty label values")
            #expect(alert.annotations["what_to_do"] == Runbook.action(for: "milestone-overdue"))
            #expect(alert.annotations["link"] == "https://koers.example/items/\(Self.item)")
            #expect(alert.annotations["summary"]?.contains("Financiering van Sociaal Veilig") == true, "\(alert.annotations)")
            #expect(alert.annotations["why"]?.isEmpty == false)
            #expect(alert.annotations["evidence"]?.isEmpty == false)

            // (c) Alertmanager down while the alert resolves and fires again.
            let target = try #require(URL(string: am.url)?.absoluteString)
            try eventually("the forwarder caught up", within: 60) { try Self.position(ws, "alertmanager", target) == Self.lastSequence(ws) }
            let before = try #require(try Self.position(ws, "alertmanager", target))
            am.kill()
            try Self.reportAndWait(ws, 1, asOf: "2023-06-01", to: .resolved)
            try eventually("a failed delivery counted", within: 60) {
                metricValue(httpGet(ws.httpURL + "/metrics")?.body ?? "", "koers_notify_failures_total", ["notifier=\"alertmanager\""]) > 0
            }
            // Its third firing within 90 days: flapping, which is active (fired) in Alertmanager.
            try Self.reportAndWait(ws, 0, asOf: "2023-07-01", to: .flapping)
            #expect(try Self.position(ws, "alertmanager", target) == before, "the position does not move while Alertmanager is down")
            try am.start()  // the same port and storage
            try eventually("the forwarder caught up after the outage", within: 90) {
                try Self.position(ws, "alertmanager", target) == Self.lastSequence(ws)
            }
            #expect(try Self.position(ws, "alertmanager", target)! > before)
            // What it missed, as Koers sends it: one alert per transition to a fired state,
            // one per resolve of an alert that had fired; then every open alert once.
            let missed = try Self.transitions(ws, after: before)
            let firing = missed.filter { [.firing, .acknowledged, .flapping].contains($0.to) }.count
            let resolved = missed.filter { $0.to == .resolved && $0.from != nil && $0.from != .pending }.count
            #expect(resolved >= 1 && firing >= 1)
            let keys = try CurveKeyFile.read(ws.keys + "/operator.ops.key_secret").keyPair!
            let client = try OperatorClient(snapshotEndpoint: ws.snapshotEndpoint, streamEndpoint: ws.streamEndpoint, keys: keys,
                                            serverKey: try CurveKeyFile.read(ws.keys + "/aggregator.key").publicKey)
            let open = Set(try client.snapshot(theme: nil).alerts.filter { [.firing, .acknowledged, .flapping].contains($0.state) }.map(\.key))
            #expect(!open.isEmpty)
            try eventually("the open alerts re-sent after the outage", within: 60) { Set(try am.activeAlerts().keys) == open }
            #expect(try am.activeAlerts()[Self.key]?.annotations["state"] == "flapping", "resolved and fired again during the outage")
            #expect(try am.received("resolved") == resolved, "each resolve exactly once")
            #expect(try am.received("firing") == firing + open.count, "each firing transition once, then the open alerts once")
            // The outage is logged once as it starts and once as it ends, not per attempt.
            let log = try String(contentsOfFile: ws.dir + "/aggregator.log", encoding: .utf8)
            #expect(log.components(separatedBy: "notification target unreachable").count - 1 == 1, "\(log.suffix(3000))")
            #expect(log.components(separatedBy: "notification target reachable again after").count - 1 == 1)
        }
    }

    @Test("webhooks: every stream document once, in order, signed; an aggregator restart neither loses nor repeats one")
    func webhooks() async throws {
        try await bounded(300, "webhooks") {
            let ws = try Workspace()
            let port = try ZeroMQ.unusedLoopbackPort()
            let received = ws.dir + "/webhook.jsonl"
            let receiver = try Child.unblocked(["/usr/bin/python3", repositoryRoot() + "/Tests/python/webhook_receiver.py", String(port), received,
                                                "--fail-first", "2"], log: ws.dir + "/webhook.log")
            defer { receiver.stop() }
            let url = "http://127.0.0.1:\(port)/koers"
            let secret = "s3cret-\(UUID().uuidString)"
            // Without the secret the aggregator refuses to start, saying why.
            let (status, out) = try runKoers(["aggregator", "run", "--keys", ws.keys, "--data", ws.data, "--webhook", url])
            #expect(status != 0 && out.contains("KOERS_WEBHOOK_SECRET"), "\(out)")

            var aggregator = try ws.aggregator(["--webhook", url], environment: ["KOERS_WEBHOOK_SECRET": secret])
            let service = try ws.theme("safety")
            defer { service.stop(); aggregator.stop() }
            try eventually("the webhook target started", within: 90) { try Self.position(ws, "webhook", url) != nil }
            let start = try #require(try Self.position(ws, "webhook", url))
            func lines() throws -> [[String: Any]] {
                guard let text = try? String(contentsOfFile: received, encoding: .utf8) else { return [] }
                return try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            }
            func sequences() throws -> [UInt64] {
                try lines().map { UInt64(($0["headers"] as! [String: String])["x-koers-sequence"]!)! }
            }
            try Self.reportAndWait(ws, 1, asOf: "2023-03-01", to: .resolved)
            try eventually("the documents delivered", within: 90) { try sequences().last == Self.lastSequence(ws) }
            // The receiver's two refusals were retried, and counted.
            let failures = metricValue(httpGet(ws.httpURL + "/metrics")?.body ?? "", "koers_notify_failures_total", ["notifier=\"webhook\""])
            #expect(failures >= 2)
            // A restart: stopped, a report meanwhile (the outbox keeps it), started again.
            aggregator.stop()
            try Self.report(ws, 0, asOf: "2023-05-01")
            aggregator = try ws.aggregator(["--webhook", url], environment: ["KOERS_WEBHOOK_SECRET": secret])
            try eventually("\(Self.key) fired again", within: 90) {
                try Self.transitions(ws, after: start).contains { $0.key == Self.key && $0.to == .firing }
            }
            try eventually("the documents after the restart delivered", within: 90) { try sequences().last == Self.lastSequence(ws) }

            let seqs = try sequences()
            #expect(seqs == Array((start + 1)...(start + UInt64(seqs.count))), "in order, no gap, no repeat: \(seqs)")
            let stored = Dictionary(uniqueKeysWithValues: try StoreHistory(path: ws.data + "/aggregator/koers.sqlite")
                .streamMessages(after: start).map { ($0.sequence, $0) })
            for line in try lines() {
                let headers = line["headers"] as! [String: String]
                let seq = UInt64(headers["x-koers-sequence"]!)!
                let body = line["body"] as! String
                #expect(body == stored[seq]?.document, "the document exactly as stored")
                #expect(headers["x-koers-event"] == (stored[seq]?.type == .statusChange ? "status_change" : "alert_transition"))
                #expect(line["path"] as? String == "/koers")
            }
            // The signatures, checked the way docs/operations.md tells a receiver to.
            let check = """
                import hashlib, hmac, json, sys
                for line in open(sys.argv[1]):
                    r = json.loads(line)
                    good = "sha256=" + hmac.new(sys.argv[2].encode(), r["body"].encode(), hashlib.sha256).hexdigest()
                    assert hmac.compare_digest(good, r["headers"]["x-koers-signature"]), r["headers"]
                print("signatures ok")
                """
            let (code, said) = try runProgram("/usr/bin/python3", ["-c", check, received, secret])
            #expect(code == 0 && said.contains("signatures ok"), "\(said)")
            let metrics = httpGet(ws.httpURL + "/metrics")?.body ?? ""
            #expect(metricValue(metrics, "koers_notify_position", ["notifier=\"webhook\""]) == Double(seqs.last!))
        }
    }
}

/// A feed with only a plan: enough for what the forwarder makes of one transition.
struct PlanOnlyFeed: StatusFeed {
    let plan: Plan
    let hub = StreamHub()
    let storePath = "/nonexistent/koers.sqlite"
    func snapshot(theme: String?) async -> StreamDocuments.Snapshot {
        StreamDocuments.Snapshot(sequence: 0, date: PlanDate(iso: "2024-01-01")!, planVersion: 1, items: [], rollups: [], alerts: [],
                                 silentThemes: [], topics: [:])
    }
    func lastHeard() async -> [String: Int64] { [:] }
    func snapshotWithoutItems() async -> StreamDocuments.Snapshot { await snapshot(theme: nil) }
    func summary() async -> StatusSummary { StatusSummary(date: PlanDate(iso: "2024-01-01")!, sequence: 0, silentThemes: []) }
    func now() -> Int64 { 0 }
    func acknowledge(_ request: StreamDocuments.AckRequest, identity: String, scope: Set<String>?) async -> Result<Void, AckRefusal> { .success(()) }
    func readiness() async -> [ReadinessCheck] { [] }
}

@Suite("What the Alertmanager forwarder sends for a transition")
struct AlertmanagerMappingTests {
    func transition(from: String?, to: String, severity: String = "warning", owner: String? = "vereniging-bvs") throws -> StreamDocuments.AlertTransitionDocument {
        let ownerField = owner.map { #""owner":"\#($0)","# } ?? ""
        let json = """
            {"sequence":212,"date":"2024-07-09","key":"funding-expiring:sociaal-veilig",\(from.map { #""from":"\#($0)","# } ?? "")"to":"\(to)",
             "alert":{"key":"funding-expiring:sociaal-veilig","rule":"funding-expiring","subject":"sociaal-veilig","theme":"safety",
                      "severity":"\(severity)","state":"\(to)","since":"2024-07-09",\(ownerField)"areas":[],"ruleVersion":1,
                      "evidence":{"summary":"secured until 2024-09-30"}}}
            """
        return try StreamDocuments.decode(StreamDocuments.AlertTransitionDocument.self, from: json)
    }

    @Test("pending is not sent, nor its drop; a fired alert is active with no empty label; a label that changes resolves the old label set")
    func mapping() throws {
        let positionFile = NSTemporaryDirectory() + "koers-notify-\(UUID().uuidString).sqlite"
        defer { try? FileManager.default.removeItem(atPath: positionFile) }
        let forwarder = AlertmanagerForwarder(feed: PlanOnlyFeed(plan: try PlanLoader.loadDefault(path: nil)), url: URL(string: "http://127.0.0.1:9")!,
                                              positions: try NotifyPositions(path: positionFile),
                                              publicURL: nil, metricsFactory: NOOPMetricsHandler.instance, logger: Logger(label: "test"))
        var sent: [String: [String: String]] = [:]
        #expect(forwarder.transitionAlerts(try transition(from: nil, to: "pending"), sent: &sent).isEmpty)
        #expect(forwarder.transitionAlerts(try transition(from: "pending", to: "resolved"), sent: &sent).isEmpty)
        let fired = forwarder.transitionAlerts(try transition(from: "pending", to: "firing", owner: nil), sent: &sent)
        #expect(fired.count == 1)
        #expect(fired[0].labels == ["alertname": "funding-expiring", "alertkey": "funding-expiring:sociaal-veilig", "item": "sociaal-veilig",
                                    "theme": "safety", "severity": "warning"], "no owner, no area: left out, not empty")
        #expect(fired[0].annotations["link"] == nil && fired[0].annotations["what_to_do"] == Runbook.action(for: "funding-expiring"))
        let critical = forwarder.transitionAlerts(try transition(from: "firing", to: "firing", severity: "critical", owner: nil), sent: &sent)
        #expect(critical.map { $0.labels["severity"] } == ["warning", "critical"], "the warning resolved, the critical one active")
        #expect(critical[0].endsAt < critical[1].endsAt)
        let resolved = forwarder.transitionAlerts(try transition(from: "firing", to: "resolved", severity: "critical", owner: nil), sent: &sent)
        #expect(resolved.count == 1 && resolved[0].labels["severity"] == "critical")
    }

    @Test("timestamps are RFC 3339 with milliseconds in UTC, the same as Foundation's formatter writes, before 1970 too")
    func timestamps() {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var ms: Int64 = -86_400_000 * 400 - 1
        for _ in 0..<2_000 {
            let d = Date(timeIntervalSince1970: Double(ms) / 1000)
            #expect(AlertmanagerForwarder.timestamp(d) == f.string(from: d), "at \(ms) ms")
            ms += 1_234_567_891  // about two weeks, and every millisecond, second and minute in turn
        }
        #expect(AlertmanagerForwarder.timestamp(Date(timeIntervalSince1970: 1_796_420_405.123)) == "2026-12-04T21:40:05.123Z")
    }

    @Test("the hub's recent window gives every document after a position, and nil when it no longer holds them all")
    func recentWindow() {
        func doc(_ seq: UInt64) -> FeedDocument { FeedDocument(sequence: seq, kind: .statusChange, topic: "status.talent", json: "{}") }
        let hub = StreamHub(lastSequence: 10, recentCapacity: 4)
        #expect(hub.recent(after: 10)?.isEmpty == true, "nothing after the end")
        #expect(hub.recent(after: 3) == nil, "published before this hub started: only the store has them")
        hub.publish((11...13).map(doc))
        #expect(hub.recent(after: 10)?.map(\.sequence) == [11, 12, 13])
        #expect(hub.recent(after: 12)?.map(\.sequence) == [13])
        #expect(hub.recent(after: 9) == nil)
        hub.publish((14...20).map(doc))
        #expect(hub.recent(after: 10) == nil, "trimmed to the capacity: 11 is gone")
        #expect(hub.recent(after: 16)?.map(\.sequence) == [17, 18, 19, 20])
        hub.publish([doc(22)])  // a gap: the hub is not the record, so the store is asked
        #expect(hub.recent(after: 19) == nil)
        #expect(hub.recent(after: 22)?.isEmpty == true)
    }
}
