import Aggregator
import History
import StreamProtocol
import Foundation
import Operators
import Plan
import Status
import ThemeService
import Wire
import ZeroMQ

/// `koers demo`: the aggregator and five theme services as separate processes, with
/// fresh keys on loopback, playing ``Scenario`` on a compressed clock, showing the
/// alert stream and the status as it unfolds.
public final class DemoRunner: @unchecked Sendable {
    // Proof for Sendable: `children` is touched only by run() and stop(), which the demo
    // command calls from one task, one after the other.
    public struct Options: Sendable {
        public var executable: String
        public var directory: String
        public var seconds: Double = 120
        public var speed: Double?
        public var quiet = false
        public var colour = false
        /// The terminal's width: lines are wrapped between words to fit it. Nil: not wrapped.
        public var width: Int?
        /// The aggregator's HTTP address; nil: 127.0.0.1:7480, or a free port when that is taken.
        /// `none` runs it without.
        public var http: String?
        public init(executable: String, directory: String) { self.executable = executable; self.directory = directory }
    }

    let options: Options
    let scenario: Scenario
    let plan: Plan
    var children: [String: Process] = [:]
    let say: @Sendable (String) -> Void

    public init(options: Options, plan: Plan, scenario: Scenario = .nphln, say: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.plan = plan
        self.scenario = scenario
        let width = options.width
        // Every line the demo prints reads durations as words and fits the terminal.
        self.say = { text in say(DemoText.wrap(text, width: width)) }
    }

    /// The demo's operator: operator identities are `operator:NAME`, which the
    /// aggregator trusts without warning that the key names no theme.
    static let operatorIdentity = "operator:demo"

    var keys: String { options.directory + "/keys" }
    var data: String { options.directory + "/data" }
    var logs: String { options.directory + "/logs" }

    /// Runs the scenario to its end. Returns whether it reached its scripted end state.
    public func run() async throws -> Bool {
        let fm = FileManager.default
        try? fm.removeItem(atPath: options.directory)
        for d in [keys, data, logs] { try fm.createDirectory(atPath: d, withIntermediateDirectories: true) }
        let themes = plan.themes.map(\.id)
        for name in ["aggregator", Self.operatorIdentity] + themes { try CurveKeyFile.write(try CurveKeyPair.generate(), identity: name, directory: keys) }
        let ports = try (0..<3).map { _ in try ZeroMQ.unusedLoopbackPort() }
        let ingest = "tcp://127.0.0.1:\(ports[0])", stream = "tcp://127.0.0.1:\(ports[1])", snapshot = "tcp://127.0.0.1:\(ports[2])"
        let days = Double(scenario.start.days(to: scenario.end))
        let speed = options.speed ?? days / options.seconds
        let origin = Int64((Date().timeIntervalSince1970 * 1000).rounded()) + 1500  // time to start everything
        // Every process's clock stands still at the end of the last day, so the status read
        // at the end is that day's however busy the machine is.
        let clock = SharedScaledClock(start: scenario.start.epochMilliseconds, speed: speed * 86_400, originWallMs: origin,
                                      stopMs: scenario.end.adding(days: 1).epochMilliseconds - 1)
        let clockArgs = ["--clock-start", scenario.start.iso, "--clock-speed", String(speed), "--clock-origin", String(origin),
                         "--clock-stop", scenario.end.iso]
        say("Koers demo: \(plan.programme.name), \(scenario.start) → \(scenario.end) at \(DemoText.number(speed)) days a second (about \(DemoText.seconds(days / speed)))")
        say("  data, keys and logs in \(options.directory)")

        let http = try options.http ?? "127.0.0.1:\(ZeroMQ.isLoopbackPortFree(7480) ? 7480 : ZeroMQ.unusedLoopbackPort())"
        if http != "none" { say("  the status in a browser: http://\(http)/ (live; also /metrics and /api/v1/status)") }
        try start("aggregator", ["aggregator", "run", "--keys", keys, "--data", data, "--ingest", ingest, "--stream", stream, "--snapshot", snapshot,
                                 "--http", http,
                                 // Half a real second of slack for a busy machine, at most 20 simulated
                                 // days so the scripted 40-day silence of `work` is still noticed.
                                 "--silence-grace", String(max(3, min(speed * 0.5, 20))), "--tick", "0.02"] + clockArgs)
        let heartbeat = String(max(0.01, min(1, 0.25 / speed)))
        for t in themes { try startTheme(t, ingest: ingest, heartbeat: heartbeat, clockArgs: clockArgs) }
        say("  started the aggregator and \(themes.count) theme services (pids \(children.values.map { String($0.processIdentifier) }.sorted().joined(separator: ", ")))")

        let client = try OperatorClient(snapshotEndpoint: snapshot, streamEndpoint: stream,
                                        keys: try CurveKeyFile.read("\(keys)/\(CurveKeyFile.fileStem(for: Self.operatorIdentity)).key_secret").keyPair,
                                        serverKey: try CurveKeyFile.read(keys + "/aggregator.key").publicKey)
        let watcher = StreamWatcher(say: say, quiet: options.quiet, colour: options.colour, end: scenario.end, plan: plan)
        let follow = Task { await watcher.watch(client) }
        defer { follow.cancel() }

        // Wait for the simulated start.
        while clock.now() < scenario.start.epochMilliseconds { try await Task.sleep(for: .milliseconds(20)) }
        try await drive(clock: clock, client: client, ingest: ingest, heartbeat: heartbeat, clockArgs: clockArgs, watcher: watcher)

        // The story ends on its last day: drive() returns at the start of it, the stream
        // shown stops there, and every process's clock stands still at its end (--clock-stop).
        // The aggregator dates its status by its last daily evaluation: wait (briefly) for
        // the one of the last day.
        let end = scenario.end
        var final = try await Task.detached { try client.snapshot() }.value
        for _ in 0..<200 where final.date < end {
            try await Task.sleep(for: .milliseconds(2))
            final = try await Task.detached { try client.snapshot() }.value
        }
        follow.cancel()
        await watcher.finish()
        say("")
        if final.date > scenario.end {
            let late = scenario.end.days(to: final.date)
            say("(the clock ran \(late) day\(late == 1 ? "" : "s") past \(scenario.end) while the status was read: the machine is busy, or --speed is high)")
        } else if final.date < scenario.end {
            say("(the aggregator had not yet evaluated \(scenario.end): this is its status on \(final.date))")
        }
        say(StatusRenderer(colour: options.colour).render(final, plan: plan))
        // Which alerts fired and resolved: from the aggregator's stream log, where every
        // transition is numbered and stored. (The live follower may resynchronise from a
        // snapshot after a gap on a loaded machine and miss a short-lived alert.)
        return verify(final, history: try storedAlertHistory(data + "/aggregator/koers.sqlite"))
    }

    func storedAlertHistory(_ path: String) throws -> [String: [AlertState]] {
        var history: [String: [AlertState]] = [:]
        for m in try StoreHistory(path: path).streamMessages(after: 0) where m.type == .alertTransition {
            guard let t = try? JSONDecoder().decode(StreamDocuments.AlertTransitionDocument.self, from: Data(m.document.utf8)) else { continue }
            history[t.key, default: []].append(t.to)
        }
        return history
    }

    func drive(clock: SharedScaledClock, client: OperatorClient, ingest: String, heartbeat: String, clockArgs: [String], watcher: StreamWatcher) async throws {
        var pending = scenario.steps[...]
        var current: [String: Double] = [:]
        var lastMonth = -1
        var silenced = false, restored = false, acknowledged = false
        let checkers = Dictionary(uniqueKeysWithValues: plan.themes.map { ($0.id, ReportChecker(plan: plan, plugin: GenericPlugin(theme: $0.id))) })
        var outboxes: [String: Outbox] = [:]
        for t in plan.themes { outboxes[t.id] = try Outbox(path: "\(data)/\(t.id)/outbox.sqlite") }
        let milestones = plan.milestones
        var lastQuarter = -1
        while true {
            let now = clock.now()
            let today = PlanDate(epochMilliseconds: now)
            // The last day's status is the end state (nothing is scripted for it).
            if today >= scenario.end { break }
            var batch: [String: [Payload]] = [:]
            func queue(_ theme: String, _ draft: ReportDraft) {
                do { batch[theme, default: []].append(try checkers[theme]!.check(draft, reporter: "demo", now: now)) } catch {
                    say("  demo: \(theme) \(draft.item) refused before queueing: \(error.message)")
                }
            }
            while let step = pending.first, step.day <= today {
                pending.removeFirst()
                if let (from, to) = step.period {
                    queue(step.theme, .indicator(item: step.item, value: step.value, periodStart: from, periodEnd: to, note: step.note, unit: nil))
                } else {
                    current[step.item] = step.value
                    queue(step.theme, .milestone(item: step.item, value: step.value, asOf: min(step.asOf ?? today, today), note: step.note, unit: nil))
                }
            }
            // Monthly updates: every team confirms where its running milestones stand.
            let (y, mo, _) = today.components
            let month = y * 12 + mo
            if month != lastMonth {
                lastMonth = month
                for p in milestones where p.milestone.start <= today && today <= p.milestone.due.adding(days: 60) {
                    let m = p.milestone
                    let value = current[m.id] ?? m.baseline
                    if (value - m.baseline) / (m.target - m.baseline) >= 1 { continue }
                    queue(p.theme, .milestone(item: m.id, value: value, asOf: today, note: nil, unit: nil))
                }
            }
            for (theme, payloads) in batch { try outboxes[theme]!.enqueue(payloads, now: now) }
            // The work theme's service goes down for six weeks.
            if !silenced && today >= scenario.silence.from {
                silenced = true
                say("\(today)  ⏻ demo stops the \(scenario.silence.theme) theme service (pid \(children[scenario.silence.theme]?.processIdentifier ?? 0)); its reports wait in its outbox")
                stop(scenario.silence.theme)
            }
            if silenced && !restored && today >= scenario.silence.until {
                restored = true
                say("\(today)  ⏻ demo restarts the \(scenario.silence.theme) theme service")
                try startTheme(scenario.silence.theme, ingest: ingest, heartbeat: heartbeat, clockArgs: clockArgs)
            }
            // An operator takes on the werksferen alert for a few months.
            if !acknowledged, today >= PlanDate(iso: "2024-10-01")!, await watcher.isOpen("milestone-lagging:bvs-werksferen") {
                acknowledged = true
                do {
                    try await Task.detached {
                        try client.acknowledge(key: "milestone-lagging:bvs-werksferen", by: "programmabureau",
                                               reason: "werkgeversoffensief gestart", until: PlanDate(iso: "2025-01-31"))
                    }.value
                } catch { say("  demo: acknowledgement failed: \(error)") }
            }
            let quarter = y * 4 + (mo - 1) / 3
            if quarter != lastQuarter && !options.quiet {
                lastQuarter = quarter
                if let snap = try? await Task.detached(operation: { try client.snapshot(timeout: .seconds(2)) }).value, snap.date <= scenario.end {
                    say(summaryLine(snap))
                }
            }
            // Wake at the start of the last day rather than up to 20 ms into it.
            let untilEnd = scenario.end.epochMilliseconds - clock.now()
            try await Task.sleep(for: .milliseconds(max(1, min(20, Int(Double(untilEnd) / clock.speed) + 1))))
        }
    }

    func summaryLine(_ s: StreamDocuments.Snapshot) -> String {
        let rollups = Dictionary(uniqueKeysWithValues: s.rollups.map { ($0.node, $0.state) })
        let themes = plan.themes.map { "\($0.id) \(rollups["theme:\($0.id)"]?.rawValue ?? "-")" }.joined(separator: " · ")
        let date = options.colour ? "\u{1B}[2m\(s.date)\u{1B}[0m" : "\(s.date)"
        return "\(date)  ▤ \(themes) · \(s.alerts.filter { $0.state != .pending }.count) open alerts"
    }

    func verify(_ s: StreamDocuments.Snapshot, history: [String: [AlertState]]) -> Bool {
        var ok = true
        let states = Dictionary(uniqueKeysWithValues: s.items.map { ($0.item, $0.state.rawValue) })
        for (item, want) in scenario.finalStates.sorted(by: { $0.key < $1.key }) where states[item] != want {
            say("  scenario check: \(item) is \(states[item] ?? "missing"), scripted \(want)")
            ok = false
        }
        let open = Set(s.alerts.map(\.key))
        for key in scenario.openAtEnd where !open.contains(key) {
            say("  scenario check: alert \(key) should be open at the end")
            ok = false
        }
        for key in scenario.firedAndResolved where !(history[key]?.contains(.firing) == true && history[key]?.contains(.resolved) == true) {
            say("  scenario check: alert \(key) should have fired and resolved (saw \(history[key]?.map(\.rawValue) ?? []))")
            ok = false
        }
        say(ok ? "\nThe scenario reached its scripted end state." : "\nThe scenario did NOT reach its scripted end state.")
        return ok
    }

    // MARK: - Processes

    func start(_ name: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: options.executable)
        p.arguments = args
        let log = "\(logs)/\(name).log"
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try h.seekToEnd()
        p.standardOutput = h
        p.standardError = h
        try p.run()
        children[name] = p
    }

    func startTheme(_ theme: String, ingest: String, heartbeat: String, clockArgs: [String]) throws {
        try start(theme, ["theme", "run", theme, "--keys", keys, "--data", data, "--aggregator", ingest, "--heartbeat", heartbeat] + clockArgs)
    }

    func stop(_ name: String) {
        guard let p = children.removeValue(forKey: name), p.isRunning else { return }
        p.terminate()
        p.waitUntilExit()
    }

    /// Stops every process the demo started (SIGTERM, then wait).
    public func stopAll() {
        for name in children.keys.sorted() where name != "aggregator" { stop(name) }
        stop("aggregator")
    }
}

/// Prints the alert stream as it comes and keeps which alerts are open.
actor StreamWatcher {
    let say: @Sendable (String) -> Void
    let quiet: Bool
    let colour: Bool
    let end: PlanDate
    let plan: Plan
    var history: [String: [AlertState]] = [:]
    var open: Set<String> = []
    var finished = false

    init(say: @escaping @Sendable (String) -> Void, quiet: Bool, colour: Bool, end: PlanDate, plan: Plan) {
        self.say = say
        self.quiet = quiet
        self.colour = colour
        self.end = end
        self.plan = plan
    }

    /// Nothing more is printed: the story has ended.
    func finish() { finished = true }

    func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

    func watch(_ client: OperatorClient) async {
        do {
            for try await e in client.follow() {
                switch e {
                case .alert(let t):
                    history[t.key, default: []].append(t.to)
                    if t.to == .resolved { open.remove(t.key) } else { open.insert(t.key) }
                    // Info-level at-risk notices stay in the stream; the demo shows warnings and up.
                    if t.to != .pending && !quiet && !finished && t.date <= end && (t.alert.severity > .info || t.to == .acknowledged) {
                        let mark = t.to == .resolved ? "✔" : t.to == .acknowledged ? "✋" : t.to == .flapping ? "↯" : "⚠"
                        // Green resolved, cyan acknowledged, red critical, yellow the rest.
                        let code = t.to == .resolved ? "32" : t.to == .acknowledged ? "36" : t.alert.severity == .critical ? "1;31" : "33"
                        say("\(paint("\(t.date)", "2"))  \(paint("\(mark) \(t.to.rawValue.uppercased())", code)) \(t.alert.severity.rawValue) \(t.key) — \(t.alert.evidence.summary)"
                            + (t.alert.acknowledgement.map { " [ack: \($0.by), \($0.reason)]" } ?? ""))
                    }
                case .snapshot(let s):
                    for a in s.alerts { open.insert(a.key) }
                case .gap(let expected, let got):
                    if !quiet && !finished { say("  (stream gap \(expected)…\(got); resynchronising)") }
                default: break
                }
            }
        } catch {}
    }

    func isOpen(_ key: String) -> Bool { open.contains(key) && history[key]?.last != .pending }
}
