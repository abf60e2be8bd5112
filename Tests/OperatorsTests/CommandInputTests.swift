import Foundation
import Operators
import Testing
import ZeroMQ

/// The `koers` executable built beside the tests (`swift build --build-tests` builds it).
func koersPath() throws -> String {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("koers").path,
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/koers").path,
    ]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw CommandFailure("the koers executable is not built; run `swift build` first")
    }
    return found
}

struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// `koers ARGS` to its end, bounded: its exit status and everything it printed.
func koers(_ args: [String], within seconds: Double = 30) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try koersPath())
    p.arguments = args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    // Bounded: ended (this process, by its PID) if it outlives `seconds`.
    let pid = p.processIdentifier
    DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { if p.isRunning { kill(pid, SIGTERM) } }
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: out, as: UTF8.self))
}

@Suite("koers refuses bad operator input with the specific error", .serialized)
struct CommandInputTests {
    @Test("--theme wrk on status and alerts: \"no theme `wrk`; did you mean `work`?\"")
    func misspeltTheme() throws {
        for command in [["status", "--theme", "wrk"], ["alerts", "--theme", "wrk"], ["status", "--area", "slakhrst"]] {
            let (status, text) = try koers(command)
            #expect(status != 0)
            if command.contains("wrk") { #expect(text.contains("no theme `wrk`; did you mean `work`?"), "\(text)") }
            else { #expect(text.contains("no area `slakhrst`; did you mean `slakhorst`?"), "\(text)") }
        }
    }

    @Test("ack --until a date before the aggregator's date is refused before sending; a later one is sent")
    func ackUntilPast() throws {
        let dir = NSTemporaryDirectory() + "koers-ops-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ports = try (0..<3).map { _ in try ZeroMQ.unusedLoopbackPort() }
        let ingest = "tcp://127.0.0.1:\(ports[0])", stream = "tcp://127.0.0.1:\(ports[1])", snapshot = "tcp://127.0.0.1:\(ports[2])"
        // An aggregator on a clock far from this machine's: 2024-06-01, at about real speed.
        let aggregator = Process()
        aggregator.executableURL = URL(fileURLWithPath: try koersPath())
        aggregator.arguments = ["aggregator", "run", "--plain", "--data", dir, "--ingest", ingest, "--stream", stream, "--snapshot", snapshot,
                                "--http", "none", "--clock-start", "2024-06-01", "--clock-speed", "0.00001"]
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/aggregator.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/aggregator.log"))
        aggregator.standardOutput = log
        aggregator.standardError = log
        try aggregator.run()
        defer {
            if aggregator.isRunning { aggregator.terminate() }
            aggregator.waitUntilExit()
        }
        // Up once it answers a snapshot.
        let client = try OperatorClient(snapshotEndpoint: snapshot, streamEndpoint: stream, keys: nil, serverKey: nil)
        let snap = try client.snapshot(timeout: .seconds(30))
        #expect(snap.date.iso == "2024-06-01")
        let op = ["--plain", "--snapshot", snapshot, "--stream", stream]
        var (status, text) = try koers(["ack", "nope", "--reason", "r", "--until", "2024-05-31"] + op)
        #expect(status != 0)
        #expect(text.contains("--until 2024-05-31 is in the past: the aggregator's date is 2024-06-01"), "\(text)")
        // After the aggregator's date but before this machine's: not refused here; the
        // aggregator answers (the key is unknown).
        (status, text) = try koers(["ack", "nope", "--reason", "r", "--until", "2024-06-02"] + op)
        #expect(status != 0)
        #expect(text.contains("no open alert `nope`"), "\(text)")
    }
}
