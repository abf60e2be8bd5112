import ArgumentParser
import Aggregator
import StreamProtocol
import Foundation
import Histogram
import Operators
import Plan
import Synchronization
import Wire
import ZeroMQ

/// The aggregator's figures, measured against the real `koers aggregator run` process
/// (release build, CURVE with ZAP, SQLite in WAL with `synchronous = FULL`) from
/// publishers and an operator in this process, over loopback TCP.
enum AggregatorBench {
    static let themes = ["talent", "work", "health", "safety"]

    /// Every report the benchmarks send, Koers' and the C baselines', is this many bytes
    /// before CURVE: the 24-byte envelope and a payload padded to the rest (an extension
    /// field, tag 200, which receivers skip: docs/protocol.md §2.2). A fixed size, so that
    /// the C programs move exactly the bytes the aggregator does, in every run.
    static let reportBytes = 128
    /// Reports a publisher may have unacknowledged, Koers' and the C relay's alike. (The
    /// theme service's own default is 1,000; the benchmark's publishers keep more in
    /// flight so that they, not the window, are never the limit.)
    static let publisherWindow = 20_000
    /// Most reports the C relay takes into one batch: `AggregatorConfiguration.batchLimit`'s
    /// default, the aggregator's most reports per transaction.
    static let batchLimit = 4096

    /// A payload padded to `reportBytes` with an extension field.
    static func padded(_ payload: [UInt8]) -> [UInt8] {
        let room = reportBytes - Envelope.size - payload.count - 3
        precondition(room >= 0, "a report of \(payload.count) payload bytes does not fit in \(reportBytes) bytes")
        return payload + [200, UInt8(room & 0xFF), UInt8(room >> 8)] + [UInt8](repeating: 0, count: room)
    }

    /// One aggregator's keys, data directory and endpoints; removed when done.
    final class Site {
        let dir: String
        let koers: String
        let ingest: String, stream: String, snapshot: String
        let serverKey: CurvePublicKey
        let operatorKeys: CurveKeyPair
        private(set) var process: Process?

        init(koers: String) throws {
            self.koers = koers
            dir = NSTemporaryDirectory() + "koers-bench-\(UUID().uuidString.prefix(8))"
            for name in ["aggregator", "operator:bench"] + AggregatorBench.themes {
                try CurveKeyFile.write(try CurveKeyPair.generate(), identity: name, directory: dir + "/keys")
            }
            serverKey = try CurveKeyFile.read(dir + "/keys/aggregator.key").publicKey
            operatorKeys = try CurveKeyFile.read(dir + "/keys/operator.bench.key_secret").keyPair!
            ingest = "tcp://127.0.0.1:\(try ZeroMQ.unusedLoopbackPort())"
            stream = "tcp://127.0.0.1:\(try ZeroMQ.unusedLoopbackPort())"
            snapshot = "tcp://127.0.0.1:\(try ZeroMQ.unusedLoopbackPort())"
        }

        deinit {
            stop()
            try? FileManager.default.removeItem(atPath: dir)
        }

        func keys(_ theme: String) throws -> CurveKeyPair { try CurveKeyFile.read(dir + "/keys/\(theme).key_secret").keyPair! }

        /// Starts the aggregator and returns the seconds until it answered a snapshot request.
        @discardableResult
        func start(plan: String?, extra: [String] = ["--http", "none"]) throws -> Double {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: koers)
            p.arguments = ["aggregator", "run", "--keys", dir + "/keys", "--data", dir + "/data", "--ingest", ingest,
                           "--stream", stream, "--snapshot", snapshot] + extra + (plan.map { ["--plan", $0] } ?? [])
            p.environment = ["KOERS_LOG_LEVEL": "error"]
            p.standardError = FileHandle.nullDevice
            let launched = ContinuousClock.now
            try p.run()
            process = p
            func alive() throws {
                guard p.isRunning else { throw ValidationError("the aggregator exited with \(p.terminationStatus) during start-up") }
                guard ContinuousClock.now - launched < .seconds(300) else { throw ValidationError("the aggregator did not serve a snapshot within 300 s") }
            }
            // A client connected before the aggregator binds would retry only every 100 ms
            // (libzmq's reconnect interval), and the figure would have that granularity:
            // look for the listening port every 2 ms first, then connect.
            let port = Int(snapshot.split(separator: ":").last ?? "") ?? 0
            while !HTTPBench.listening(port: port) {
                try alive()
                Thread.sleep(forTimeInterval: 0.002)
            }
            let client = try OperatorClient(snapshotEndpoint: snapshot, streamEndpoint: stream, keys: operatorKeys, serverKey: serverKey)
            while (try? client.snapshot(theme: "talent", timeout: .seconds(5))) == nil { try alive() }
            return (ContinuousClock.now - launched).seconds
        }

        /// Stops the aggregator gracefully (SIGTERM) and waits for it.
        func stop() {
            guard let p = process else { return }
            if p.isRunning { p.terminate() }
            p.waitUntilExit()
            process = nil
        }

        /// CPU time the aggregator has used (user + system), in seconds.
        func cpuSeconds() -> Double? { process.flatMap { Site.cpuSeconds(pid: $0.processIdentifier) } }

        /// CPU time process `pid` has used (user + system), in seconds.
        static func cpuSeconds(pid: Int32) -> Double? {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // Fields after the command name: state is field 3, utime 14, stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
            return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }

        /// The aggregator's resident memory (VmRSS), in MB.
        func residentMB() -> Double? { status("VmRSS:") }

        /// The most resident memory the aggregator has had since it started (VmHWM), in MB.
        func peakResidentMB() -> Double? { status("VmHWM:") }

        /// A line of `/proc/PID/status` in kB, as MB.
        private func status(_ key: String) -> Double? {
            guard let pid = process?.processIdentifier,
                  let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key) }),
                  let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
            return kb / 1024
        }
    }

    /// The reports each publisher sends, encoded before the clock starts.
    struct Load {
        var payloads: [String: [[UInt8]]]
        /// What each report says, for matching alert transitions to sends: the item per index.
        var items: [String: [String]]
        var count: Int { payloads.values.map(\.count).reduce(0, +) }

        /// `count` reports per theme over the theme's milestones in turn, values moving
        /// through the baseline-to-target range (binary milestones alternate), so states
        /// change as real progress does: some reports move an item, most confirm it.
        static func cycling(_ milestones: SyntheticPlan.Milestones, count: Int,
                            asOf: PlanDate) -> Load {
            let codec = WireCodec(), now = SystemClock().now() - 1000
            var payloads: [String: [[UInt8]]] = [:], items: [String: [String]] = [:]
            for theme in AggregatorBench.themes {
                let ms = milestones[theme] ?? []
                var list: [[UInt8]] = [], ids: [String] = []
                list.reserveCapacity(count)
                for i in 0..<count {
                    let m = ms[i % ms.count]
                    let value = value(m, report: i, of: ms.count)
                    list.append(padded(codec.encodePayload(.milestoneProgress(MilestoneProgress(
                        theme: theme, item: m.id, value: value, asOf: asOf, reportedAt: now)))))
                    ids.append(m.id)
                }
                payloads[theme] = list
                items[theme] = ids
            }
            return Load(payloads: payloads, items: items)
        }

        /// The value report `i` of a load cycling over `n` milestones gives milestone `m`:
        /// through the baseline-to-target range in tenths (binary milestones alternate).
        static func value(_ m: (id: String, baseline: Double, target: Double, binary: Bool), report i: Int, of n: Int) -> Double {
            let step = (i / n + i % 7) % 11
            return m.binary ? Double(step % 2) : m.baseline + (m.target - m.baseline) * Double(step) / 10
        }

        /// One report per milestone saying it is done (value = target).
        static func done(_ milestones: SyntheticPlan.Milestones, count: Int,
                         asOf: PlanDate) -> Load {
            let codec = WireCodec(), now = SystemClock().now() - 1000
            var payloads: [String: [[UInt8]]] = [:], items: [String: [String]] = [:]
            for theme in AggregatorBench.themes {
                let ms = Array((milestones[theme] ?? []).prefix(count))
                payloads[theme] = ms.map {
                    padded(codec.encodePayload(.milestoneProgress(MilestoneProgress(theme: theme, item: $0.id, value: $0.target, asOf: asOf, reportedAt: now))))
                }
                items[theme] = ms.map(\.id)
            }
            return Load(payloads: payloads, items: items)
        }
    }

    /// The milestones of a plan by theme, as the loads need them.
    static func milestones(of plan: Plan) -> SyntheticPlan.Milestones {
        var out: SyntheticPlan.Milestones = [:]
        for p in plan.milestones where themes.contains(p.theme) {
            out[p.theme, default: []].append((p.milestone.id, p.milestone.baseline, p.milestone.target, p.milestone.kind == .binary))
        }
        return out
    }

    /// Sends every report of a load from four CURVE publishers (one thread each) and reads
    /// the ACKs; each publisher numbers its reports on from the WELCOME's `settled_through`,
    /// so a site can take several loads. Unpaced, it returns reports per second from the first send to the last
    /// report acknowledged, so every report counted is stored. Paced (`rate` reports/s in
    /// all), each report goes out at its time on a fixed schedule; `sent` gets each send's
    /// monotonic time in ns. `during` runs every 100 ms on the calling thread meanwhile.
    static func publish(_ site: Site, _ load: Load, rate: Double? = nil, sent: SendTimes? = nil,
                        during: (() -> Void)? = nil) throws -> Double {
        let codec = WireCodec()
        let start = Mutex<ContinuousClock.Instant?>(nil)
        let failures = Mutex<[String]>([])
        let done = DispatchGroup()
        let total = load.payloads.values.map(\.count).reduce(0, +)
        let serverKey = site.serverKey, endpoint = site.ingest, window = UInt64(publisherWindow)
        for theme in themes {
            let keys = try site.keys(theme)
            let payloads = load.payloads[theme] ?? [], items = load.items[theme] ?? []
            done.enter()
            Thread {
                defer { done.leave() }
                do {
                    let context = try Context()
                    defer { context.terminate() }
                    let s = try context.socket(.dealer)
                    try s.makeCurveClient(keyPair: keys, serverKey: serverKey)
                    try s.set(.sendHighWaterMark, 100_000)
                    try s.set(.receiveHighWaterMark, 100_000)
                    try s.set(.linger, .after(.zero))
                    try s.connect(endpoint)
                    let hello = codec.encode(WireMessage(.hello(Hello(theme: theme, planVersion: 1, service: "bench", lastSequence: 0)),
                                                         sequence: 0, sentAt: SystemClock().now()))
                    try s.send(Message([Frame(hello.envelope), Frame(hello.payload)]))
                    let welcome = try s.receive()
                    guard case .welcome(let w) = try codec.decode(envelope: welcome[0].bytes, payload: welcome[1].bytes, now: Int64.max / 2).payload else {
                        throw ValidationError("\(theme): the aggregator's answer to HELLO was not a WELCOME")
                    }
                    let base = w.settledThrough
                    // Paced publishers take turns: publisher k sends at k/rate past each of its slots.
                    let t0 = start.withLock { if $0 == nil { $0 = .now }; return $0! }
                        + .seconds(rate.map { Double(themes.firstIndex(of: theme)!) / $0 } ?? 0)
                    let count = UInt64(payloads.count)
                    var next: UInt64 = 1, acked: UInt64 = 0
                    var poller = Poller()
                    let item = poller.add(s, events: [.readable, .writable])
                    let interval = rate.map { Double(themes.count) / $0 }  // seconds between this publisher's reports
                    var sentTimes: [String: UInt64] = [:]
                    while acked < count {
                        var due = next <= count && next - acked <= window
                        var wait = Duration.milliseconds(10_000)
                        if let interval, due {
                            let at = t0 + .seconds(interval * Double(next - 1))
                            let now = ContinuousClock.now
                            if at > now { due = false; wait = at - now }
                        }
                        poller.set(item, events: due ? [.readable, .writable] : .readable)
                        let ready = try poller.poll(timeout: .after(wait))
                        if ready[item].isEmpty && interval == nil { throw ValidationError("no progress for 10 s at \(acked)/\(count)") }
                        while next <= count && next - acked <= window {
                            if let interval, t0 + .seconds(interval * Double(next - 1)) > ContinuousClock.now { break }
                            let env = Envelope(type: .milestoneProgress, sequence: base + next, sentAt: SystemClock().now())
                            if sent != nil { sentTimes[items[Int(next - 1)]] = DispatchTime.now().uptimeNanoseconds }
                            guard try s.trySend(Message([Frame(env.bytes), Frame(payloads[Int(next - 1)])])) else { break }
                            next += 1
                            if interval != nil { break }
                        }
                        while let m = try s.tryReceive() {
                            switch try codec.decode(envelope: m[0].bytes, payload: m[1].bytes, now: Int64.max / 2).payload {
                            case .ack(let a): acked = max(acked, a.settledThrough - min(base, a.settledThrough))
                            case .nack(let n): throw ValidationError("\(theme): report \(n.refusedSequence) refused: \(n.reason) \(n.detail)")
                            default: break
                            }
                        }
                    }
                    s.close()
                    if let sent { sent.times.withLock { $0.merge(sentTimes) { a, _ in a } } }
                } catch {
                    failures.withLock { $0.append("\(theme): \(error)") }
                }
            }.start()
        }
        while done.wait(timeout: .now() + .milliseconds(100)) == .timedOut { during?() }
        let elapsed = ContinuousClock.now - start.withLock { $0! }
        if let f = failures.withLock({ $0.first }) { throw ValidationError("aggregator benchmark failed: \(f)") }
        return Double(total) / elapsed.seconds
    }

    /// When each report was sent (monotonic ns), by the item it names.
    final class SendTimes: Sendable {
        let times = Mutex<[String: UInt64]>([:])
    }

    /// Receives alert transitions to `resolved` on the operators' stream (CURVE SUB, its
    /// own thread), each with its arrival time in ns, until stopped.
    final class AlertListener: @unchecked Sendable {
        let arrivals = Mutex<[(document: String, ns: UInt64)]>([])
        let stopFlag = Atomic<Bool>(false)
        let ready = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)

        init(_ site: Site) throws {
            let codec = WireCodec()
            let keys = site.operatorKeys, server = site.serverKey, endpoint = site.stream
            Thread { [self] in
                defer { finished.signal() }
                do {
                    let context = try Context()
                    defer { context.terminate() }
                    let sub = try context.socket(.sub)
                    try sub.makeCurveClient(keyPair: keys, serverKey: server)
                    try sub.set(.receiveHighWaterMark, 1_000_000)
                    try sub.set(.receiveTimeout, .after(.milliseconds(100)))
                    try sub.set(.linger, .after(.zero))
                    try sub.subscribe("alert.")
                    try sub.subscribe("hb")
                    try sub.connect(endpoint)
                    var signalled = false
                    while !stopFlag.load(ordering: .relaxed) {
                        let m: Message
                        do throws(ZMQError) { m = try sub.receive() } catch {
                            if error.code == .timedOut { continue }
                            throw error
                        }
                        let ns = DispatchTime.now().uptimeNanoseconds
                        if !signalled { signalled = true; ready.signal() }
                        guard m.count == 3, case .alertTransition(let doc) = try codec.decode(envelope: m[1].bytes, payload: m[2].bytes, now: Int64.max / 2).payload,
                              doc.contains("\"to\":\"resolved\"") else { continue }
                        arrivals.withLock { $0.append((doc, ns)) }
                    }
                    sub.close()
                } catch {
                    print("alert listener failed: \(error)")
                    ready.signal()
                }
            }.start()
        }

        func stop() -> [(document: String, ns: UInt64)] {
            stopFlag.store(true, ordering: .relaxed)
            finished.wait()
            return arrivals.withLock { $0 }
        }
    }

    // MARK: - The figures

    /// `ingest_reports_per_s` with the built-in plan, then `restart_s` on the store it
    /// leaves (`reportsPerPublisher` × 4 reports).
    static func ingestAndRestart(koers: String, reportsPerPublisher: Int) throws -> (reportsPerSecond: Double, restart: Double, stored: Int) {
        let site = try Site(koers: koers)
        try site.start(plan: nil)
        let plan = try PlanLoader.loadDefault(path: nil)
        let load = Load.cycling(milestones(of: plan), count: reportsPerPublisher, asOf: yesterday())
        let rate = try publish(site, load)
        site.stop()
        let restart = try site.start(plan: nil)
        let stored = try ReportStore(path: site.dir + "/data/aggregator/koers.sqlite").reportCount()
        site.stop()
        return (rate, restart, stored)
    }

    /// The aggregator's CPU time per report at a steady `rate` for `seconds`, reports
    /// spread over every milestone (small batches, so a small plan gains nothing from
    /// reports of one item arriving together), and its resident memory meanwhile (the
    /// highest of 100 ms samples of VmRSS).
    static func paced(_ site: Site, _ milestones: SyntheticPlan.Milestones, rate: Double, seconds: Double) throws -> (cpuPerReport: Double, rss: Double) {
        let load = Load.cycling(milestones, count: Int(rate * seconds) / themes.count, asOf: yesterday())
        var peak = 0.0
        let cpu0 = site.cpuSeconds() ?? 0
        _ = try publish(site, load, rate: rate, during: { peak = max(peak, site.residentMB() ?? 0) })
        return (((site.cpuSeconds() ?? 0) - cpu0) / Double(load.count), peak)
    }

    /// `scale_small_cpu_us_per_report`: the paced run on a fresh aggregator with a small plan.
    static func scaleSmall(koers: String, plan: SyntheticPlan.File, rate: Double, seconds: Double) throws -> Double {
        let site = try Site(koers: koers)
        try site.start(plan: plan.path)
        defer { site.stop() }
        Thread.sleep(forTimeInterval: 1)  // let the start-up's own work settle
        return try paced(site, plan.milestones, rate: rate, seconds: seconds).cpuPerReport
    }

    /// What one aggregator with the large plan gives, in the order it is measured.
    struct LargePlan {
        /// From launching on an empty store to the first snapshot answered (information).
        var firstStart: Double
        /// `scale_large_cpu_us_per_report`, in seconds, and `rss_mb_100k` during that run.
        var cpuPerReport: Double, rss: Double
        /// `rss_peak_mb_100k`: VmHWM after start-up and the paced run.
        var peakRSS: Double
        /// `ingest_100k_reports_per_s`, unpaced, reports spread over every milestone.
        var ingest: Double
        /// VmHWM after the unpaced ingest as well (information).
        var peakAfterIngest: Double
        /// `restart_100k_plan_s` on the store the runs leave, and how many reports it holds.
        var restart: Double, stored: Int
    }

    /// The large plan's figures on one aggregator in turn: start on an empty store, the
    /// paced run (CPU per report, resident memory), the start-up and paced peak (VmHWM),
    /// an unpaced ingest of `reportsPerPublisher` × 4 reports spread over every milestone,
    /// then a restart on the store they leave, timed until a snapshot is answered.
    static func largePlan(koers: String, plan: SyntheticPlan.File, rate: Double, seconds: Double, reportsPerPublisher: Int) throws -> LargePlan {
        let site = try Site(koers: koers)
        let firstStart = try site.start(plan: plan.path)
        Thread.sleep(forTimeInterval: 1)  // let the start-up's own work settle
        let steady = try paced(site, plan.milestones, rate: rate, seconds: seconds)
        let peak = site.peakResidentMB() ?? 0
        let ingest = try publish(site, Load.cycling(plan.milestones, count: reportsPerPublisher, asOf: yesterday()))
        let peakAfterIngest = site.peakResidentMB() ?? 0
        site.stop()
        let restart = try site.start(plan: plan.path)
        let stored = try ReportStore(path: site.dir + "/data/aggregator/koers.sqlite").reportCount()
        site.stop()
        return LargePlan(firstStart: firstStart, cpuPerReport: steady.cpuPerReport, rss: steady.rss, peakRSS: peak, ingest: ingest,
                         peakAfterIngest: peakAfterIngest, restart: restart, stored: stored)
    }

    /// From a report being sent to its alert transition arriving at a stream subscriber,
    /// at a steady `rate` reports/s for `seconds`: each report says an overdue milestone is
    /// done, so each resolves one firing alert.
    static func alertLatency(koers: String, rate: Double, seconds: Double) throws -> (p50: Double, p99: Double, count: Int) {
        let perTheme = Int(rate * seconds) / themes.count
        let site = try Site(koers: koers)
        let generated = SyntheticPlan.make(milestones: perTheme * themes.count + 400, overdue: true)
        let path = site.dir + "/plan-overdue.yaml"
        try generated.yaml.write(toFile: path, atomically: true, encoding: .utf8)
        try site.start(plan: path)
        let listener = try AlertListener(site)
        guard listener.ready.wait(timeout: .now() + .seconds(30)) == .success else { throw ValidationError("no message on the stream within 30 s") }
        // Let the start-up's own alerts drain from the stream before the clock starts.
        Thread.sleep(forTimeInterval: 2)
        let load = Load.done(generated.milestones, count: perTheme, asOf: yesterday())
        let sent = SendTimes()
        _ = try publish(site, load, rate: rate, sent: sent)
        // The last transitions may still be on their way.
        let expected = load.items.values.map(\.count).reduce(0, +)
        let deadline = ContinuousClock.now + .seconds(10)
        while listener.arrivals.withLock({ $0.count }) < expected && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let arrivals = listener.stop()
        site.stop()
        let sends = sent.times.withLock { $0 }
        var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three)
        var matched = 0
        for (doc, ns) in arrivals {
            guard let t = try? JSONDecoder().decode(StreamDocuments.AlertTransitionDocument.self, from: Data(doc.utf8)),
                  t.alert.rule == "milestone-overdue", let at = sends[t.alert.subject], ns >= at else { continue }
            histogram.record(ns - at)
            matched += 1
        }
        guard matched == expected else { throw ValidationError("alert latency: \(matched) of \(expected) reports' transitions arrived") }
        return (Double(histogram.valueAtPercentile(50)) / 1e6, Double(histogram.valueAtPercentile(99)) / 1e6, matched)
    }

    static func yesterday() -> PlanDate {
        PlanDate(daysSinceEpoch: Int(SystemClock().now() / 86_400_000) - 1)
    }
}
