import ArgumentParser
import Foundation
import Histogram
import Plan
import Synchronization
import ZeroMQ

/// The operators' world's cost to the ingest path: ingest with the HTTP server, a
/// Prometheus-like scraper every second and an Alertmanager forwarder running, against
/// ingest without them; and how fast `/metrics` answers with a very large plan.
enum HTTPBench {
    /// One `GET path` over a fresh TCP connection to 127.0.0.1:port: the status code and
    /// the body's size. Blocking; written with sockets so that what is timed is the
    /// server, not a client library.
    static func get(port: Int, path: String) throws -> (status: Int, bytes: Int) {
        let fd = try connectLoopback(port: port)
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let head = String(decoding: response.prefix(12), as: UTF8.self)
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, response.count)
    }

    /// A TCP connection to 127.0.0.1:port, as a file descriptor.
    static func connectLoopback(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket: \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let e = errno
            close(fd)
            throw ValidationError("connect to 127.0.0.1:\(port): errno \(e)")
        }
        return fd
    }

    /// Whether something listens on 127.0.0.1:port (a connection is made and closed).
    static func listening(port: Int) -> Bool {
        guard let fd = try? connectLoopback(port: port) else { return false }
        close(fd)
        return true
    }

    /// Starts Debian's Alertmanager on a free loopback port, when it is installed: the
    /// forwarder then talks to the real thing. Returns its process and URL.
    static func alertmanager(dir: String) throws -> (Process, String)? {
        let binary = "/usr/bin/prometheus-alertmanager"
        guard FileManager.default.isExecutableFile(atPath: binary) else { return nil }
        let port = try ZeroMQ.unusedLoopbackPort()
        let config = dir + "/alertmanager.yml"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n".write(toFile: config, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["--config.file=\(config)", "--storage.path=\(dir)/am", "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address="]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? get(port: port, path: "/-/ready"))?.status == 200 { return (p, "http://127.0.0.1:\(port)") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        p.terminate()
        throw ValidationError("Alertmanager did not become ready on port \(port) within 30 s")
    }

    /// `ingest_ratio_http_on_off`: the best of `repeats` ingest runs with the HTTP
    /// server, a scraper of /metrics every second and an Alertmanager forwarder, over
    /// the best of as many runs with `--http none`; runs interleaved so both share the
    /// machine's noise. Each run is a fresh aggregator with the built-in plan.
    /// Beside the rates, the CPU each run's processes used per report while the load ran
    /// (µs; the best run's): the aggregator off and on, and Alertmanager — on a 2-core
    /// machine shared with four publishers, CPU spent is what the ratio loses, and it is
    /// far less noisy than a rate.
    struct OnOff {
        var off = 0.0, on = 0.0, scrapes = 0, forwarder = false
        var offCPU = Double.infinity, onCPU = Double.infinity, alertmanagerCPU = Double.infinity
    }

    static func ingestOnOff(koers: String, reportsPerPublisher: Int, repeats: Int) throws -> OnOff {
        var r = OnOff()
        let plan = try PlanLoader.loadDefault(path: nil)
        for _ in 0..<repeats {
            for withHTTP in [false, true] {
                let site = try AggregatorBench.Site(koers: koers)
                var extra = ["--http", "none"]
                var am: Process?
                let port = try ZeroMQ.unusedLoopbackPort()
                if withHTTP {
                    extra = ["--http", "127.0.0.1:\(port)"]
                    if let (p, url) = try alertmanager(dir: site.dir + "/alertmanager") {
                        am = p
                        extra += ["--alertmanager", url]
                        r.forwarder = true
                    }
                }
                defer { am?.terminate(); am?.waitUntilExit() }
                try site.start(plan: nil, extra: extra)
                // Both runs start their load 2 s after the aggregator answers: the one-off
                // work of a start (the forwarder delivering the start-up alerts, the gauges'
                // first snapshot, Alertmanager's own start) is not ingest, and in a run of a
                // few seconds it was most of the difference.
                Thread.sleep(forTimeInterval: 2)
                let load = AggregatorBench.Load.cycling(AggregatorBench.milestones(of: plan), count: reportsPerPublisher, asOf: AggregatorBench.yesterday())
                let stop = Atomic<Bool>(false), scraped = Atomic<Int>(0)
                let scraper = Thread {
                    while !stop.load(ordering: .relaxed) {
                        if (try? get(port: port, path: "/metrics"))?.status == 200 { scraped.add(1, ordering: .relaxed) }
                        Thread.sleep(forTimeInterval: 1)
                    }
                }
                if withHTTP { scraper.start() }
                let cpu0 = site.cpuSeconds() ?? 0, amCPU0 = am.flatMap { AggregatorBench.Site.cpuSeconds(pid: $0.processIdentifier) } ?? 0
                let rate = try AggregatorBench.publish(site, load)
                let perReport = 1e6 / Double(load.count)
                let cpu = ((site.cpuSeconds() ?? 0) - cpu0) * perReport
                if let am, let amCPU = AggregatorBench.Site.cpuSeconds(pid: am.processIdentifier) {
                    r.alertmanagerCPU = min(r.alertmanagerCPU, (amCPU - amCPU0) * perReport)
                }
                stop.store(true, ordering: .relaxed)
                site.stop()
                if withHTTP {
                    r.on = max(r.on, rate); r.onCPU = min(r.onCPU, cpu); r.scrapes += scraped.load(ordering: .relaxed)
                } else {
                    r.off = max(r.off, rate); r.offCPU = min(r.offCPU, cpu)
                }
            }
        }
        return r
    }

    /// Answer times of some paths, `count` requests each one after another (ms).
    struct Timing { var p50: Double; var p99: Double; var max: Double; var bytes: Int }

    static func time(port: Int, path: String, count: Int) throws -> Timing {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var bytes = 0
        for _ in 0..<count {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = try get(port: port, path: path)
            histogram.record(DispatchTime.now().uptimeNanoseconds - t0)
            guard r.status == 200 else { throw ValidationError("\(path) answered \(r.status)") }
            bytes = r.bytes
        }
        return Timing(p50: Double(histogram.valueAtPercentile(50)) / 1e6, p99: Double(histogram.valueAtPercentile(99)) / 1e6,
                      max: Double(histogram.max) / 1e6, bytes: bytes)
    }

    /// `/metrics` and the overview page with a large generated plan (and
    /// `--no-item-metrics`), and the overview with the built-in plan after a run of reports.
    static func pages(koers: String, plan: SyntheticPlan.File, count: Int) throws -> (metricsLarge: Timing, overviewLarge: Timing, overviewBuiltIn: Timing) {
        let large = try AggregatorBench.Site(koers: koers)
        let port = try ZeroMQ.unusedLoopbackPort()
        try large.start(plan: plan.path, extra: ["--http", "127.0.0.1:\(port)", "--no-item-metrics"])
        Thread.sleep(forTimeInterval: 1)  // let the start-up's own work settle
        let metrics = try time(port: port, path: "/metrics", count: count)
        let overviewLarge = try time(port: port, path: "/", count: max(10, count / 5))
        large.stop()

        let small = try AggregatorBench.Site(koers: koers)
        let smallPort = try ZeroMQ.unusedLoopbackPort()
        try small.start(plan: nil, extra: ["--http", "127.0.0.1:\(smallPort)"])
        defer { small.stop() }
        let plan = try PlanLoader.loadDefault(path: nil)
        _ = try AggregatorBench.publish(small, AggregatorBench.Load.cycling(AggregatorBench.milestones(of: plan), count: 2_000, asOf: AggregatorBench.yesterday()))
        let overview = try time(port: smallPort, path: "/", count: count)
        return (metrics, overviewLarge, overview)
    }
}
