import Foundation
import ServiceLifecycle

/// The aggregator's ingest: the ingest thread (``IngestLoop``) running the pipeline from
/// the CURVE ROUTER to the stream's PUB, as a service of the aggregator's group. Graceful
/// shutdown asks the loop to stop after the batch in hand, which is stored and
/// acknowledged first (`docs/architecture.md`, "The ingest pipeline").
public final class IngestService: Service, Sendable {
    let runtime: AggregatorRuntime

    public init(runtime: AggregatorRuntime) { self.runtime = runtime }

    public func run() async throws {
        if runtime.configuration.plain {
            runtime.logger.critical("PLAIN MODE: the ingest channel accepts unencrypted, unauthenticated reports; never use this outside a test")
        }
        let loop = IngestLoop(runtime: runtime, mailbox: runtime.mailbox)
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                do {
                    try await loop.start()
                } catch {
                    runtime.logger.critical("ingest could not run; the aggregator stops", metadata: ["error": "\(error)"])
                    throw error
                }
            } onCancel: {
                runtime.mailbox.requestStop()
            }
        } onGracefulShutdown: {
            self.runtime.mailbox.requestStop()
        }
    }

    /// The ingest socket's `ZMQ_MAXMSGSIZE`: 64 KiB, far above the 4,096-byte payload
    /// limit, so an oversized report is answered (NACK 106) rather than cut off.
    public static let maxMessageSize: Int64 = 64 << 10
}
