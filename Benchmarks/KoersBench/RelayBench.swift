import ArgumentParser
import Foundation

/// The C durable relay (`Benchmarks/c/durable_relay.c`): the physical limit of the
/// aggregator's job on this machine, one hop in, one fdatasync, one hop out, with the
/// aggregator's flow (four CURVE DEALER publishers in processes of their own, a window
/// of unacknowledged reports, a cumulative ACK after the data is durable) and its
/// message size (`AggregatorBench.reportBytes`).
enum RelayBench {
    static let publishers = AggregatorBench.themes.count

    /// `c_durable_relay_reports_per_s`: `total` reports from four unpaced publishers,
    /// from the first send to the last report acknowledged (the publishers' clocks, one
    /// monotonic clock for the machine), as `ingest_reports_per_s` is timed.
    static func throughput(relay: String, total: Int, directory: String) throws -> (reportsPerSecond: Double, batches: Int) {
        let perPublisher = total / publishers
        let file = directory + "/relay-\(getpid()).dat"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try Child([relay, "relay", "tcp://127.0.0.1:*", file, "\(publishers)", "\(perPublisher * publishers)",
                           "\(AggregatorBench.reportBytes)", "\(AggregatorBench.batchLimit)"])
        var started = [r]
        defer { stopAll(started) }
        let ingest = try r.ready()[0]
        let senders = try (0..<publishers).map { _ in
            try Child([relay, "publish", ingest, "\(perPublisher)", "\(AggregatorBench.reportBytes)", "\(AggregatorBench.publisherWindow)"])
        }
        started += senders
        let times = try senders.map { try $0.result() }
        let stats = try r.result()
        guard let start = times.map({ $0[0] }).min(), let end = times.map({ $0[1] }).max(), end > start else {
            throw ValidationError("the C relay's publishers reported no times")
        }
        return (Double(perPublisher * publishers) / ((end - start) / 1e9), Int(stats.first ?? 0))
    }

    /// `c_durable_relay_p50_us` / `_p99_us`: the relay publishing each record on a CURVE
    /// PUB after the fdatasync, four publishers sending `rate` reports/s between them for
    /// `seconds` (taking turns, as `AggregatorBench.publish` paces them), send → arrival
    /// at a CURVE SUB in a process of its own; every record counted.
    static func latency(relay: String, rate: Double, seconds: Double, directory: String) throws -> (p50: Double, p99: Double, count: Int) {
        let perPublisher = Int(rate * seconds) / publishers
        let total = perPublisher * publishers
        let file = directory + "/relay-latency-\(getpid()).dat"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try Child([relay, "relay", "tcp://127.0.0.1:*", file, "\(publishers)", "\(total)",
                           "\(AggregatorBench.reportBytes)", "\(AggregatorBench.batchLimit)", "tcp://127.0.0.1:*"])
        var started = [r]
        defer { stopAll(started) }
        let endpoints = try r.ready()
        guard endpoints.count == 2 else { throw ValidationError("the C relay did not report its PUB endpoint") }
        let sub = try Child([relay, "sub", endpoints[1], "\(total)"])
        started.append(sub)
        let senders = try (0..<publishers).map { k in
            try Child([relay, "publish", endpoints[0], "\(perPublisher)", "\(AggregatorBench.reportBytes)", "\(AggregatorBench.publisherWindow)",
                       "\(rate / Double(publishers))", "\(Int(Double(k) * 1e6 / rate))"])
        }
        started += senders
        for s in senders { _ = try s.result() }
        _ = try r.result()
        let got = try sub.result()
        guard got.count == 3, Int(got[2]) == total else { throw ValidationError("C relay latency: \(got.last ?? 0) of \(total) records arrived") }
        return (got[0] / 1000, got[1] / 1000, total)
    }

    /// Ends the programs still running (after a failure: a relay would wait for ever).
    static func stopAll(_ children: [Child]) {
        for c in children where c.process.isRunning { c.process.terminate() }
    }
}
