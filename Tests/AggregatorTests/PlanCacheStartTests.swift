import Foundation
import Logging
import Plan
import Synchronization
import Testing

@testable import Aggregator

/// The aggregator's start reads its plan through the compiled plan cache in
/// `DATA/aggregator/plan-cache`, and says in its log what the cache did, once.
@Suite("Plan cache at start")
struct PlanCacheStartTests {
    /// Every log line (level, message, metadata), for the test to read.
    final class Lines: Sendable {
        let all = Mutex<[(Logger.Level, String, Logger.Metadata)]>([])
    }

    /// Keeps every log line in ``Lines``.
    struct Recorder: LogHandler {
        let lines: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            lines.all.withLock { $0.append((event.level, "\(event.message)", event.metadata ?? [:])) }
        }
    }

    final class Site: Sendable {
        let dir = NSTemporaryDirectory() + "koers-plan-cache-start-\(UUID().uuidString)"
        let lines = Lines()
        var logger: Logger { Logger(label: "test") { _ in Recorder(lines: self.lines) } }
        var plan: String { dir + "/plan.yaml" }
        init() throws {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: try #require(BuiltInPlansPath.path), toPath: plan)
        }
        deinit { try? FileManager.default.removeItem(atPath: dir) }

        /// Loads the plan as the aggregator's start does and returns the log lines it wrote.
        func start() throws -> [(Logger.Level, String, Logger.Metadata)] {
            lines.all.withLock { $0 = [] }
            _ = try AggregatorRuntime.loadPlan(path: plan, data: dir, logger: logger)
            return lines.all.withLock { $0 }
        }
    }

    @Test func aFirstStartWritesTheCacheAndARestartReadsIt() throws {
        let site = try Site()
        let first = try site.start()
        #expect(first.count == 1)
        #expect(first.first?.0 == .info && first.first?.1 == "plan read from its YAML; compiled cache written")
        let cacheDir = AggregatorRuntime.planCacheDirectory(data: site.dir)
        #expect(cacheDir == site.dir + "/aggregator/plan-cache")
        let files = try FileManager.default.contentsOfDirectory(atPath: cacheDir)
        #expect(files.count == 1 && files[0].hasSuffix(".plan"))
        let second = try site.start()
        #expect(second.count == 1 && second.first?.1 == "plan read from its compiled cache")
        #expect(second.first?.2["cache"] == "\(cacheDir)/\(files[0])")
    }

    @Test func aDamagedCacheFallsBackWithOneWarningThatSaysWhy() throws {
        let site = try Site()
        _ = try site.start()
        let cacheDir = AggregatorRuntime.planCacheDirectory(data: site.dir)
        let file = cacheDir + "/" + (try FileManager.default.contentsOfDirectory(atPath: cacheDir))[0]
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: file))
        let lines = try site.start()
        #expect(lines.count == 1)
        let (level, message, metadata) = try #require(lines.first)
        #expect(level == .warning)
        #expect(message == "compiled plan cache damaged, not used: plan read from its YAML and the cache rewritten")
        #expect(metadata["cache"] == "\(file)")
        #expect("\(metadata["reason"] ?? "")".contains("truncated"))
        // Rewritten whole: the next start reads it.
        #expect(try site.start().first?.1 == "plan read from its compiled cache")
    }

    @Test func anUnwritableCacheDirectoryIsAWarningNotAFailure() throws {
        let site = try Site()
        // A file where the directory would go: the cache cannot be written there.
        try FileManager.default.createDirectory(atPath: site.dir + "/aggregator", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: AggregatorRuntime.planCacheDirectory(data: site.dir)))
        let lines = try site.start()
        #expect(lines.count == 1 && lines.first?.0 == .warning)
        #expect(lines.first?.1.contains("could not be written") == true)
    }
}

/// Where the built-in plan's YAML is, for copying it into a test's directory.
enum BuiltInPlansPath {
    static var path: String? {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let p = url.appendingPathComponent("plans/nphln.yaml").path
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }
}
