import Aggregator
import ArgumentParser
import Foundation
import Logging
import Plan
import ServiceLifecycle
import ZeroMQ

/// `koers aggregator`: the programme bureau's process.
struct AggregatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregator",
        abstract: "Run the aggregator.",
        subcommands: [Run.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the aggregator until stopped (SIGTERM/SIGINT): ingest with CURVE and ZAP, store before acknowledging.",
            discussion: """
                Keys: KEYS/aggregator.key_secret is the aggregator's own pair; every other KEYS/*.key is a trusted \
                publisher whose identity (a theme id) is written in the file. Data: DATA/aggregator/koers.sqlite.
                """)

        @OptionGroup var common: CommonOptions

        @Option(name: .long, help: "The ingest endpoint to bind.")
        var ingest: String = "tcp://127.0.0.1:7401"

        @Option(name: .long, help: "The operators' stream endpoint to bind (PUB).")
        var stream: String = "tcp://127.0.0.1:7402"

        @Option(name: .long, help: "The operators' snapshot and acknowledgement endpoint to bind (ROUTER).")
        var snapshot: String = "tcp://127.0.0.1:7403"

        @Flag(name: .long, help: "Accept unencrypted, unauthenticated reports. For tests only; logged loudly.")
        var plain = false

        @OptionGroup var clock: ClockOptions

        @Option(name: .long, help: ArgumentHelp("Days a theme may be quiet beyond its heartbeat cadence (compressed clocks).", visibility: .hidden))
        var silenceGrace: Double = 0

        @Option(name: .long, help: ArgumentHelp("Seconds between time-driven re-evaluations.", visibility: .hidden))
        var tick: Double = 0.2

        func run() async throws {
            let logger = bootstrapLogging()
            ProcessMemory.limitArenas(2)
            let plan = try common.loadPlan()
            ProcessMemory.releaseFreed()
            logger.debug("plan loaded", metadata: ["rss_mb": "\(ProcessMemory.residentMegabytes())"])
            var config = AggregatorConfiguration(storePath: "\(common.data)/aggregator/koers.sqlite", plan: plan)
            config.ingestEndpoint = ingest
            config.streamEndpoint = stream
            config.snapshotEndpoint = snapshot
            config.plain = plain
            config.silenceGraceMs = Int64(silenceGrace * 86_400_000)
            config.tickInterval = .milliseconds(Int(tick * 1000))
            if !plain {
                config.keyPair = try loadKeyPair(common.keys, "aggregator")
                var trusted = try CurveKeyFile.loadTrustedKeys(directory: common.keys)
                trusted = trusted.filter { $0.value != "aggregator" }
                let themes = Set(plan.themes.map(\.id))
                for (key, identity) in trusted where !themes.contains(identity) && !identity.hasPrefix("operator:") {
                    logger.warning("trusted key names no theme of the plan", metadata: ["identity": "\(identity)", "key": "\(key)"])
                }
                guard !trusted.isEmpty else {
                    throw ValidationError("no trusted publisher keys in \(common.keys): copy each theme's THEME.key there (see docs/operations.md)")
                }
                config.trustedKeys = trusted
            }
            let runtime = try AggregatorRuntime(configuration: config, clock: clock.make(), logger: logger)
            ProcessMemory.releaseFreed()
            logger.debug("status rebuilt", metadata: ["rss_mb": "\(ProcessMemory.residentMegabytes())"])
            let group = ServiceGroup(configuration: .init(services: [.init(service: IngestService(runtime: runtime)),
                                                                     .init(service: StreamService(runtime: runtime))],
                                                          gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do { try await group.run() } catch {
                await runtime.shutdown()
                throw error
            }
            await runtime.shutdown()
            logger.info("aggregator stopped; data is in \(config.storePath)")
        }
    }
}
