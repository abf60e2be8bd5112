import ArgumentParser
import Foundation
import Plan

/// One run of every selected section, printing as it goes and returning the figures
/// (name → number). Baselines run right before the Koers figure they are compared with,
/// so both share the machine's noise; ratios are taken within the run.
final class Bench {
    let settings: Settings
    let cBench: String, cRelay: String?, koers: String?
    let me: String
    /// Plans and C relay files of this invocation, removed at the end.
    let workspace: String
    private var endpoints = 0
    private var figures: [String: Double] = [:]
    private var largePlanFile: SyntheticPlan.File?
    private var smallPlanFile: SyntheticPlan.File?
    private var parsedLargePlan: Plan?

    init(settings: Settings, cBench: String, cRelay: String?, koers: String?) throws {
        self.settings = settings
        self.cBench = cBench
        self.cRelay = cRelay
        self.koers = koers
        me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        workspace = NSTemporaryDirectory() + "koers-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
    }

    func removeWorkspace() { try? FileManager.default.removeItem(atPath: workspace) }

    /// Whether a section runs in this invocation (selected, and koers given if it needs it).
    func measures(_ s: Section) -> Bool { settings.sections.contains(s) && (!s.needsKoers || koers != nil) }

    func measure() throws -> [String: Double] {
        figures = [:]
        for s in Section.allCases where settings.sections.contains(s) {
            print("")
            guard measures(s) else { print("[\(s.rawValue)] skipped: no --koers given"); continue }
            switch s {
            case .wrapper: try wrapper()
            case .codec: try codec()
            case .ingest: try ingest(koers: koers!, relay: cRelay!)
            case .latency: try latency(koers: koers!, relay: cRelay!)
            case .scale: try scale(koers: koers!)
            case .engine: try engine()
            case .http: try http(koers: koers!)
            }
            fflush(nil)  // stdout may be a pipe (make bench | tee): show each section as it ends
        }
        if let a = figures["ingest_100k_reports_per_s"], let b = figures["ingest_reports_per_s"] {
            figures["ingest_100k_ratio_to_builtin"] = a / b
        }
        return figures
    }

    func endpoint(_ transport: String) -> String {
        endpoints += 1
        return transport == "ipc" ? "ipc://\(workspace)/zmq-\(endpoints).sock" : "tcp://127.0.0.1:*"
    }

    func largePlan() throws -> SyntheticPlan.File {
        if let largePlanFile { return largePlanFile }
        let f = try SyntheticPlan.File(milestones: settings.largePlan, directory: workspace)
        largePlanFile = f
        return f
    }

    // MARK: - Sections

    func wrapper() throws {
        let count = settings.count
        print("[wrapper] PUSH/PULL throughput, sender and receiver in separate processes, \(count) messages, best of \(settings.repeats)")
        print(pad("case", 16) + pad("C msg/s", 12) + pad("C MB/s", 9) + pad("sync msg/s", 13) + pad("ratio", 8) + pad("async msg/s", 13) + "ratio")
        for transport in ["ipc", "tcp"] {
            for size in [200, 1024] {
                var best: [String: Double] = [:]
                for _ in 0..<settings.repeats {
                    let c = try pair(receiver: [cBench, "pull", endpoint(transport), "\(count)", "\(size)"],
                                     sender: { [self.cBench, "push", $0, "\(count)", "\(size)"] })
                    best["c", default: 0] = max(best["c", default: 0], c[0])
                    for api in ["sync", "async"] {
                        let r = try pair(receiver: [me, "role", "pull", endpoint(transport), "\(count)", "\(size)", "--api", api],
                                         sender: { [self.me, "role", "push", $0, "\(count)", "\(size)", "--api", api] })
                        best[api, default: 0] = max(best[api, default: 0], r[0])
                    }
                }
                let key = "\(transport)_\(size)"
                let c = best["c"]!, sync = best["sync"]!, async = best["async"]!
                figures["c_\(key)_msgs_per_s"] = c
                figures["c_\(key)_mb_per_s"] = c * Double(size) / 1e6
                for (api, v) in [("sync", sync), ("async", async)] {
                    figures["wrapper_\(api)_\(key)_msgs_per_s"] = v
                    figures["wrapper_\(api)_\(key)_mb_per_s"] = v * Double(size) / 1e6
                    figures["wrapper_\(api)_\(key)_ratio"] = v / c
                }
                print(pad("\(transport) \(size) B", 16) + pad(fmt(c, 0), 12) + pad(fmt(c * Double(size) / 1e6, 1), 9)
                      + pad(fmt(sync, 0), 13) + pad(fmt(sync / c, 2), 8) + pad(fmt(async, 0), 13) + fmt(async / c, 2))
            }
        }
        figures["wrapper_sync_ratio"] = figures["wrapper_sync_ipc_200_ratio"]
        figures["wrapper_async_ratio"] = figures["wrapper_async_ipc_200_ratio"]
        try roundTrips()
    }

    /// REQ/REP round trips, C and the wrapper: information, and the wrapper's own target.
    func roundTrips() throws {
        let n = settings.rttCount
        print("[wrapper] REQ/REP round trip, ipc, 200 B, \(n) round trips, the first tenth warm-up (µs)")
        var rtt: [String: (p50: Double, p99: Double)] = [:]
        for _ in 0..<settings.repeats {
            let c = try pair(receiver: [cBench, "echo", endpoint("ipc"), "\(n)", "200"],
                             sender: { [self.cBench, "ping", $0, "\(n)", "200"] }, resultFrom: .sender)
            rtt["c"] = better(rtt["c"], (c[0], c[1]))
            for api in ["sync", "async"] {
                let r = try pair(receiver: [me, "role", "echo", endpoint("ipc"), "\(n)", "200"],
                                 sender: { [self.me, "role", "ping", $0, "\(n)", "200", "--api", api] }, resultFrom: .sender)
                rtt[api] = better(rtt[api], (r[0], r[1]))
            }
        }
        print(pad("", 14) + pad("p50", 10) + pad("p99", 10) + "p99 ratio to C")
        for name in ["c", "sync", "async"] {
            let v = rtt[name]!, c = rtt["c"]!
            let prefix = name == "c" ? "c_rtt" : "wrapper_\(name)_rtt"
            figures["\(prefix)_p50_us"] = v.p50 / 1000
            figures["\(prefix)_p99_us"] = v.p99 / 1000
            if name != "c" { figures["\(prefix)_p99_ratio"] = v.p99 / c.p99 }
            print(pad(name == "c" ? "C" : "wrapper_\(name)", 14) + pad(fmt(v.p50 / 1000, 1), 10) + pad(fmt(v.p99 / 1000, 1), 10)
                  + (name == "c" ? "" : fmt(v.p99 / c.p99, 2)))
        }
        figures["wrapper_rtt_p99_ratio"] = figures["wrapper_sync_rtt_p99_ratio"]
    }

    func codec() throws {
        let codec = try CodecBench.run(count: settings.count)
        figures["codec_decode_reports_per_s"] = codec.wire
        figures["json_decode_reports_per_s"] = codec.json
        figures["codec_decode_ratio_to_json"] = codec.wire / codec.json
        print("[codec] report decoding, one thread: wire codec \(fmt(codec.wire, 0))/s, JSONDecoder \(fmt(codec.json, 0))/s, ratio \(fmt(codec.wire / codec.json, 1))")
    }

    func ingest(koers: String, relay: String) throws {
        let perPublisher = settings.ingestReports, total = perPublisher * AggregatorBench.themes.count
        let size = AggregatorBench.reportBytes
        print("[ingest] four CURVE publishers in separate processes or threads, \(perPublisher) reports each of \(size) B, window \(AggregatorBench.publisherWindow)")
        let c = try RelayBench.throughput(relay: relay, total: total, directory: workspace)
        figures["c_durable_relay_reports_per_s"] = c.reportsPerSecond
        figures["c_durable_relay_mean_batch"] = Double(total) / Double(max(c.batches, 1))
        print("  C durable relay (ROUTER; each batch written to its log, fdatasync, then ACK): \(fmt(c.reportsPerSecond, 0)) reports/s, \(c.batches) batches")
        let k = try AggregatorBench.ingestAndRestart(koers: koers, reportsPerPublisher: perPublisher)
        figures["ingest_reports_per_s"] = k.reportsPerSecond
        figures["ingest_ratio_to_c_durable_relay"] = k.reportsPerSecond / c.reportsPerSecond
        print("  Koers aggregator, built-in plan, stored before acknowledged: \(fmt(k.reportsPerSecond, 0)) reports/s; ratio to the C relay \(fmt(k.reportsPerSecond / c.reportsPerSecond, 3))")
        figures["restart_s"] = k.restart
        figures["restart_stored_reports"] = Double(k.stored)
        print("  restart with \(k.stored) stored reports, until a snapshot is answered: \(fmt(k.restart, 3)) s")
        let curve = try pair(receiver: [cBench, "pull", endpoint("tcp"), "\(total)", "\(size)", "curve"],
                             sender: { [self.cBench, "push", $0, "\(total)", "\(size)", "curve"] })[0]
        figures["zmq_curve_pushpull_msgs_per_s"] = curve
        figures["ingest_ratio_to_zmq_curve"] = k.reportsPerSecond / curve
        print("  C CURVE PUSH/PULL, \(size) B, nothing stored (information): \(fmt(curve, 0)) msgs/s; Koers' ratio to it \(fmt(k.reportsPerSecond / curve, 3))")
    }

    func latency(koers: String, relay: String) throws {
        let seconds = settings.latencySeconds
        print("[latency] \(fmt(seconds, 0)) s at 1,000 reports/s from four publishers taking turns; send → arrival at a CURVE SUB")
        let c = try RelayBench.latency(relay: relay, rate: 1000, seconds: seconds, directory: workspace)
        figures["c_durable_relay_p50_us"] = c.p50
        figures["c_durable_relay_p99_us"] = c.p99
        print("  C durable relay, each record on a PUB after its batch's fdatasync: \(c.count) records, p50 \(fmt(c.p50, 1)) µs, p99 \(fmt(c.p99, 1)) µs")
        let k = try AggregatorBench.alertLatency(koers: koers, rate: 1000, seconds: seconds)
        figures["alert_latency_p50_ms"] = k.p50
        figures["alert_latency_p99_ms"] = k.p99
        figures["alert_latency_p99_ratio_to_c_relay"] = k.p99 * 1000 / c.p99
        print("  Koers, each report resolving an overdue milestone's alert: \(k.count) transitions, p50 \(fmt(k.p50, 2)) ms, p99 \(fmt(k.p99, 2)) ms; "
              + "p99 ratio to the C relay \(fmt(k.p99 * 1000 / c.p99, 2))")
        if let rtt = figures["c_rtt_p99_us"] {
            figures["alert_latency_p99_ratio_to_rtt"] = k.p99 * 1000 / rtt
            print("  (information: p99 over this run's C REQ/REP round-trip p99, \(fmt(rtt, 1)) µs: \(fmt(k.p99 * 1000 / rtt, 1)))")
        }
    }

    func scale(koers: String) throws {
        let rate = settings.scaleRate, seconds = settings.scaleSeconds
        print("[scale] plans of 100 and \(settings.largePlan) milestones, \(fmt(rate, 0)) reports/s for \(fmt(seconds, 0)) s over every milestone; the aggregator's CPU time per report")
        if smallPlanFile == nil { smallPlanFile = try SyntheticPlan.File(milestones: 100, directory: workspace) }
        let small = try AggregatorBench.scaleSmall(koers: koers, plan: smallPlanFile!, rate: rate, seconds: seconds)
        let large = try AggregatorBench.largePlan(koers: koers, plan: try largePlan(), rate: rate, seconds: seconds,
                                                  reportsPerPublisher: settings.ingestLargeReports)
        figures["scale_small_cpu_us_per_report"] = small * 1e6
        figures["scale_large_cpu_us_per_report"] = large.cpuPerReport * 1e6
        figures["scale_cost_ratio"] = large.cpuPerReport / small
        print("  100 milestones \(fmt(small * 1e6, 1)) µs CPU per report; \(settings.largePlan) milestones \(fmt(large.cpuPerReport * 1e6, 1)) µs; ratio \(fmt(large.cpuPerReport / small, 2))")
        figures["start_100k_plan_s"] = large.firstStart
        figures["rss_mb_100k"] = large.rss
        figures["rss_peak_mb_100k"] = large.peakRSS
        print("  first start on an empty store \(fmt(large.firstStart, 2)) s; resident memory with reports flowing (highest 100 ms sample) \(fmt(large.rss, 0)) MB; "
              + "peak since start (VmHWM) \(fmt(large.peakRSS, 0)) MB")
        figures["ingest_100k_reports_per_s"] = large.ingest
        figures["rss_peak_mb_100k_after_ingest"] = large.peakAfterIngest
        print("  ingest, \(settings.ingestLargeReports) reports per publisher spread over all \(settings.largePlan) milestones: \(fmt(large.ingest, 0)) reports/s; "
              + "VmHWM after it \(fmt(large.peakAfterIngest, 0)) MB")
        figures["restart_100k_plan_s"] = large.restart
        figures["restart_100k_stored_reports"] = Double(large.stored)
        print("  restart with \(large.stored) stored reports, until a snapshot is answered: \(fmt(large.restart, 2)) s")
    }

    func engine() throws {
        let n = settings.engineReports
        print("[engine] StatusEngine.record + AlertEngine.itemsChanged + daily per report, in this process, \(n) reports over every milestone")
        let builtIn = EngineBench.run(plan: try PlanLoader.loadDefault(path: nil), count: n)
        if parsedLargePlan == nil {
            let t0 = ContinuousClock.now
            parsedLargePlan = try PlanLoader.load(path: try largePlan().path)
            print("  (read the \(settings.largePlan)-milestone plan once, untimed: \(fmt((ContinuousClock.now - t0).seconds, 1)) s)")
        }
        let large = EngineBench.run(plan: parsedLargePlan!, count: n)
        figures["engine_us_per_report_builtin"] = builtIn.microsecondsPerReport
        figures["engine_us_per_report_100k"] = large.microsecondsPerReport
        figures["engine_cost_ratio"] = large.microsecondsPerReport / builtIn.microsecondsPerReport
        print("  built-in plan \(fmt(builtIn.microsecondsPerReport, 2)) µs per report (\(builtIn.events) events); \(settings.largePlan) milestones "
              + "\(fmt(large.microsecondsPerReport, 2)) µs (\(large.events) events); ratio \(fmt(large.microsecondsPerReport / builtIn.microsecondsPerReport, 2))")
    }

    func http(koers: String) throws {
        print("[http] ingest with the HTTP server, a scraper of /metrics every second and an Alertmanager forwarder, against ingest without them")
        let onOff = try HTTPBench.ingestOnOff(koers: koers, reportsPerPublisher: settings.httpReports, repeats: settings.repeats)
        figures["ingest_http_off_reports_per_s"] = onOff.off
        figures["ingest_http_on_reports_per_s"] = onOff.on
        figures["ingest_ratio_http_on_off"] = onOff.on / onOff.off
        figures["ingest_http_off_cpu_us_per_report"] = onOff.offCPU
        figures["ingest_http_on_cpu_us_per_report"] = onOff.onCPU
        if onOff.forwarder { figures["ingest_http_alertmanager_cpu_us_per_report"] = onOff.alertmanagerCPU }
        print("  off \(fmt(onOff.off, 0)) reports/s; on \(fmt(onOff.on, 0)) reports/s (\(onOff.scrapes) scrapes"
              + "\(onOff.forwarder ? ", Debian's Alertmanager receiving" : ", no Alertmanager installed: forwarder not run")); ratio \(fmt(onOff.on / onOff.off, 3))")
        print("  aggregator CPU per report while loaded: off \(fmt(onOff.offCPU, 2)) µs, on \(fmt(onOff.onCPU, 2)) µs"
              + (onOff.forwarder ? "; Alertmanager \(fmt(onOff.alertmanagerCPU, 2)) µs" : ""))
        let n = settings.pageRequests
        let pages = try HTTPBench.pages(koers: koers, plan: try largePlan(), count: n)
        figures["metrics_100k_p50_ms"] = pages.metricsLarge.p50
        figures["metrics_100k_p99_ms"] = pages.metricsLarge.p99
        print("  /metrics with \(settings.largePlan) milestones and --no-item-metrics, \(n) requests: p50 \(fmt(pages.metricsLarge.p50, 2)) ms, "
              + "p99 \(fmt(pages.metricsLarge.p99, 2)) ms, max \(fmt(pages.metricsLarge.max, 2)) ms, \(pages.metricsLarge.bytes) bytes")
        figures["overview_builtin_p50_ms"] = pages.overviewBuiltIn.p50
        figures["overview_builtin_p99_ms"] = pages.overviewBuiltIn.p99
        figures["overview_100k_p50_ms"] = pages.overviewLarge.p50
        figures["overview_100k_p99_ms"] = pages.overviewLarge.p99
        print("  the overview page, built-in plan after 8,000 reports, \(n) requests: p50 \(fmt(pages.overviewBuiltIn.p50, 2)) ms, "
              + "p99 \(fmt(pages.overviewBuiltIn.p99, 2)) ms, \(pages.overviewBuiltIn.bytes) bytes")
        print("  the overview page, \(settings.largePlan) milestones (summarised per intervention), \(max(10, n / 5)) requests: "
              + "p50 \(fmt(pages.overviewLarge.p50, 2)) ms, p99 \(fmt(pages.overviewLarge.p99, 2)) ms, \(pages.overviewLarge.bytes) bytes")
    }
}

func better(_ a: (p50: Double, p99: Double)?, _ b: (Double, Double)) -> (p50: Double, p99: Double) {
    guard let a else { return b }
    return a.p99 <= b.1 ? a : (b.0, b.1)
}
