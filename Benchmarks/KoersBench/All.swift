import ArgumentParser
import Foundation
import Plan

/// The driver: every figure beside its C baseline, measured in the same run, each run
/// repeated and every figure reported as min/median/max; exits non-zero when a target
/// is missed.
struct All: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every benchmark (three times by default) and write the figures as one flat JSON object.",
        discussion: "Exits with status 1 when a target is missed (the summary names each), so a script can tell.")

    @Option(help: "The C baseline program (built by `make bench` from Benchmarks/c/zmq_bench.c).")
    var cBench: String

    @Option(help: "The C durable relay (built by `make bench` from Benchmarks/c/durable_relay.c); the ingest and latency sections need it.")
    var cRelay: String?

    @Option(help: "The koers executable (release build) for the aggregator's figures; those sections are skipped without it.")
    var koers: String?

    @Option(help: "Where to write the figures (medians, with _min and _max beside each).")
    var out: String = ".bench/results.json"

    @Option(help: "Runs of every figure; each is reported as the median with min and max. Default 3 (1 with --quick).")
    var runs: Int?

    @Flag(help: "Short runs for trying things out: one run, fewer messages, shorter paced runs. Its figures are not the benchmark's.")
    var quick = false

    @Option(help: "Only these sections, comma-separated: \(Section.allCases.map(\.rawValue).joined(separator: ", ")).")
    var only: String?

    @Flag(help: "Only the aggregator's sections (ingest, latency, scale, engine); the same as --only ingest,latency,scale,engine.")
    var aggregatorOnly = false

    @Flag(help: "Only the operators' world's section; the same as --only http.")
    var httpOnly = false

    @Option(help: "Messages per wrapper throughput run (default 1,000,000; 200,000 with --quick).")
    var count: Int?

    @Option(help: "Round trips per latency run, the first tenth warm-up (default 50,000; 10,000 with --quick).")
    var rttCount: Int?

    @Option(help: "Tries per wrapper case and per HTTP on/off ingest within a run, both sides interleaved; the best is kept (default 3; 1 with --quick).")
    var repeats: Int?

    @Option(help: "Reports per publisher in the ingest runs, four publishers (default 250,000; 25,000 with --quick).")
    var ingestReports: Int?

    @Option(help: "Reports per publisher in the large plan's ingest run, four publishers (default 100,000: each milestone four times; 25,000 with --quick).")
    var ingestLargeReports: Int?

    @Option(help: "Reports per second in the paced scale runs.")
    var scaleRate: Double = 4_000

    @Option(help: "Seconds of each paced scale run (default 10; 3 with --quick).")
    var scaleSeconds: Double?

    @Option(help: "Milestones in the large plan (the figures named _100k).")
    var largePlan: Int = 100_000

    @Option(help: "Seconds of steady load in the latency runs, 1,000 reports/s (default 10; 3 with --quick).")
    var latencySeconds: Double?

    @Option(help: "Reports timed in the in-process engine runs, per plan (default 200,000; 20,000 with --quick).")
    var engineReports: Int?

    func run() async throws {
        let settings = try Settings(self)
        let began = ContinuousClock.now
        let bench = try Bench(settings: settings, cBench: cBench, cRelay: cRelay, koers: koers)
        defer { bench.removeWorkspace() }
        print("Koers benchmarks — \(ProcessInfo.processInfo.activeProcessorCount) cores; \(settings.runs) run\(settings.runs == 1 ? "" : "s")\(quick ? " (quick)" : ""); "
              + "sections: \(Section.allCases.filter(settings.sections.contains).map(\.rawValue).joined(separator: ", ")); "
              + "every report \(AggregatorBench.reportBytes) B before CURVE (envelope and payload), publishers' window \(AggregatorBench.publisherWindow)")
        var results: [[String: Double]] = []
        for r in 1...settings.runs {
            print("\n=== Run \(r) of \(settings.runs)")
            results.append(try bench.measure())
        }
        let summary = Summary(runs: results)
        print("")
        summary.printFigures()
        print("")
        let missed = summary.printTargets(Self.targets, measured: { bench.measures($0) })
        try summary.writeJSON(to: out)
        let took = (ContinuousClock.now - began).seconds
        print("\nwrote \(out); took \(took < 120 ? "\(fmt(took, 0)) s" : "\(fmt(took / 60, 1)) min")")
        if !missed.isEmpty {
            print("MISSED: \(missed.joined(separator: ", "))")
            throw ExitCode(1)
        }
    }

    /// Every target, judged on the median of the runs; the section that measures it.
    static let targets: [Target] = [
        Target("ingest_ratio_to_c_durable_relay", ">=", 0.5, .ingest),
        Target("ingest_reports_per_s", ">=", 200_000, .ingest),
        Target("restart_s", "<=", 1, .ingest),
        Target("alert_latency_p99_ratio_to_c_relay", "<=", 3, .latency),
        Target("alert_latency_p99_ms", "<=", 3, .latency),
        Target("scale_cost_ratio", "<=", 1.2, .scale),
        Target("restart_100k_plan_s", "<=", 3, .scale),
        Target("rss_mb_100k", "<=", 200, .scale),
        Target("rss_peak_mb_100k", "<=", 300, .scale),
        Target("wrapper_async_ratio", ">=", 0.5, .wrapper),
        Target("wrapper_sync_ratio", ">=", 0.9, .wrapper),
        Target("wrapper_rtt_p99_ratio", "<=", 1.5, .wrapper),
        Target("ingest_ratio_http_on_off", ">=", 0.95, .http),
        Target("metrics_100k_p99_ms", "<=", 50, .http),
        Target("overview_builtin_p99_ms", "<=", 50, .http),
        Target("overview_100k_p99_ms", "<=", 500, .http),
    ]
}

/// The parts of a run, in the order they run; `--only` picks some.
enum Section: String, CaseIterable {
    /// The ZeroMQ wrapper against C: PUSH/PULL throughput, REQ/REP round trips.
    case wrapper
    /// The wire codec against JSONDecoder, in process.
    case codec
    /// The C durable relay's throughput and C CURVE PUSH/PULL, then Koers' ingest and restart.
    case ingest
    /// The C durable relay's send → arrival latency, then Koers' report → alert latency.
    case latency
    /// Paced runs on a small and the large plan; the large plan's memory, ingest and restart.
    case scale
    /// The status and alert engines' own cost per report, in process, at both plan sizes.
    case engine
    /// The operators' world: ingest with and without the HTTP server, /metrics, the overview page.
    case http

    /// Whether the section drives the koers binary.
    var needsKoers: Bool { ![.wrapper, .codec, .engine].contains(self) }
}

/// One target: a figure, a comparison, a bound.
struct Target {
    let name: String, op: String, bound: Double, section: Section
    init(_ name: String, _ op: String, _ bound: Double, _ section: Section) {
        self.name = name; self.op = op; self.bound = bound; self.section = section
    }
    func met(_ v: Double) -> Bool { op == ">=" ? v >= bound : v <= bound }
}

/// The options resolved: full or quick sizes, and the sections to run.
struct Settings {
    var runs, count, rttCount, repeats, ingestReports, ingestLargeReports, httpReports, engineReports, pageRequests, largePlan: Int
    var scaleRate, scaleSeconds, latencySeconds: Double
    var sections: Set<Section>

    init(_ o: All) throws {
        let q = o.quick
        runs = o.runs ?? (q ? 1 : 3)
        count = o.count ?? (q ? 200_000 : 1_000_000)
        rttCount = o.rttCount ?? (q ? 10_000 : 50_000)
        repeats = o.repeats ?? (q ? 1 : 3)
        ingestReports = o.ingestReports ?? (q ? 25_000 : 250_000)
        ingestLargeReports = o.ingestLargeReports ?? (q ? 25_000 : 100_000)
        httpReports = max(q ? 5_000 : 10_000, ingestReports)
        engineReports = o.engineReports ?? (q ? 20_000 : 200_000)
        pageRequests = q ? 20 : 100
        largePlan = o.largePlan
        scaleRate = o.scaleRate
        scaleSeconds = o.scaleSeconds ?? (q ? 3 : 10)
        latencySeconds = o.latencySeconds ?? (q ? 3 : 10)
        guard runs >= 1, repeats >= 1, count >= 2, rttCount >= 10, ingestReports >= 1, ingestLargeReports >= 1, engineReports >= 1, largePlan >= 4 else {
            throw ValidationError("--runs, --repeats and the counts must be positive (--count at least 2, --rtt-count at least 10, --large-plan at least 4)")
        }
        if let only = o.only {
            sections = []
            for name in only.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let s = Section(rawValue: name) else {
                    throw ValidationError("--only: no section \"\(name)\"; the sections are \(Section.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sections.insert(s)
            }
        } else if o.aggregatorOnly {
            sections = [.ingest, .latency, .scale, .engine]
        } else if o.httpOnly {
            sections = [.http]
        } else {
            sections = Set(Section.allCases)
        }
        if (sections.contains(.ingest) || sections.contains(.latency)) && o.cRelay == nil && o.koers != nil {
            throw ValidationError("the ingest and latency sections compare against the C durable relay: pass --c-relay (make bench builds .bench/durable_relay)")
        }
    }
}

/// Each figure over the runs: min, median, max.
struct Summary {
    let runs: [[String: Double]]
    let names: [String]

    init(runs: [[String: Double]]) {
        self.runs = runs
        names = Set(runs.flatMap(\.keys)).sorted()
    }

    func values(_ name: String) -> [Double] { runs.compactMap { $0[name] }.sorted() }

    func median(_ name: String) -> Double? {
        let v = values(name)
        guard !v.isEmpty else { return nil }
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }

    func printFigures() {
        print("Every figure over \(runs.count) run\(runs.count == 1 ? "" : "s") (ratios are taken within each run, then summarised)")
        print(pad("figure", 44) + pad("min", 14) + pad("median", 14) + "max")
        for name in names {
            let v = values(name)
            print(pad(name, 44) + pad(number(v.first!), 14) + pad(number(median(name)!), 14) + number(v.last!))
        }
    }

    /// Prints each target with min/median/max and its verdict on the median; returns the
    /// names of those missed. A target of a section that ran but left no figure is missed.
    func printTargets(_ targets: [Target], measured: (Section) -> Bool) -> [String] {
        print("Targets, judged on the median of \(runs.count) run\(runs.count == 1 ? "" : "s")")
        print(pad("target", 36) + pad("min", 12) + pad("median", 12) + pad("max", 12) + pad("bound", 14) + "result")
        var missed: [String] = []
        for t in targets where measured(t.section) {
            guard let m = median(t.name) else {
                print(pad(t.name, 36) + pad("—", 12) + pad("—", 12) + pad("—", 12) + pad("\(t.op) \(number(t.bound))", 14) + "MISSED (not measured)")
                missed.append(t.name)
                continue
            }
            let v = values(t.name)
            let met = t.met(m)
            if !met { missed.append(t.name) }
            print(pad(t.name, 36) + pad(number(v.first!), 12) + pad(number(m), 12) + pad(number(v.last!), 12)
                  + pad("\(t.op) \(number(t.bound))", 14) + (met ? "met" : "MISSED"))
        }
        return missed
    }

    /// A flat JSON object: each figure's median under its name, and with more than one
    /// run `NAME_min` and `NAME_max`; `runs` says how many.
    func writeJSON(to out: String) throws {
        try FileManager.default.createDirectory(atPath: (out as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var flat: [String: Double] = ["runs": Double(runs.count)]
        for name in names {
            flat[name] = median(name)
            if runs.count > 1 { flat[name + "_min"] = values(name).first; flat[name + "_max"] = values(name).last }
        }
        let body = flat.keys.sorted().map { k -> String in
            let v = flat[k]!
            let text = v.rounded() == v && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.4f", v)
            return "  \"\(k)\": \(text)"
        }.joined(separator: ",\n")
        try "{\n\(body)\n}\n".write(toFile: out, atomically: true, encoding: .utf8)
    }

    /// Three significant digits or more, without exponents.
    func number(_ v: Double) -> String {
        let a = abs(v)
        return fmt(v, a >= 1000 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3)
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
func fmt(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
