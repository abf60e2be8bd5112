import Foundation
import History
import Plan
import StreamProtocol
import Testing
import Wire
import ZeroMQ
@testable import ThemeService

/// The JSON API of the aggregator's HTTP server (docs/openapi.yaml), over real HTTP
/// (curl) against a real aggregator: filters, errors, credentials, acknowledging, the
/// Server-Sent Events stream and its resumption, and schemathesis against the OpenAPI file.
@Suite("The HTTP API, with real processes", .serialized)
struct HTTPAPITests {
    struct Reply {
        var status: Int
        var headers: String
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// One request with curl.
    static func http(_ url: String, method: String = "GET", token: String? = nil, body: String? = nil, headers: [String] = [],
                     maxTime: Double = 20) throws -> Reply {
        let tmp = NSTemporaryDirectory() + "koers-http-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: tmp + ".h"); try? FileManager.default.removeItem(atPath: tmp + ".b") }
        var args = ["-sS", "-X", method, "-D", tmp + ".h", "-o", tmp + ".b", "-w", "%{http_code}", "--max-time", "\(maxTime)"]
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        for h in headers { args += ["-H", h] }
        if let body { args += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let (_, out) = try runProgram("/usr/bin/curl", args + [url])
        return Reply(status: Int(out.suffix(3)) ?? 0, headers: (try? String(contentsOfFile: tmp + ".h", encoding: .utf8)) ?? "",
                     body: (try? String(contentsOfFile: tmp + ".b", encoding: .utf8)) ?? "")
    }

    /// Reads the event stream for `seconds` (curl ends it), returning what arrived.
    static func events(_ url: String, token: String? = nil, headers: [String] = [], seconds: Double) throws -> String {
        var args = ["-sS", "-N", "--max-time", "\(seconds)"]
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        for h in headers { args += ["-H", h] }
        return try runProgram("/usr/bin/curl", args + [url]).1
    }

    /// The events of a text/event-stream: (id, event name, data).
    static func parse(_ text: String) -> [(id: UInt64?, event: String, data: String)] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var id: UInt64?, event = "message", data: [String] = []
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = UInt64(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            return data.isEmpty ? nil : (id, event, data.joined(separator: "\n"))
        }
    }

    /// `koers keys token operator:NAME`: the token it printed.
    static func token(_ ws: Workspace, _ name: String) throws -> String {
        let (status, out) = try runKoers(["keys", "token", "operator:\(name)", "--keys", ws.keys])
        guard status == 0, let t = out.split(separator: "\n").first(where: { $0.count == 43 && !$0.contains(" ") }) else {
            throw TestFailure("koers keys token failed: \(out)")
        }
        return String(t)
    }

    static let alertKey = "milestone-overdue:sociaal-veilig-financiering"

    /// A workspace with operators `ops` (every theme) and `werk` (scoped to work), each
    /// with an HTTP token; an aggregator and the safety service, with one report that
    /// makes `alertKey` fire.
    func withAggregator(_ extra: [String] = [], _ body: (Workspace, _ ops: String, _ werk: String) async throws -> Void) async throws {
        let ws = try Workspace()
        try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "operator:ops", directory: ws.keys)
        let pair = try CurveKeyPair.generate()
        var scoped = CurveKeyFile(identity: "operator:werk", publicKey: pair.publicKey)
        scoped.themes = ["work"]
        try scoped.render().write(toFile: ws.keys + "/operator.werk.key", atomically: true, encoding: .utf8)
        let ops = try Self.token(ws, "ops"), werk = try Self.token(ws, "werk")
        #expect(try String(contentsOfFile: ws.keys + "/operator.ops.key", encoding: .utf8).contains("http-token-sha256 = \"\(HTTPAPITests.sha256(ops))\""))
        let aggregator = try ws.aggregator(["--sse-heartbeat", "0.5"] + extra)
        let service = try ws.theme("safety")
        defer { service.stop(); aggregator.stop() }
        try ws.outbox("safety").enqueue([.milestoneProgress(MilestoneProgress(
            theme: "safety", item: "sociaal-veilig-financiering", value: 0, asOf: PlanDate(iso: "2023-03-01")!, reportedAt: 1_700_000_000_000))],
            now: 1_700_000_000_000)
        try eventually("the report acknowledged", within: 90) { try ws.outbox("safety").summary().acked == 1 }
        try eventually("the alert firing over HTTP", within: 30) {
            let r = try Self.http(ws.httpURL + "/api/v1/alerts?state=firing", token: ops)
            return r.status == 200 && r.body.contains(Self.alertKey)
        }
        try await body(ws, ops, werk)
    }

    static func sha256(_ s: String) -> String {
        let (_, out) = (try? runProgram("/usr/bin/env", ["python3", "-c", "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())", s])) ?? (1, "")
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("status, alerts, items and acknowledgements with their filters; 400s with messages and suggestions; JSON 404s; metrics")
    func readsAndErrors() async throws {
        try await bounded(240, "the HTTP API's reads") {
            try await self.withAggregator { ws, ops, _ in
                let api = ws.httpURL + "/api/v1"
                // Anonymous reads on loopback; the whole status.
                let whole = try Self.http(api + "/status")
                #expect(whole.status == 200, "\(whole.body)")
                let snap = try JSONDecoder().decode(StreamDocuments.Snapshot.self, from: Data(whole.body.utf8))
                #expect(!snap.items.isEmpty && snap.alerts.contains { $0.key == Self.alertKey })
                // Narrowed by theme and by area, as the CLI narrows.
                let plan = try PlanLoader.loadDefault(path: nil)
                let index = PlanIndex(plan)
                let work = try JSONDecoder().decode(StreamDocuments.Snapshot.self, from: Data(try Self.http(api + "/status?theme=work").body.utf8))
                #expect(!work.items.isEmpty && work.items.allSatisfy { index.position(of: $0.item).map { index.theme(at: $0) } == "work" })
                let area = try JSONDecoder().decode(StreamDocuments.Snapshot.self, from: Data(try Self.http(api + "/status?area=slakhorst").body.utf8))
                #expect(StreamDocuments.encode(area) == StreamDocuments.encode(snap.narrowed(plan: plan, theme: nil, area: "slakhorst")))
                // Unknown theme and area: 400, the reason code, a suggestion.
                let typo = try Self.http(api + "/status?theme=wrk")
                #expect(typo.status == 400)
                #expect(typo.json["code"] as? Int == 301 && typo.json["reason"] as? String == "unknown_theme")
                #expect(typo.json["suggestion"] as? String == "work" && (typo.json["error"] as? String)?.contains("did you mean `work`") == true)
                let areaTypo = try Self.http(api + "/status?area=slakhrst")
                #expect(areaTypo.status == 400 && areaTypo.json["reason"] as? String == "unknown_area" && areaTypo.json["suggestion"] as? String == "slakhorst")
                let badDate = try Self.http(api + "/status?as_of=2024-13-01")
                #expect(badDate.status == 400 && badDate.json["code"] as? Int == 209, "\(badDate.body)")
                #expect((badDate.json["error"] as? String)?.contains("2024-13-01") == true)
                // as_of: the same replay as `koers status --as-of`.
                let asOf = try Self.http(api + "/status?as_of=2024-01-01&theme=safety")
                #expect(asOf.status == 200, "\(asOf.body)")
                let (code, cli) = try ws.koers(["status", "--as-of", "2024-01-01", "--theme", "safety", "--json"])
                #expect(code == 0, "\(cli)")
                var replay = try JSONDecoder().decode(StreamDocuments.Snapshot.self, from: Data(asOf.body.utf8))
                #expect(replay.sequence == 0 && replay.date.iso == "2024-01-01")
                replay.topics = nil
                #expect(StreamDocuments.encode(replay) == cli.trimmingCharacters(in: .whitespacesAndNewlines))
                // Alerts and their filters.
                let alerts = try Self.http(api + "/alerts?theme=safety&severity=critical")
                #expect(alerts.status == 200 && alerts.body.contains(Self.alertKey))
                #expect(try !Self.http(api + "/alerts?theme=work").body.contains(Self.alertKey))
                #expect(try Self.http(api + "/alerts?severity=urgent").status == 400)
                let resolved = try Self.http(api + "/alerts?state=resolved")
                #expect(resolved.status == 400 && (resolved.json["error"] as? String)?.contains("open alert") == true)
                #expect(try Self.http(api + "/alerts?theme=safty").json["suggestion"] as? String == "safety")
                // One item: plan entry, status, history, expected path.
                let item = try Self.http(api + "/items/sociaal-veilig-financiering")
                #expect(item.status == 200, "\(item.body)")
                let entry = item.json["item"] as? [String: Any]
                #expect(entry?["theme"] as? String == "safety" && entry?["kind"] as? String == "milestone" && entry?["due"] != nil)
                #expect((item.json["status"] as? [String: Any])?["state"] as? String == "overdue")
                let history = item.json["history"] as? [String: Any]
                #expect((history?["reports"] as? [[String: Any]])?.count == 1)
                #expect(history?["statusChanges"] as? [Any] != nil)
                #expect((history?["alertTransitions"] as? [[String: Any]])?.contains { $0["key"] as? String == Self.alertKey } == true)
                #expect((item.json["expected"] as? [Any])?.isEmpty == false)
                let unknown = try Self.http(api + "/items/sociaal-veilig-financiereng")
                #expect(unknown.status == 404 && unknown.json["suggestion"] as? String == "sociaal-veilig-financiering" && unknown.json["code"] as? Int == 300)
                // Unknown routes: JSON 404s.
                let nope = try Self.http(api + "/nope")
                #expect(nope.status == 404 && nope.json["reason"] as? String == "not_found", "\(nope.body)")
                #expect(try Self.http(api + "/status", method: "DELETE").status == 404)
                #expect(try Self.http(api + "/acknowledgements?alert=").status == 400)
                #expect(try Self.http(api + "/acknowledgements").json["acknowledgements"] as? [Any] != nil)
                // A token, where given, must be known, on loopback too.
                #expect(try Self.http(api + "/status", token: "not-a-token").status == 401)
                #expect(try Self.http(api + "/status", token: ops).status == 200)
                let metrics = try Self.http(ws.httpURL + "/metrics")
                #expect(metrics.body.contains(#"koers_http_requests_total{route="/api/v1/status",code="200"}"#), "\(metrics.body.prefix(500))")
                #expect(metrics.body.contains(#"code="400""#) && metrics.body.contains("koers_sse_clients"))
            }
        }
    }

    @Test("acknowledging over HTTP: 401 without or with an unknown token, 403 out of scope, 400/404 refusals; recorded in koers acks and on the stream")
    func acknowledge() async throws {
        try await bounded(240, "acknowledging over HTTP") {
            try await self.withAggregator { ws, ops, werk in
                let url = ws.httpURL + "/api/v1/alerts/\(Self.alertKey)/ack"
                let good = #"{"reason":"gemeente zoekt dekking","by":"Anna","until":"2099-01-01"}"#
                let anonymous = try Self.http(url, method: "POST", body: good)
                #expect(anonymous.status == 401 && anonymous.headers.lowercased().contains("www-authenticate: bearer"), "\(anonymous.headers)")
                #expect(try Self.http(url, method: "POST", token: "wrong", body: good).status == 401)
                let scoped = try Self.http(url, method: "POST", token: werk, body: good)
                #expect(scoped.status == 403 && scoped.json["code"] as? Int == 308, "\(scoped.body)")
                #expect((scoped.json["error"] as? String)?.contains("work only") == true)
                let noReason = try Self.http(url, method: "POST", token: ops, body: #"{"by":"Anna"}"#)
                #expect(noReason.status == 400 && noReason.json["code"] as? Int == 201, "\(noReason.body)")
                #expect(try Self.http(url, method: "POST", token: ops, body: "{not json").json["code"] as? Int == 214)
                #expect(try Self.http(url, method: "POST", token: ops, body: #"{"reason":"r","until":"2099-02-30"}"#).json["code"] as? Int == 209)
                let past = try Self.http(url, method: "POST", token: ops, body: #"{"reason":"r","until":"2001-01-01"}"#)
                #expect(past.status == 400 && past.json["code"] as? Int == 210)
                let unknown = try Self.http(ws.httpURL + "/api/v1/alerts/milestone-overdue:sociaal-veilig-financiereng/ack", method: "POST", token: ops, body: good)
                #expect(unknown.status == 404 && unknown.json["code"] as? Int == 309 && unknown.json["suggestion"] as? String == Self.alertKey, "\(unknown.body)")
                // The stream from just before acknowledging carries the transition,
                // however slowly the follower connects (it resumes from `after`).
                let before = try #require(try Self.http(ws.httpURL + "/api/v1/status", token: ops).json["sequence"] as? Int)
                let ok = try Self.http(url, method: "POST", token: ops, body: good)
                #expect(ok.status == 200 && ok.body == #"{"ok":true}"#, "\(ok.body)")
                let events = Self.parse(try Self.events(ws.httpURL + "/api/v1/stream?after=\(before)", token: ops, seconds: 4))
                let ackEvent = events.first { $0.event == "alert_transition" && $0.data.contains(#""to":"acknowledged""#) }
                #expect(ackEvent != nil, "\(events)")
                let (status, text) = try ws.koers(["acks", "--json"])
                #expect(status == 0, "\(text)")
                let log = try JSONDecoder().decode([StoreHistory.Acknowledgement].self, from: Data(text.utf8))
                #expect(log.count == 1 && log.first?.identity == "operator:ops" && log.first?.by == "Anna" && log.first?.until == PlanDate(iso: "2099-01-01"))
                #expect(text.contains(#""until":"2099-01-01""#), "\(text)")
                #expect(log.first?.sequence == ackEvent?.id)
                let listed = try Self.http(ws.httpURL + "/api/v1/acknowledgements?alert=\(Self.alertKey)", token: ops)
                #expect((listed.json["acknowledgements"] as? [[String: Any]])?.first?["identity"] as? String == "operator:ops")
                // The dates stay YYYY-MM-DD strings in the API's JSON.
                let listedAck = (listed.json["acknowledgements"] as? [[String: Any]])?.first
                #expect(listedAck?["until"] as? String == "2099-01-01" && (listedAck?["date"] as? String).flatMap(PlanDate.init(iso:)) != nil, "\(listed.body)")
                // Acknowledged already: acknowledging again replaces the reason (as on the snapshot channel).
                let again = try Self.http(url, method: "POST", token: ops, body: #"{"reason":"nieuwe afspraak"}"#)
                #expect(again.status == 200, "\(again.body)")
            }
        }
    }

    @Test("the event stream resumes from Last-Event-ID with exactly the missing documents, then live without a gap; reset when the store cannot serve it; heartbeats")
    func eventStream() async throws {
        try await bounded(240, "the event stream") {
            try await self.withAggregator { ws, ops, _ in
                let stream = ws.httpURL + "/api/v1/stream"
                let history = try StoreHistory(path: ws.data + "/aggregator/koers.sqlite")
                let stored = try history.streamMessages(after: 0)
                #expect(stored.count >= 4)
                let last = stored.last!.sequence
                let from = last - 3
                // Resumed, and live: a second report arrives while it follows.
                let follower = Task.detached { try Self.events(stream, token: ops, headers: ["Last-Event-ID: \(from)"], seconds: 8) }
                try await Task.sleep(for: .seconds(2))
                try ws.outbox("safety").enqueue([.milestoneProgress(MilestoneProgress(
                    theme: "safety", item: "sociaal-veilig-financiering", value: 1, asOf: PlanDate(iso: "2023-03-02")!, reportedAt: 1_700_000_000_000))],
                    now: 1_700_000_000_000)
                let text = try await follower.value
                let events = Self.parse(text)
                let after = try history.streamMessages(after: from)
                #expect(after.count > 3, "the second report caused stream messages")
                #expect(events.map(\.id) == after.map(\.sequence), "\(events.map(\.id)) vs \(after.map(\.sequence))")
                #expect(events.map(\.data) == after.map(\.document))
                #expect(events.map(\.event) == after.map { $0.type == .statusChange ? "status_change" : "alert_transition" })
                #expect(text.contains(": heartbeat"), "\(text)")
                // ?after= resumes the same way.
                let byQuery = Self.parse(try Self.events(stream + "?after=\(from)", seconds: 2))
                #expect(byQuery.map(\.id) == after.map(\.sequence))
                // From 0: everything stored (the store holds the stream from 1).
                #expect(Self.parse(try Self.events(stream, headers: ["Last-Event-ID: 0"], seconds: 2)).count == after.count + Int(from))
                // Ahead of the stream: a reset, pointing at the snapshot.
                let reset = Self.parse(try Self.events(stream, headers: ["Last-Event-ID: 999999"], seconds: 2))
                #expect(reset.first?.event == "reset" && reset.first?.data.contains("/api/v1/status") == true, "\(reset)")
                #expect(reset.first?.id == after.last?.sequence)
                let bad = try Self.http(stream + "?after=yesterday")
                #expect(bad.status == 400 && (bad.json["error"] as? String)?.contains("yesterday") == true)
            }
        }
    }

    @Test("beyond loopback reads need a token too, and writes always (plain mode included); /healthz stays open")
    func beyondLoopback() async throws {
        try await bounded(240, "beyond loopback") {
            let ws = try Workspace()
            try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "operator:ops", directory: ws.keys)
            let ops = try Self.token(ws, "ops")
            let port = ws.httpAddress.split(separator: ":").last!
            let aggregator = try ws.aggregator(["--plain", "--http", "0.0.0.0:\(port)"])
            defer { aggregator.stop() }
            try eventually("the HTTP server up", within: 90) { try Self.http(ws.httpURL + "/healthz").status == 200 }
            let anonymous = try Self.http(ws.httpURL + "/api/v1/status")
            #expect(anonymous.status == 401 && anonymous.headers.lowercased().contains("www-authenticate: bearer"))
            #expect(try Self.http(ws.httpURL + "/metrics").status == 401)
            #expect(try Self.http(ws.httpURL + "/api/v1/status", token: ops).status == 200)
            #expect(try Self.http(ws.httpURL + "/api/v1/alerts/x:y/ack", method: "POST", body: #"{"reason":"r"}"#).status == 401)
            #expect(try Self.http(ws.httpURL + "/api/v1/alerts/x:y/ack", method: "POST", token: ops, body: #"{"reason":"r"}"#).status == 404)
        }
    }

    @Test("schemathesis checks docs/openapi.yaml against the running server")
    func schemathesis() async throws {
        try await bounded(240, "schemathesis") {
            try await self.withAggregator { ws, ops, _ in
                let (found, _) = try runProgram("/usr/bin/env", ["python3", "-c", "import schemathesis"])
                guard found == 0 else {
                    Issue.record("schemathesis is not installed: `make python-deps` (or `python3 -m pip install schemathesis`)")
                    return
                }
                let (status, out) = try runProgram("/usr/bin/env", [
                    "python3", "-m", "schemathesis.cli", "run", repositoryRoot() + "/docs/openapi.yaml", "--url", ws.httpURL,
                    "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection",
                    "--max-examples", "25", "--header", "Authorization: Bearer \(ops)", "--exclude-path", "/api/v1/stream",
                    "--request-timeout", "10", "--phases", "examples,coverage,fuzzing", "--no-color"])
                #expect(status == 0, "\(out)")
            }
        }
    }
}
