import ArgumentParser
import Foundation
import Plan
import Wire
import ZeroMQ

/// `ingest_reports_per_s`: durable ingest by the real aggregator process from four
/// CURVE publishers, each sending its reports and reading the ACKs, timed from the first
/// send to the last report acknowledged (so every report is stored before it counts).
enum IngestBench {
    struct Result { var reportsPerSecond: Double; var payloadBytes: Int }

    static func run(koers: String, reportsPerPublisher: Int) throws -> Result {
        let dir = NSTemporaryDirectory() + "koers-bench-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let themes = ["talent", "work", "health", "safety"]
        for name in ["aggregator"] + themes { try CurveKeyFile.write(try CurveKeyPair.generate(), identity: name, directory: dir + "/keys") }
        let port = try ZeroMQ.unusedLoopbackPort(), streamPort = try ZeroMQ.unusedLoopbackPort(), snapshotPort = try ZeroMQ.unusedLoopbackPort()
        let endpoint = "tcp://127.0.0.1:\(port)"
        let aggregator = Process()
        aggregator.executableURL = URL(fileURLWithPath: koers)
        aggregator.arguments = ["aggregator", "run", "--keys", dir + "/keys", "--data", dir + "/data", "--ingest", endpoint,
                                "--stream", "tcp://127.0.0.1:\(streamPort)", "--snapshot", "tcp://127.0.0.1:\(snapshotPort)"]
        aggregator.environment = ["KOERS_LOG_LEVEL": "error"]
        aggregator.standardError = FileHandle.nullDevice
        try aggregator.run()
        defer { aggregator.terminate(); aggregator.waitUntilExit() }

        let items = ["talent": "rsd-drie-scholen-erbij", "work": "bvs-werkgevers", "health": "slakhorst-woningen", "safety": "sociaal-veilig-uitrol"]
        let codec = WireCodec()
        let server = try CurveKeyFile.read(dir + "/keys/aggregator.key").publicKey
        var payloadBytes = 0
        let start = Mutex<ContinuousClock.Instant?>(nil)
        var threads: [Thread] = []
        let done = DispatchGroup()
        let failures = Mutex<[String]>([])
        for theme in themes {
            let keys = try CurveKeyFile.read(dir + "/keys/\(theme).key_secret").keyPair!
            let payload = codec.encodePayload(.milestoneProgress(MilestoneProgress(
                theme: theme, item: items[theme]!, value: theme == "safety" ? 5 : 1, asOf: PlanDate(iso: "2023-06-01")!,
                reportedAt: SystemClock().now() - 1000)))
            payloadBytes = payload.count + Envelope.size
            done.enter()
            let t = Thread {
                defer { done.leave() }
                do {
                    let context = try Context()
                    defer { context.terminate() }
                    let s = try context.socket(.dealer)
                    try s.makeCurveClient(keyPair: keys, serverKey: server)
                    try s.set(.sendHighWaterMark, 10_000)
                    try s.set(.receiveHighWaterMark, 100_000)
                    try s.set(.linger, .after(.zero))
                    try s.connect(endpoint)
                    let hello = codec.encode(WireMessage(.hello(Hello(theme: theme, planVersion: 1, service: "bench", lastSequence: 0)), sequence: 0, sentAt: SystemClock().now()))
                    try s.send(Message([Frame(hello.envelope), Frame(hello.payload)]))
                    _ = try s.receive()  // WELCOME
                    start.withLock { if $0 == nil { $0 = .now } }
                    let body = Frame(payload)
                    var next: UInt64 = 1, acked: UInt64 = 0
                    let total = UInt64(reportsPerPublisher)
                    var poller = Poller()
                    let item = poller.add(s, events: [.readable, .writable])
                    while acked < total {
                        poller.set(item, events: next <= total && next - acked <= 20_000 ? [.readable, .writable] : .readable)
                        let ready = try poller.poll(timeout: .milliseconds(10_000))
                        if ready[item].isEmpty { throw ValidationError("no progress for 10 s at \(acked)/\(total)") }
                        while next <= total && next - acked <= 20_000 {
                            let env = Envelope(type: .milestoneProgress, sequence: next, sentAt: SystemClock().now())
                            guard try s.trySend(Message([Frame(env.bytes), body])) else { break }
                            next += 1
                        }
                        while let m = try s.tryReceive() {
                            if case .ack(let a) = try codec.decode(envelope: m[0].bytes, payload: m[1].bytes, now: Int64.max / 2).payload {
                                acked = max(acked, a.ackedThrough)
                            }
                        }
                    }
                    s.close()
                } catch {
                    failures.withLock { $0.append("\(theme): \(error)") }
                }
            }
            threads.append(t)
            t.start()
        }
        done.wait()
        let elapsed = ContinuousClock.now - start.withLock { $0! }
        if let f = failures.withLock({ $0.first }) { throw ValidationError("ingest benchmark failed: \(f)") }
        return Result(reportsPerSecond: Double(reportsPerPublisher * themes.count) / elapsed.seconds, payloadBytes: payloadBytes)
    }
}

import Synchronization
