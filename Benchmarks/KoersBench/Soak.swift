import ArgumentParser
import Foundation
import Plan

/// `make soak`: a steady load for a long time through a real aggregator, and whether its
/// resident memory stays put.
///
/// The real `koers aggregator run` (release, CURVE with ZAP, SQLite in WAL with
/// `synchronous = FULL`, `--http none`) takes `rate` reports/s for `seconds` from the four
/// theme publishers of ``AggregatorBench/publish(_:_:rate:sent:during:)`` (one CURVE DEALER
/// per theme, with the theme's key, speaking the ingest protocol as a theme service does:
/// HELLO, then numbered reports, reading the ACKs) over loopback TCP. Every report is
/// acknowledged before the run ends, so every one was stored.
///
/// The aggregator's `VmRSS` is sampled every second. The verdict compares the end (the
/// median of the last minute's samples) with the start of the steady state (the median
/// of the minute from `warmup` seconds on, once SQLite's page cache and the allocator's
/// arenas have filled) and fails (exit 1) when it grew by more than `max-growth` percent.
/// The figure before any load, the middle minute's and the peak are printed too.
struct Soak: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Steady load through a real aggregator; its resident memory at start, middle and end (exit 1 when it grew too much).")

    @Option(help: "The koers executable (release build).")
    var koers: String

    @Option(help: "Reports per second, all four publishers together.")
    var rate: Double = 5_000

    @Option(help: "Seconds of load.")
    var seconds: Double = 600

    @Option(help: "Seconds of load before the start sample (the steady state's start).")
    var warmup: Double = 60

    @Option(help: "Largest growth of resident memory from the start sample to the end, in percent.")
    var maxGrowth: Double = 10

    func validate() throws {
        guard rate > 0, seconds > 0 else { throw ValidationError("--rate and --seconds must be positive") }
        guard warmup >= 0, warmup < seconds / 2 else { throw ValidationError("--warmup must lie in the first half of the run") }
    }

    func run() throws {
        let site = try AggregatorBench.Site(koers: koers)
        try site.start(plan: nil)
        let plan = try PlanLoader.loadDefault(path: nil)
        let perTheme = Int(rate * seconds) / AggregatorBench.themes.count
        let load = AggregatorBench.Load.cycling(AggregatorBench.milestones(of: plan), count: perTheme, asOf: AggregatorBench.yesterday())
        let idle = site.residentMB() ?? 0
        print("soak: \(Int(rate)) reports/s for \(Int(seconds)) s (\(perTheme * AggregatorBench.themes.count) reports), aggregator pid \(site.process?.processIdentifier ?? 0)")
        print(String(format: "soak: RSS before the load  %7.1f MB", idle))
        var samples: [(at: Double, mb: Double)] = []
        let began = ContinuousClock.now
        var nextSample = 0.0, nextPrint = 0.0
        let achieved = try AggregatorBench.publish(site, load, rate: rate) {
            let at = (ContinuousClock.now - began).seconds
            guard at >= nextSample, let mb = site.residentMB() else { return }
            samples.append((at, mb))
            if at >= nextPrint {
                print(String(format: "soak: %4.0f s  RSS %7.1f MB", at, mb))
                fflush(nil)
                nextPrint += 60
            }
            nextSample = at.rounded(.down) + 1
        }
        let end = site.residentMB() ?? samples.last?.mb ?? 0
        site.stop()
        // Each figure is the median of a minute's samples (or of the run's first and last
        // tenth when shorter): single samples of a busy process move by ±10 % between
        // seconds (SQLite's cache, the allocator), which is the size of the limit itself.
        let window = min(60, seconds / 10)
        func median(from t0: Double) -> Double {
            let xs = samples.filter { $0.at >= t0 && $0.at < t0 + window }.map(\.mb).sorted()
            return xs.isEmpty ? end : xs[xs.count / 2]
        }
        let start = median(from: warmup), middle = median(from: seconds / 2 - window / 2), last = median(from: seconds - window)
        let peak = samples.map(\.mb).max() ?? end
        let growth = (last - start) / start * 100
        print(String(format: "soak: sent and acknowledged at %.0f reports/s", achieved))
        print(String(format: "soak: RSS (median of %.0f s) start %.0f s: %.1f MB, middle %.0f s: %.1f MB, end %.0f s: %.1f MB; peak %.1f MB, last sample %.1f MB",
                     window, warmup, start, seconds / 2 - window / 2, middle, seconds - window, last, peak, end))
        let met = growth <= maxGrowth
        print(String(format: "soak: growth start → end %+.1f %% (limit %.0f %%): ", growth, maxGrowth) + (met ? "met" : "MISSED"))
        if !met { throw ExitCode(1) }
    }
}
