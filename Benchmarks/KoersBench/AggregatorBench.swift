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
            let client = try OperatorClient(snapshotEndpoint: snapshot, streamEndpoint: stream, keys: operatorKeys, serverKey: serverKey)
            let launched = ContinuousClock.now
            try p.run()
            process = p
            while true {
                // The request waits in the socket until the aggregator binds (libzmq retries
                // the connection every 100 ms), then for the answer.
                if (try? client.snapshot(theme: "talent", timeout: .seconds(5))) != nil { break }
                guard p.isRunning else { throw ValidationError("the aggregator exited with \(p.terminationStatus) during start-up") }
                guard ContinuousClock.now - launched < .seconds(300) else { throw ValidationError("the aggregator did not serve a snapshot within 300 s") }
            }
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
        func cpuSeconds() -> Double? {
            guard let pid = process?.processIdentifier,
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // Fields after the command name: state is field 3, utime 14, stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
            return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }

        /// The aggregator's resident memory (VmRSS), in MB.
        func residentMB() -> Double? {
            guard let pid = process?.processIdentifier,
                  let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                  let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
            return kb / 1024
        }
    }

    /// The reports each publisher sends, encoded before the clock starts.
    struct Load {
        var payloads: [String: [[UInt8]]]
        /// What each report says, for matching alert transitions to sends: the item per index.
        var items: [String: [String]]
        var payloadBytes: Int { (payloads.values.first?.first?.count ?? 0) + Envelope.size }

        /// `count` reports per theme over the theme's milestones in turn, values moving
        /// through the baseline-to-target range (binary milestones alternate), so states
        /// change as real progress does: some reports move an item, most confirm it.
        static func cycling(_ milestones: [String: [(id: String, baseline: Double, target: Double, binary: Bool)]], count: Int,
                            asOf: PlanDate) -> Load {
            let codec = WireCodec(), now = SystemClock().now() - 1000
            var payloads: [String: [[UInt8]]] = [:], items: [String: [String]] = [:]
            for theme in AggregatorBench.themes {
                let ms = milestones[theme] ?? []
                var list: [[UInt8]] = [], ids: [String] = []
                list.reserveCapacity(count)
                for i in 0..<count {
                    let m = ms[i % ms.count]
                    let step = (i / ms.count + i % 7) % 11
                    let value = m.binary ? Double(step % 2) : m.baseline + (m.target - m.baseline) * Double(step) / 10
                    list.append(codec.encodePayload(.milestoneProgress(MilestoneProgress(
                        theme: theme, item: m.id, value: value, asOf: asOf, reportedAt: now))))
                    ids.append(m.id)
                }
                payloads[theme] = list
                items[theme] = ids
            }
            return Load(payloads: payloads, items: items)
        }

        /// One report per milestone saying it is done (value = target).
        static func done(_ milestones: [String: [(id: String, baseline: Double, target: Double, binary: Bool)]], count: Int,
                         asOf: PlanDate) -> Load {
            let codec = WireCodec(), now = SystemClock().now() - 1000
            var payloads: [String: [[UInt8]]] = [:], items: [String: [String]] = [:]
            for theme in AggregatorBench.themes {
                let ms = Array((milestones[theme] ?? []).prefix(count))
                payloads[theme] = ms.map {
                    codec.encodePayload(.milestoneProgress(MilestoneProgress(theme: theme, item: $0.id, value: $0.target, asOf: asOf, reportedAt: now)))
                }
                items[theme] = ms.map(\.id)
            }
            return Load(payloads: payloads, items: items)
        }
    }

    /// The milestones of a plan by theme, as the loads need them.
    static func milestones(of plan: Plan) -> [String: [(id: String, baseline: Double, target: Double, binary: Bool)]] {
        var out: [String: [(id: String, baseline: Double, target: Double, binary: Bool)]] = [:]
        for p in plan.milestones where themes.contains(p.theme) {
            out[p.theme, default: []].append((p.milestone.id, p.milestone.baseline, p.milestone.target, p.milestone.kind == .binary))
        }
        return out
    }

    /// Sends every report of a load from four CURVE publishers (one thread each) and reads
    /// the ACKs. Unpaced, it returns reports per second from the first send to the last
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
        let serverKey = site.serverKey, endpoint = site.ingest
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
                    _ = try s.receive()  // WELCOME, acked through 0: every site starts with an empty store
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
                        var due = next <= count && next - acked <= 20_000
                        var wait = Duration.milliseconds(10_000)
                        if let interval, due {
                            let at = t0 + .seconds(interval * Double(next - 1))
                            let now = ContinuousClock.now
                            if at > now { due = false; wait = at - now }
                        }
                        poller.set(item, events: due ? [.readable, .writable] : .readable)
                        let ready = try poller.poll(timeout: .after(wait))
                        if ready[item].isEmpty && interval == nil { throw ValidationError("no progress for 10 s at \(acked)/\(count)") }
                        while next <= count && next - acked <= 20_000 {
                            if let interval, t0 + .seconds(interval * Double(next - 1)) > ContinuousClock.now { break }
                            let env = Envelope(type: .milestoneProgress, sequence: next, sentAt: SystemClock().now())
                            if sent != nil { sentTimes[items[Int(next - 1)]] = DispatchTime.now().uptimeNanoseconds }
                            guard try s.trySend(Message([Frame(env.bytes), Frame(payloads[Int(next - 1)])])) else { break }
                            next += 1
                            if interval != nil { break }
                        }
                        while let m = try s.tryReceive() {
                            switch try codec.decode(envelope: m[0].bytes, payload: m[1].bytes, now: Int64.max / 2).payload {
                            case .ack(let a): acked = max(acked, a.settledThrough)
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
    static func ingestAndRestart(koers: String, reportsPerPublisher: Int) throws -> (reportsPerSecond: Double, payloadBytes: Int, restart: Double, stored: Int) {
        let site = try Site(koers: koers)
        try site.start(plan: nil)
        let plan = try PlanLoader.loadDefault(path: nil)
        let load = Load.cycling(milestones(of: plan), count: reportsPerPublisher, asOf: yesterday())
        let rate = try publish(site, load)
        site.stop()
        let restart = try site.start(plan: nil)
        let stored = try ReportStore(path: site.dir + "/data/aggregator/koers.sqlite").reportCount()
        site.stop()
        return (rate, load.payloadBytes, restart, stored)
    }

    /// Per-report cost with a plan of `large` milestones over one of `small`: the
    /// aggregator's CPU time per report at the same steady rate (small batches, so the
    /// small plan gains nothing from reports of one item arriving together). The large
    /// run also samples the aggregator's resident memory and measures its restart.
    static func scale(koers: String, small: Int, large: Int, rate: Double, seconds: Double)
        throws -> (small: Double, large: Double, peakRSS: Double, restartLarge: Double) {
        var costs: [Double] = []
        var peak = 0.0, restart = 0.0
        for size in [small, large] {
            let site = try Site(koers: koers)
            let generated = SyntheticPlan.make(milestones: size)
            let path = site.dir + "/plan-\(size).yaml"
            try generated.yaml.write(toFile: path, atomically: true, encoding: .utf8)
            try site.start(plan: path)
            Thread.sleep(forTimeInterval: 1)  // let the start-up's own work settle
            let load = Load.cycling(generated.milestones, count: Int(rate * seconds) / themes.count, asOf: yesterday())
            let cpu0 = site.cpuSeconds() ?? 0
            _ = try publish(site, load, rate: rate, during: size == large ? { peak = max(peak, site.residentMB() ?? 0) } : nil)
            let cpu = (site.cpuSeconds() ?? 0) - cpu0
            costs.append(cpu / Double(load.payloads.values.map(\.count).reduce(0, +)))
            if size == large {
                site.stop()
                restart = try site.start(plan: path)
            }
            site.stop()
        }
        return (costs[0], costs[1], peak, restart)
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
