import Aggregator
import Feed
import HTTPServer
import Prometheus
import Telemetry
import History
import StreamProtocol
import ArgumentParser
import Foundation
import Logging
import Plan
import ServiceLifecycle
import UnixSignals
import ZeroMQ

/// `koers aggregator`: the programme bureau's process.
struct AggregatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregator",
        abstract: "Run the aggregator.",
        subcommands: [Run.self, Refusals.self, Backup.self, Restore.self])

    struct Run: AsyncParsableCommand {
        /// This program, to run a part of the work in a child process.
        static var ownExecutable: String {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        }

        static let configuration = CommandConfiguration(
            abstract: "Run the aggregator until stopped (SIGTERM/SIGINT): ingest with CURVE and ZAP, store before acknowledging.",
            discussion: """
                Keys: KEYS/aggregator.key_secret is the aggregator's own pair; every other KEYS/*.key is a trusted \
                publisher whose identity (a theme id) is written in the file. Data: DATA/aggregator/koers.sqlite.
                """)

        @OptionGroup var configFile: ConfigOptions

        @OptionGroup var common: CommonOptions

        @Option(name: .long, help: "The ingest endpoint to bind.")
        var ingest: String = "tcp://127.0.0.1:7401"

        @Option(name: .long, help: "The operators' stream endpoint to bind (PUB).")
        var stream: String = "tcp://127.0.0.1:7402"

        @Option(name: .long, help: "The operators' snapshot and acknowledgement endpoint to bind (ROUTER).")
        var snapshot: String = "tcp://127.0.0.1:7403"

        @Flag(name: .long, help: "Accept unencrypted, unauthenticated reports. For tests only; logged loudly.")
        var plain = false

        @Option(name: .long, help: "The HTTP server's address (/metrics, /healthz, /readyz, /api/v1): HOST:PORT, or `none`. Beyond loopback, reads need an operator's token too.")
        var http: String = "127.0.0.1:7480"

        @Flag(name: .customLong("no-item-metrics"), help: "Leave the per-item series (progress against the path) out of /metrics: for plans of many thousands of items.")
        var noItemMetrics = false

        @Option(name: .customLong("sse-heartbeat"), help: ArgumentHelp("Seconds the HTTP event stream may be quiet before a heartbeat comment.", visibility: .hidden))
        var sseHeartbeat: Double = 10

        @OptionGroup var notify: NotifyOptions

        @OptionGroup var clock: ClockOptions

        @OptionGroup var log: LogOptions

        @Option(name: .long, help: ArgumentHelp("Days a theme may be quiet beyond its heartbeat cadence (compressed clocks).", visibility: .hidden))
        var silenceGrace: Double = 0

        @Option(name: .long, help: ArgumentHelp("Seconds between time-driven re-evaluations.", visibility: .hidden))
        var tick: Double = 0.2

        func validate() throws {
            do { _ = try HTTPConfiguration.parse(http) } catch { throw ValidationError("--http \(error)") }
        }

        func run() async throws {
            let logger = bootstrapLogging(log)
            if let file = configFile.config { logger.info("configuration read", metadata: ["file": "\(file)"]) }
            ProcessMemory.tuneAllocator()
            let plan: Plan
            AggregatorRuntime.compileApart(path: common.plan, data: common.data, executable: Self.ownExecutable, logger: logger)
            do { plan = try AggregatorRuntime.loadPlan(path: common.plan, data: common.data, logger: logger) } catch {
                printError(error.description)
                throw ExitCode(1)
            }
            ProcessMemory.releaseFreed()
            logger.debug("plan loaded", metadata: ["rss_mb": "\(ProcessMemory.residentMegabytes())"])
            var config = AggregatorConfiguration(storePath: "\(common.data)/aggregator/koers.sqlite", plan: plan)
            // Held until the process ends: no second aggregator and no restore on this data directory meanwhile.
            let lock: StoreLock
            do { lock = try StoreLock(store: config.storePath, purpose: "koers aggregator run") } catch let problem as StoreProblem {
                printError(problem.description)
                throw ExitCode(1)
            }
            config.ingestEndpoint = ingest
            config.streamEndpoint = stream
            config.snapshotEndpoint = snapshot
            config.plain = plain
            config.silenceGraceMs = Int64(silenceGrace * Double(PlanDate.millisecondsPerDay))
            config.tickInterval = .milliseconds(Int(tick * 1000))
            if !plain {
                config.keyPair = try loadKeyPair(common.keys, "aggregator")
                let trust = try AggregatorCommand.loadTrust(directory: common.keys, plan: plan, logger: logger)
                guard !trust.keys.isEmpty else {
                    throw ValidationError("no trusted publisher keys in \(common.keys): copy each theme's THEME.key there (see docs/operations.md)")
                }
                config.trustedKeys = trust.keys
                config.operatorScopes = trust.scopes
            }
            // The operators' HTTP tokens: read with the trusted keys, in plain mode too
            // (the HTTP API takes no anonymous write, ever).
            let tokens = HTTPTokenBook(try AggregatorCommand.loadTokens(directory: common.keys, logger: logger, required: !plain))
            // One Prometheus registry for everything /metrics shows; the ingest path counts
            // into it through swift-metrics.
            let registry = PrometheusCollectorRegistry()
            let metricsFactory = CatalogMetricsFactory(registry: registry)
            let runtime: AggregatorRuntime
            do {
                runtime = try AggregatorRuntime(configuration: config, clock: clock.make(), logger: logger, metricsFactory: metricsFactory)
            } catch let problem as StoreProblem {
                logger.critical("the store is not used; the aggregator does not start", metadata: ["store": "\(problem.path)", "problem": "\(problem.code)",
                                                                                                   "error": "\(problem.message)", "fix": "\(problem.fix)"])
                printError(problem.description)
                throw ExitCode(1)
            }
            let check = runtime.store.openCheck
            logger.info(check.created ? "store created" : "store checked", metadata: [
                "store": "\(config.storePath)", "quick_check_seconds": "\(check.quickCheck)",
                "megabytes": "\(check.pages * check.pageSize / 1_000_000)"])
            let feed = AggregatorFeed(runtime: runtime)
            var around: [any Service] = []
            if var httpConfig = try HTTPConfiguration.parse(http) {
                httpConfig.itemMetrics = !noItemMetrics
                httpConfig.sseHeartbeat = .milliseconds(Int(sseHeartbeat * 1000))
                around += KoersHTTPServer(feed: feed, configuration: httpConfig, registry: registry, tokens: tokens, logger: logger).services()
            }
            around += try notify.services(feed: feed, http: http, metricsFactory: metricsFactory, logger: logger)
            ProcessMemory.releaseFreed()
            logger.debug("status rebuilt", metadata: ["rss_mb": "\(ProcessMemory.residentMegabytes())"])
            let reloader = TrustReloader(runtime: runtime, tokens: tokens, directory: common.keys, plan: plan, logger: logger)
            // SIGTERM, SIGINT and SIGQUIT stop cleanly (the batch in hand is stored and
            // acknowledged, sockets are closed); SIGHUP re-reads the trusted keys; SIGUSR1
            // and SIGUSR2 are logged and ignored. None of them kills the aggregator mid-write.
            let group = ServiceGroup(configuration: .init(services: [.init(service: IngestService(runtime: runtime)),
                                                                     .init(service: SnapshotService(runtime: runtime)),
                                                                     .init(service: reloader)] + around.map { .init(service: $0) },
                                                          gracefulShutdownSignals: [.sigterm, .sigint, .sigquit], logger: logger))
            do { try await group.run() } catch {
                await runtime.shutdown()
                throw error
            }
            await runtime.shutdown()
            withExtendedLifetime(lock) {}
            logger.info("aggregator stopped; data is in \(config.storePath)")
        }
    }

    /// The trusted keys of a directory (without the aggregator's own) and the
    /// operators' scopes; warns about keys that name no theme of the plan.
    ///
    /// A key file that fails its checks (``CurveKeyFile/check(_:)``: unreadable,
    /// malformed, named for another identity, a copy of another file's key) is not
    /// trusted, and the others are: one team's broken copy leaves that team unable to
    /// report, not every team (`docs/operations.md`, "Key files"). Each refused file is
    /// logged as an error with its fix, and so is each theme of the plan left without a
    /// trusted key; that theme's silence alert follows once its heartbeat cadence passes.
    static func loadTrust(directory: String, plan: Plan, logger: Logger) throws -> (keys: [CurvePublicKey: String], scopes: [String: Set<String>]) {
        let read = try CurveKeyFile.loadTrustedKeys(directory: directory)
        let trusted = read.allow.filter { $0.value != "aggregator" }
        let themes = Set(plan.themes.map(\.id))
        for problem in read.refused {
            logger.error("key file refused: it is not trusted", metadata: ["file": "\(problem.path)", "problem": "\(problem.code)",
                                                                           "error": "\(problem.message)", "fix": "\(problem.fix ?? "")"])
        }
        for (key, identity) in trusted where !themes.contains(identity) && !identity.hasPrefix("operator:") {
            logger.warning("trusted key names no theme of the plan", metadata: ["identity": "\(identity)", "key": "\(key)"])
        }
        for theme in plan.themes.map(\.id).sorted() where !trusted.values.contains(theme) {
            if let refused = read.refused.first(where: { ($0.path as NSString).lastPathComponent == "\(theme).key" }) {
                logger.error("theme has no trusted key: its service cannot report", metadata: [
                    "theme": "\(theme)", "file": "\(refused.path)", "why": "\(refused.message)", "fix": "\(refused.fix ?? "")"])
            } else {
                logger.notice("theme has no key in the trusted keys directory: its service cannot report", metadata: [
                    "theme": "\(theme)", "fix": "copy the theme's \(theme).key into \(directory) and send SIGHUP"])
            }
        }
        var scopes: [String: Set<String>] = [:]
        for file in read.files { if let t = file.themes { scopes[file.identity] = Set(t) } }
        for (identity, scope) in scopes {
            for t in scope where !themes.contains(t) {
                logger.warning("operator key's scope names no theme of the plan", metadata: ["identity": "\(identity)", "theme": "\(t)"])
            }
        }
        return (trusted, scopes)
    }

    /// The HTTP token hashes of the operator keys in a directory, with each key's scope.
    /// In plain mode a missing or unreadable directory gives no tokens (and so no writes).
    static func loadTokens(directory: String, logger: Logger, required: Bool) throws -> [String: (sha256Hex: String, scope: Set<String>?)] {
        guard required || FileManager.default.fileExists(atPath: directory) else { return [:] }
        let hashes = try CurveKeyFile.loadHTTPTokenHashes(directory: directory)
        let scopes = try CurveKeyFile.loadOperatorScopes(directory: directory)
        return Dictionary(uniqueKeysWithValues: hashes.map { ($0.key, (sha256Hex: $0.value, scope: scopes[$0.key])) })
    }

    /// Re-reads the trusted keys on SIGHUP: a key added is trusted, a key removed refused,
    /// for new connections, without a restart. A directory that does not read keeps the
    /// keys in force and says why.
    struct TrustReloader: Service {
        let runtime: AggregatorRuntime
        let tokens: HTTPTokenBook
        let directory: String
        let plan: Plan
        let logger: Logger

        func run() async throws {
            guard !runtime.configuration.plain else { return try await gracefulShutdown() }
            let signals = await UnixSignalsSequence(trapping: .sighup, .sigusr1, .sigusr2)
            try await cancelWhenGracefulShutdown {
                for await signal in signals {
                    guard signal == .sighup else {
                        logger.notice("signal ignored", metadata: ["signal": "\(signal)", "hint": "SIGHUP reloads the trusted keys; SIGTERM stops"])
                        continue
                    }
                    do {
                        let trust = try AggregatorCommand.loadTrust(directory: directory, plan: plan, logger: logger)
                        let newTokens = try AggregatorCommand.loadTokens(directory: directory, logger: logger, required: true)
                        runtime.reloadTrust(keys: trust.keys, scopes: trust.scopes)
                        tokens.replace(newTokens)
                        logger.notice("trusted keys reloaded", metadata: ["directory": "\(directory)", "trusted_keys": "\(trust.keys.count)", "http_tokens": "\(newTokens.count)",
                                                                          "identities": "\(Set(trust.keys.values).sorted().joined(separator: ","))"])
                    } catch {
                        logger.error("trusted keys not reloaded; the previous keys stay in force", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }

    struct Refusals: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count the refused reports per reason, and show the latest ones.",
            discussion: """
                Reads the aggregator's store (DATA/aggregator/koers.sqlite); it may be running. Every refused report \
                uses up its sequence and is kept with its reason. Messages refused before they could name a report \
                (broken frames or envelopes, a bad hello) are not stored: the aggregator logs them, and their counts at stop.
                """)

        @Option(name: .long, help: "Where Koers keeps its data.")
        var data: String = "data"

        @Option(name: .long, help: "How many of the latest refusals to list.")
        var last: Int = 10

        @Flag(name: .long, help: "One JSON document: counts per reason and the latest refusals.")
        var json = false

        func validate() throws {
            guard last >= 0 else { throw ValidationError("--last must be 0 or more, not \(last)") }
        }

        func run() throws {
            let path = "\(data)/aggregator/koers.sqlite"
            guard FileManager.default.fileExists(atPath: path) else {
                printError("no aggregator store at \(path): is --data right? (`koers aggregator run --data DIR` creates it)")
                throw ExitCode(1)
            }
            let store = try StoreHistory(path: path)
            let counts = try store.refusalCounts().sorted { $0.key.rawValue < $1.key.rawValue }
            let latest = try store.recentRefusals(limit: last)
            func time(_ ms: Int64) -> String {
                let f = ISO8601DateFormatter()
                return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
            }
            if json {
                struct Doc: Encodable {
                    struct Count: Encodable { var code: Int; var reason: String; var count: Int }
                    struct Refusal: Encodable { var publisher: String; var sequence: UInt64; var code: Int; var reason: String; var detail: String; var at: String }
                    var counts: [Count]
                    var latest: [Refusal]
                }
                let doc = Doc(counts: counts.map { .init(code: Int($0.key.rawValue), reason: $0.key.name, count: $0.value) },
                              latest: latest.map { .init(publisher: $0.publisher, sequence: $0.sequence, code: Int($0.reason.rawValue),
                                                         reason: $0.reason.name, detail: $0.detail, at: time($0.at)) })
                print(StreamDocuments.encode(doc))
                return
            }
            let total = counts.map(\.value).reduce(0, +)
            print("\(total) refused report\(total == 1 ? "" : "s") in \(path)")
            for (code, n) in counts { print("  \(pad(code.description, 28)) \(n)") }
            guard !latest.isEmpty else { return }
            print("latest \(latest.count):")
            // The stored detail starts with the reason code and name.
            for r in latest { print("  \(time(r.at))  \(r.publisher) #\(r.sequence)  \(r.detail)") }
        }

        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    }
}
