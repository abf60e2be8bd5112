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

        @Flag(name: .long, help: "Accept unencrypted, unauthenticated reports. For tests only; logged loudly.")
        var plain = false

        func run() async throws {
            let logger = bootstrapLogging()
            let plan = try common.loadPlan()
            var config = AggregatorConfiguration(storePath: "\(common.data)/aggregator/koers.sqlite", plan: plan)
            config.ingestEndpoint = ingest
            config.plain = plain
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
            let ingestService = IngestService(configuration: config, logger: logger)
            let group = ServiceGroup(configuration: .init(services: [.init(service: ingestService)],
                                                          gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            logger.info("aggregator stopped; data is in \(config.storePath)")
        }
    }
}
