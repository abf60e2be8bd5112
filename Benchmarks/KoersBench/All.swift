import ArgumentParser
import Foundation

/// The driver: every figure beside its C baseline, measured in the same run.
struct All: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every benchmark and write the figures as one flat JSON object.")

    @Option(help: "The C baseline program (built by `make bench` from Benchmarks/c/zmq_bench.c).")
    var cBench: String

    @Option(help: "Where to write the figures.")
    var out: String = ".bench/results.json"

    @Option(help: "Messages per throughput run.")
    var count: Int = 1_000_000

    @Option(help: "Round trips per latency run (the first tenth is warm-up).")
    var rttCount: Int = 50_000

    @Option(help: "Runs per case; the best is kept, C and Swift interleaved so they share the noise.")
    var repeats: Int = 2

    @Option(help: "The koers executable (release build) for the aggregator benchmarks; skipped when absent.")
    var koers: String?

    @Option(help: "Reports per publisher in the ingest benchmark (four publishers); the restart figure is taken on the store they leave.")
    var ingestReports: Int = 250_000

    @Option(help: "Reports per second in each run of the scale benchmark (steady, for 10 s).")
    var scaleRate: Double = 4_000

    @Option(help: "Milestones in the large plan of the scale and memory figures.")
    var largePlan: Int = 100_000

    @Option(help: "Seconds of steady load in the alert-latency benchmark (1,000 reports/s).")
    var latencySeconds: Double = 10

    @Flag(help: "Only the aggregator's figures (with the C round trip they are compared to).")
    var aggregatorOnly = false

    @Flag(help: "Only the operators' world's figures: ingest with and without the HTTP server, /metrics and the overview page.")
    var httpOnly = false

    func run() async throws {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var results: [String: Double] = [:]
        var endpointCounter = 0
        func endpoint(_ transport: String) -> String {
            endpointCounter += 1
            return transport == "ipc"
                ? "ipc://\(NSTemporaryDirectory())koers-bench-\(getpid())-\(endpointCounter).sock"
                : "tcp://127.0.0.1:*"
        }

        print("Koers benchmarks — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(count) messages per run, best of \(repeats)")
        print("")
        if !aggregatorOnly && !httpOnly {
        print("PUSH/PULL throughput, sender and receiver in separate processes")
        print(pad("case", 16) + pad("C msg/s", 12) + pad("C MB/s", 9) + pad("sync msg/s", 13) + pad("ratio", 8) + pad("async msg/s", 13) + "ratio")
        for transport in ["ipc", "tcp"] {
            for size in [200, 1024] {
                var best: [String: Double] = [:]
                for _ in 0..<repeats {
                    let c = try pair(receiver: [cBench, "pull", endpoint(transport), "\(count)", "\(size)"],
                                     sender: { [cBench, "push", $0, "\(count)", "\(size)"] })
                    best["c", default: 0] = max(best["c", default: 0], c[0])
                    for api in ["sync", "async"] {
                        let r = try pair(
                            receiver: [me, "role", "pull", endpoint(transport), "\(count)", "\(size)", "--api", api],
                            sender: { [me, "role", "push", $0, "\(count)", "\(size)", "--api", api] })
                        best[api, default: 0] = max(best[api, default: 0], r[0])
                    }
                }
                let key = "\(transport)_\(size)"
                let c = best["c"]!, sync = best["sync"]!, async = best["async"]!
                results["c_\(key)_msgs_per_s"] = c
                results["c_\(key)_mb_per_s"] = c * Double(size) / 1e6
                results["wrapper_sync_\(key)_msgs_per_s"] = sync
                results["wrapper_sync_\(key)_mb_per_s"] = sync * Double(size) / 1e6
                results["wrapper_async_\(key)_msgs_per_s"] = async
                results["wrapper_async_\(key)_mb_per_s"] = async * Double(size) / 1e6
                results["wrapper_sync_\(key)_ratio"] = sync / c
                results["wrapper_async_\(key)_ratio"] = async / c
                print(pad("\(transport) \(size) B", 16) + pad(fmt(c, 0), 12) + pad(fmt(c * Double(size) / 1e6, 1), 9)
                      + pad(fmt(sync, 0), 13) + pad(fmt(sync / c, 2), 8) + pad(fmt(async, 0), 13) + fmt(async / c, 2))
            }
        }
        results["wrapper_sync_ratio"] = results["wrapper_sync_ipc_200_ratio"]
        results["wrapper_async_ratio"] = results["wrapper_async_ipc_200_ratio"]

        print("")
        print("REQ/REP round trip, ipc, 200 B, \(rttCount) round trips (µs)")
        var rtt: [String: (p50: Double, p99: Double)] = [:]
        for _ in 0..<repeats {
            let c = try pair(receiver: [cBench, "echo", endpoint("ipc"), "\(rttCount)", "200"],
                             sender: { [cBench, "ping", $0, "\(rttCount)", "200"] }, resultFrom: .sender)
            rtt["c"] = better(rtt["c"], (c[0], c[1]))
            for api in ["sync", "async"] {
                let r = try pair(receiver: [me, "role", "echo", endpoint("ipc"), "\(rttCount)", "200"],
                                 sender: { [me, "role", "ping", $0, "\(rttCount)", "200", "--api", api] }, resultFrom: .sender)
                rtt[api] = better(rtt[api], (r[0], r[1]))
            }
        }
        print(pad("", 10) + pad("p50", 10) + pad("p99", 10) + "p99 ratio to C")
        for name in ["c", "sync", "async"] {
            let v = rtt[name]!
            let label = name == "c" ? "C" : "wrapper_\(name)"
            let prefix = name == "c" ? "c_rtt" : "wrapper_\(name)_rtt"
            results["\(prefix)_p50_us"] = v.p50 / 1000
            results["\(prefix)_p99_us"] = v.p99 / 1000
            if name != "c" { results["\(prefix)_p99_ratio"] = v.p99 / rtt["c"]!.p99 }
            print(pad(label, 14) + pad(fmt(v.p50 / 1000, 1), 10) + pad(fmt(v.p99 / 1000, 1), 10)
                  + (name == "c" ? "" : fmt(v.p99 / rtt["c"]!.p99, 2)))
        }
        results["wrapper_rtt_p99_ratio"] = results["wrapper_sync_rtt_p99_ratio"]

        print("")
        let codec = try CodecBench.run(count: 1_000_000)
        results["codec_decode_reports_per_s"] = codec.wire
        results["json_decode_reports_per_s"] = codec.json
        results["codec_decode_ratio_to_json"] = codec.wire / codec.json
        print("Report decoding, one thread: wire codec \(fmt(codec.wire, 0))/s, JSONDecoder \(fmt(codec.json, 0))/s, ratio \(fmt(codec.wire / codec.json, 1))")
        } else {
            var best: (p50: Double, p99: Double)?
            for _ in 0..<repeats {
                let c = try pair(receiver: [cBench, "echo", endpoint("ipc"), "\(rttCount)", "200"],
                                 sender: { [cBench, "ping", $0, "\(rttCount)", "200"] }, resultFrom: .sender)
                best = better(best, (c[0], c[1]))
            }
            results["c_rtt_p50_us"] = best!.p50 / 1000
            results["c_rtt_p99_us"] = best!.p99 / 1000
            print("C REQ/REP round trip, ipc, 200 B: p50 \(fmt(best!.p50 / 1000, 1)) µs, p99 \(fmt(best!.p99 / 1000, 1)) µs")
        }

        if let koers, !httpOnly {
            print("")
            print("Aggregator ingest: four CURVE publishers, \(ingestReports) reports each, stored before acknowledged")
            let ingest = try AggregatorBench.ingestAndRestart(koers: koers, reportsPerPublisher: ingestReports)
            var curveBest = 0.0
            for _ in 0..<repeats {
                let c = try pair(receiver: [cBench, "pull", endpoint("tcp"), "\(count)", "\(ingest.payloadBytes)", "curve"],
                                 sender: { [cBench, "push", $0, "\(count)", "\(ingest.payloadBytes)", "curve"] })
                curveBest = max(curveBest, c[0])
            }
            results["ingest_reports_per_s"] = ingest.reportsPerSecond
            results["zmq_curve_pushpull_msgs_per_s"] = curveBest
            results["ingest_ratio_to_zmq_curve"] = ingest.reportsPerSecond / curveBest
            print("  ingest \(fmt(ingest.reportsPerSecond, 0)) reports/s; raw libzmq CURVE PUSH/PULL (\(ingest.payloadBytes) B, C) \(fmt(curveBest, 0)) msgs/s; ratio \(fmt(ingest.reportsPerSecond / curveBest, 3))")
            results["restart_s"] = ingest.restart
            results["restart_stored_reports"] = Double(ingest.stored)
            print("  restart with \(ingest.stored) stored reports, until a snapshot is served: \(fmt(ingest.restart, 2)) s")

            print("")
            print("Alert latency: \(fmt(latencySeconds, 0)) s at 1,000 reports/s, each resolving an overdue milestone's alert; sent → transition at a SUB")
            let latency = try AggregatorBench.alertLatency(koers: koers, rate: 1000, seconds: latencySeconds)
            let rttP99 = results["c_rtt_p99_us"]! / 1000
            results["alert_latency_p50_ms"] = latency.p50
            results["alert_latency_p99_ms"] = latency.p99
            results["alert_latency_p99_ratio_to_rtt"] = latency.p99 / rttP99
            print("  \(latency.count) transitions: p50 \(fmt(latency.p50, 2)) ms, p99 \(fmt(latency.p99, 2)) ms; raw libzmq RTT p99 (C, this run) \(fmt(rttP99, 3)) ms; ratio \(fmt(latency.p99 / rttP99, 1))")

            print("")
            print("Scale: plans of 100 and \(largePlan) milestones, \(fmt(scaleRate, 0)) reports/s for 10 s over all milestones; the aggregator's CPU time per report")
            let scale = try AggregatorBench.scale(koers: koers, small: 100, large: largePlan, rate: scaleRate, seconds: 10)
            results["scale_small_cpu_us_per_report"] = scale.small * 1e6
            results["scale_large_cpu_us_per_report"] = scale.large * 1e6
            results["scale_cost_ratio"] = scale.large / scale.small
            results["rss_mb_100k"] = scale.peakRSS
            results["restart_100k_plan_s"] = scale.restartLarge
            print("  100 milestones \(fmt(scale.small * 1e6, 1)) µs CPU per report; \(largePlan) milestones \(fmt(scale.large * 1e6, 1)) µs; ratio \(fmt(scale.large / scale.small, 2))")
            print("  resident memory with the large plan, reports flowing (peak of 100 ms samples): \(fmt(scale.peakRSS, 0)) MB")
            print("  restart with the large plan: \(fmt(scale.restartLarge, 2)) s")
        }

        if let koers {
            print("")
            print("The operators' world: ingest with the HTTP server, a scraper of /metrics every second and an Alertmanager forwarder, against ingest without them")
            let onOff = try HTTPBench.ingestOnOff(koers: koers, reportsPerPublisher: max(10_000, ingestReports / 4), repeats: max(2, repeats))
            results["ingest_http_off_reports_per_s"] = onOff.off
            results["ingest_http_on_reports_per_s"] = onOff.on
            results["ingest_ratio_http_on_off"] = onOff.on / onOff.off
            print("  off \(fmt(onOff.off, 0)) reports/s; on \(fmt(onOff.on, 0)) reports/s (\(onOff.scrapes) scrapes\(onOff.forwarder ? ", Debian's Alertmanager receiving" : ", no Alertmanager installed: forwarder not run")); ratio \(fmt(onOff.on / onOff.off, 3))")
            let pages = try HTTPBench.pages(koers: koers, milestones: largePlan, count: 100)
            results["metrics_100k_p50_ms"] = pages.metricsLarge.p50
            results["metrics_100k_p99_ms"] = pages.metricsLarge.p99
            print("  /metrics with \(largePlan) milestones and --no-item-metrics, 100 requests: p50 \(fmt(pages.metricsLarge.p50, 2)) ms, p99 \(fmt(pages.metricsLarge.p99, 2)) ms, max \(fmt(pages.metricsLarge.max, 2)) ms, \(pages.metricsLarge.bytes) bytes")
            results["overview_builtin_p50_ms"] = pages.overviewBuiltIn.p50
            results["overview_builtin_p99_ms"] = pages.overviewBuiltIn.p99
            results["overview_100k_p50_ms"] = pages.overviewLarge.p50
            results["overview_100k_p99_ms"] = pages.overviewLarge.p99
            print("  the overview page, built-in plan after 8,000 reports, 100 requests: p50 \(fmt(pages.overviewBuiltIn.p50, 2)) ms, p99 \(fmt(pages.overviewBuiltIn.p99, 2)) ms, \(pages.overviewBuiltIn.bytes) bytes")
            print("  the overview page, \(largePlan) milestones (summarised per intervention), 20 requests: p50 \(fmt(pages.overviewLarge.p50, 2)) ms, p99 \(fmt(pages.overviewLarge.p99, 2)) ms, \(pages.overviewLarge.bytes) bytes")
        }

        print("")
        var targets: [(String, String, Double)] = aggregatorOnly || httpOnly ? [] : [
            ("wrapper_sync_ratio", ">=", 0.9), ("wrapper_async_ratio", ">=", 0.5), ("wrapper_rtt_p99_ratio", "<=", 1.5),
        ]
        if results["ingest_reports_per_s"] != nil {
            targets += [("ingest_reports_per_s", ">=", 150_000), ("alert_latency_p99_ratio_to_rtt", "<=", 10), ("scale_cost_ratio", "<=", 2),
                        ("restart_s", "<=", 5), ("rss_mb_100k", "<=", 300)]
        }
        if results["ingest_ratio_http_on_off"] != nil {
            targets += [("ingest_ratio_http_on_off", ">=", 0.95), ("metrics_100k_p99_ms", "<=", 50),
                        ("overview_builtin_p99_ms", "<=", 50), ("overview_100k_p99_ms", "<=", 500)]
        }
        for (name, op, bound) in targets {
            let v = results[name]!
            let met = op == ">=" ? v >= bound : v <= bound
            print("\(pad(name, 32)) \(fmt(v, 2))  target \(op) \(bound)  \(met ? "met" : "MISSED")")
        }
        try writeJSON(results)
        print("\nwrote \(out)")
    }

    // MARK: - Processes

    enum ResultSide { case receiver, sender }

    /// Starts the receiver, waits for its `READY <endpoint>`, starts the sender against
    /// that endpoint, waits for both and returns the numbers on the `RESULT` line.
    func pair(receiver: [String], sender: (String) -> [String], resultFrom side: ResultSide = .receiver) throws -> [Double] {
        let rx = try launch(receiver)
        guard let readyLine = rx.lines.next(), readyLine.hasPrefix("READY ") else {
            throw ValidationError("\(receiver.joined(separator: " ")) did not report READY")
        }
        let tx = try launch(sender(String(readyLine.dropFirst(6))))
        var resultLine: String?
        for line in (side == .receiver ? rx.lines : tx.lines) where line.hasPrefix("RESULT ") { resultLine = line }
        tx.process.waitUntilExit()
        rx.process.waitUntilExit()
        guard tx.process.terminationStatus == 0, rx.process.terminationStatus == 0, let resultLine else {
            throw ValidationError("benchmark run failed: \(receiver.joined(separator: " "))")
        }
        return resultLine.dropFirst(7).split(separator: " ").compactMap { Double($0) }
    }

    struct Running {
        let process: Process
        let lines: LineReader
    }

    func launch(_ argv: [String]) throws -> Running {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        return Running(process: p, lines: LineReader(handle: pipe.fileHandleForReading))
    }

    func writeJSON(_ results: [String: Double]) throws {
        try FileManager.default.createDirectory(atPath: (out as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let body = results.keys.sorted().map { k -> String in
            let v = results[k]!
            let text = v.rounded() == v && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.4f", v)
            return "  \"\(k)\": \(text)"
        }.joined(separator: ",\n")
        try "{\n\(body)\n}\n".write(toFile: out, atomically: true, encoding: .utf8)
    }
}

/// Reads a child's stdout line by line.
final class LineReader: Sequence, IteratorProtocol {
    let handle: FileHandle
    var buffer: [UInt8] = []

    init(handle: FileHandle) { self.handle = handle }

    func next() -> String? {
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
            buffer.append(contentsOf: chunk)
        }
    }
}

func better(_ a: (p50: Double, p99: Double)?, _ b: (Double, Double)) -> (p50: Double, p99: Double) {
    guard let a else { return b }
    return a.p99 <= b.1 ? a : (b.0, b.1)
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
func fmt(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
