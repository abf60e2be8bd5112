import Foundation
import Testing
import ZeroMQ
@testable import ThemeService
@testable import Aggregator
import Plan

// The real-process suites: each test runs `koers` (and, where named, Prometheus,
// Alertmanager, Chromium, Python clients) as separate processes on loopback.
// Unit tests of the modules live in the other test targets.

let plan = try! PlanLoader.loadDefault(path: nil)
let clockNow: Int64 = 1_764_000_000_000  // 2025-11-24
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func tempOutbox() throws -> Outbox {
    try Outbox(path: NSTemporaryDirectory() + "koers-outbox-\(UUID().uuidString)/outbox.sqlite")
}

/// The `koers` executable built beside the tests (`swift build --build-tests` builds it).
func koersBinary() throws -> String {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("koers").path,
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/koers").path,
    ]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw TestFailure("the koers executable is not built; run `swift build` first (make test does)")
    }
    return found
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A temporary working directory with keys for the aggregator and the four themes.
final class Workspace: @unchecked Sendable {
    // Proof for Sendable: set once in init, then only read.
    let dir: String
    var keys: String { dir + "/keys" }
    var data: String { dir + "/data" }
    let endpoint: String
    let streamEndpoint: String
    let snapshotEndpoint: String
    /// The aggregator's HTTP server, `127.0.0.1:PORT`.
    let httpAddress: String
    var httpURL: String { "http://\(httpAddress)" }

    init() throws {
        dir = NSTemporaryDirectory() + "koers-it-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["aggregator", "talent", "work", "health", "safety"] {
            try CurveKeyFile.write(try CurveKeyPair.generate(), identity: name, directory: dir + "/keys")
        }
        endpoint = "tcp://127.0.0.1:\(try ZeroMQ.unusedLoopbackPort())"
        streamEndpoint = "tcp://127.0.0.1:\(try ZeroMQ.unusedLoopbackPort())"
        snapshotEndpoint = "tcp://127.0.0.1:\(try ZeroMQ.unusedLoopbackPort())"
        httpAddress = "127.0.0.1:\(try ZeroMQ.unusedLoopbackPort())"
    }

    /// Kept for a post-mortem when KOERS_KEEP_TEST_DATA is set.
    deinit {
        if ProcessInfo.processInfo.environment["KOERS_KEEP_TEST_DATA"] != nil {
            print("test data kept in \(dir)")
        } else {
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    func outbox(_ theme: String) throws -> Outbox { try Outbox(path: "\(data)/\(theme)/outbox.sqlite") }
    func store() throws -> ReportStore { try ReportStore(path: "\(data)/aggregator/koers.sqlite") }

    /// - Parameter environment: variables added to the test's own environment.
    func aggregator(_ extra: [String] = [], environment: [String: String] = [:]) throws -> Child {
        try Child(["aggregator", "run", "--keys", keys, "--data", data, "--ingest", endpoint, "--stream", streamEndpoint,
                   "--snapshot", snapshotEndpoint, "--http", httpAddress] + extra, log: dir + "/aggregator.log", environment: environment)
    }

    func theme(_ theme: String) throws -> Child {
        try Child(["theme", "run", theme, "--keys", keys, "--data", data, "--aggregator", endpoint], log: dir + "/\(theme).log")
    }

    /// `koers ARGS` to completion; returns (exit status, stdout + stderr).
    func koers(_ args: [String]) throws -> (Int32, String) { try runKoers(args + ["--data", data]) }
}

/// `GET url` with curl: (HTTP status, body). Status 0: no answer.
func httpGet(_ url: String, headers: [String] = []) throws -> (status: Int, body: String) {
    let marker = "\n--koers-http-status:"
    let (_, out) = try runProgram("/usr/bin/curl", ["-s", "-m", "10", "-w", marker + "%{http_code}"] + headers.flatMap { ["-H", $0] } + [url])
    guard let r = out.range(of: marker, options: .backwards) else { return (0, out) }
    return (Int(out[r.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, String(out[..<r.lowerBound]))
}

/// Runs `koers` to its end, with `environment` added to this process's: its exit status
/// and everything it printed.
func runKoers(_ args: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
    try runProgram(try koersBinary(), args, environment: environment)
}

/// Runs a program to its end: its exit status and everything it printed.
func runProgram(_ path: String, _ args: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: out, as: UTF8.self))
}


/// A `koers` process (or another program: `executable`) started by a test and ended by it, by PID.
final class Child: @unchecked Sendable {
    // Proof for Sendable: `process` is only started in init and signalled afterwards.
    let process = Process()

    init(_ args: [String], log: String, environment: [String: String] = [:], executable: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: try executable ?? koersBinary())
        process.arguments = args
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.seekToEnd()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// `kill -9`: no chance to clean up.
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, and wait for a graceful exit.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill9() } }
}

/// Waits until `condition` holds, checking every 50 ms, failing after `seconds`.
/// The condition is state the processes write (an outbox, a store), not elapsed time.
func eventually(_ what: String, within seconds: Double = 30, _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if (try? condition()) == true { return }
        Thread.sleep(forTimeInterval: 0.05)
    }
    throw TestFailure("timed out waiting for \(what)")
}

/// Runs `body`, failing if it has not finished within `seconds`: a guard against a
/// hang, not a timing assertion.
///
/// The body runs on a thread of its own, not on Swift's cooperative pool: these tests
/// block (a process run to its end, a socket receive with a timeout, `eventually`), and
/// the pool has one thread per core — two here — so blocking on it froze every other
/// test running at the same time.
func bounded<T: Sendable>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask(executorPreference: OwnThreadExecutor()) { try await body() }
        group.addTask { try await Task.sleep(for: .seconds(seconds)); return nil }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TestFailure("timed out waiting for \(what)") }
        return value
    }
}

/// A task executor on a serial dispatch queue: its jobs run on a dispatch worker thread,
/// which may block without starving the cooperative pool.
final class OwnThreadExecutor: TaskExecutor, @unchecked Sendable {
    // Proof for Sendable: the queue is immutable and thread-safe.
    let queue = DispatchQueue(label: "koers.test.blocking")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
