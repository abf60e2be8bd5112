import CoreMetrics
import Feed
import Foundation
import Logging
import Plan
import Synchronization
import Wire
import ZeroMQ

/// What the aggregator's services share: one ZeroMQ context with its ZAP
/// authenticator, the store, and the way to the status (``keeper``, answered by the
/// ingest thread, which owns the status: ``IngestLoop``).
public final class AggregatorRuntime: Sendable {
    public let configuration: AggregatorConfiguration
    public let context: Context
    public let authenticator: ZAPAuthenticator?
    public let store: ReportStore
    /// The status, as the other parts ask for it.
    public let keeper: StatusKeeper
    /// How the other parts reach the ingest thread.
    let mailbox = Mailbox()
    /// The status rebuilt at start, until the ingest thread takes it.
    private let startingCore: Mutex<StatusCore?>
    /// The plan's items, numbered once and shared by the status and the intake.
    public let index: PlanIndex
    public let clock: any KoersClock
    public let logger: Logger
    /// Who may do what (roles); its operator scopes change on a key reload.
    public let access: Access
    /// The numbered stream in-process (the HTTP server, the metrics, the notifiers).
    public let hub: StreamHub
    /// Whether the store takes writes (``Pipeline`` sets it; `/readyz` reads it).
    public let storeHealth = StoreHealth()
    /// Where the ingest path and the stream count what they do (swift-metrics; the
    /// HTTP server's Prometheus registry in `koers aggregator run`, nothing in tests).
    public let metrics: AggregatorMetrics

    public init(configuration c: AggregatorConfiguration, clock: any KoersClock = SystemClock(), logger: Logger,
                metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance) throws {
        configuration = c
        self.clock = clock
        self.logger = logger
        context = try Context()
        access = Access(scopes: c.operatorScopes)
        if c.plain {
            authenticator = nil
        } else {
            guard c.keyPair != nil else {
                throw ZMQError(code: .noAuthenticator, operation: "aggregator start",
                               message: "the aggregator needs its key pair (keys/aggregator.key_secret) or an explicit --plain")
            }
            authenticator = try ZAPAuthenticator(context: context, allow: c.trustedKeys, logger: logger, admits: Access.admits)
        }
        store = try ReportStore(path: c.storePath)
        let started = ContinuousClock.now
        index = PlanIndex(c.plan)
        hub = StreamHub(lastSequence: try store.lastStreamSequence())
        metrics = AggregatorMetrics(factory: metricsFactory, themes: Set(c.plan.themes.map(\.id)))
        startingCore = Mutex(try StatusCore(index: index, store: store, hub: hub, nowMs: clock.now(), silenceGraceMs: c.silenceGraceMs))
        keeper = StatusKeeper(mailbox: mailbox, themeIDs: c.plan.themes.map(\.id))
        logger.info("status rebuilt from the store", metadata: ["seconds": "\(ContinuousClock.now - started)"])
        try store.startCheckpoints(every: c.checkpointInterval)
    }

    /// The status for the ingest thread, once.
    func takeCore() -> StatusCore? { startingCore.withLock { c in defer { c = nil }; return c } }

    /// A server socket for one channel: CURVE with the authenticator and the channel's
    /// ZAP domain (which decides the roles admitted), or plain when configured so.
    func serverSocket(_ type: SocketType, for channel: Access.Channel) throws -> Socket {
        let s = try context.socket(type)
        if let zap = authenticator, let keys = configuration.keyPair {
            try s.makeCurveServer(secretKey: keys.secretKey, authenticator: zap, domain: channel.rawValue)
        }
        return s
    }

    /// Replaces the trusted keys and operator scopes (SIGHUP): new connections are
    /// judged by the new list; connections already made stay until they close.
    public func reloadTrust(keys: [CurvePublicKey: String], scopes: [String: Set<String>]) {
        authenticator?.replaceAllowList(keys)
        access.replaceScopes(scopes)
    }

    /// Ends the runtime after the services stopped: authenticator, then context.
    public func shutdown() async {
        hub.finish()
        store.stopCheckpoints()
        // Fold the write-ahead log into the database, so a clean stop leaves one file.
        store.foldLog(logger: logger)
        if let zap = authenticator { try? await zap.stop() }
        context.terminate()
    }
}
