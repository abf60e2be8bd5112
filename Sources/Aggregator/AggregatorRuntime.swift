import Foundation
import Logging
import Plan
import Wire
import ZeroMQ

/// What the aggregator's services share: one ZeroMQ context with its ZAP
/// authenticator, the store and the status keeper.
public final class AggregatorRuntime: Sendable {
    public let configuration: AggregatorConfiguration
    public let context: Context
    public let authenticator: ZAPAuthenticator?
    public let store: ReportStore
    public let keeper: StatusKeeper
    /// The plan's items, numbered once and shared by the keeper and the ingest stage.
    public let index: PlanIndex
    public let clock: any KoersClock
    public let logger: Logger

    public init(configuration c: AggregatorConfiguration, clock: any KoersClock = SystemClock(), logger: Logger) throws {
        configuration = c
        self.clock = clock
        self.logger = logger
        context = try Context()
        if c.plain {
            authenticator = nil
        } else {
            guard c.keyPair != nil else {
                throw ZMQError(code: .noAuthenticator, operation: "aggregator start",
                               message: "the aggregator needs its key pair (keys/aggregator.key_secret) or an explicit --plain")
            }
            authenticator = try ZAPAuthenticator(context: context, allow: c.trustedKeys, logger: logger)
        }
        store = try ReportStore(path: c.storePath)
        let started = ContinuousClock.now
        index = PlanIndex(c.plan)
        keeper = try StatusKeeper(index: index, store: store, clock: clock, logger: logger, silenceGraceMs: c.silenceGraceMs)
        logger.info("status rebuilt from the store", metadata: ["seconds": "\(ContinuousClock.now - started)"])
        try store.startCheckpoints(every: c.checkpointInterval)
    }

    /// A server socket: CURVE with the authenticator, or plain when configured so.
    func serverSocket(_ type: SocketType) throws -> Socket {
        let s = try context.socket(type)
        if let zap = authenticator, let keys = configuration.keyPair {
            try s.makeCurveServer(secretKey: keys.secretKey, authenticator: zap)
        }
        return s
    }

    /// Ends the runtime after the services stopped: authenticator, then context.
    public func shutdown() async {
        store.stopCheckpoints()
        if let zap = authenticator { try? await zap.stop() }
        context.terminate()
    }
}
