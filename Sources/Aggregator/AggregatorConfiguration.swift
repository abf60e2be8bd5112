import Plan
import Wire
import ZeroMQ

/// How the aggregator listens, whom it trusts and where it keeps its data.
public struct AggregatorConfiguration: Sendable {
    /// The ingest endpoint theme services connect to.
    public var ingestEndpoint: String = "tcp://127.0.0.1:7401"
    /// The aggregator's own CURVE key pair; nil only in plain mode.
    public var keyPair: CurveKeyPair?
    /// Trusted client keys and the identity each authenticates as (theme ids).
    public var trustedKeys: [CurvePublicKey: String] = [:]
    /// Operator identities (`operator:NAME`) → the themes each may acknowledge; an
    /// operator not listed may acknowledge every theme's alerts.
    public var operatorScopes: [String: Set<String>] = [:]
    /// Accept unencrypted, unauthenticated connections. Only with an explicit flag.
    public var plain = false
    /// The SQLite file.
    public var storePath: String
    /// The plan reports are checked against.
    public var plan: Plan
    /// The plan's version, announced in WELCOME.
    public var planVersion: UInt64
    /// Most reports stored per transaction.
    public var batchLimit: Int = 4096
    /// How often the write-ahead log is copied into the database, off the commit path.
    /// Short intervals keep each checkpoint small: its flush competes with the commits'
    /// own (measured: 500 ms gave alert-latency stalls of ~40 ms, 100 ms of ~12 ms).
    public var checkpointInterval: Duration = .milliseconds(100)
    /// The operators' stream endpoint (PUB).
    public var streamEndpoint: String = "tcp://127.0.0.1:7402"
    /// The operators' snapshot and acknowledgement endpoint (ROUTER).
    public var snapshotEndpoint: String = "tcp://127.0.0.1:7403"
    /// A STREAM_HEARTBEAT goes out when the stream has been quiet this long.
    public var streamHeartbeat: Duration = .seconds(1)
    /// Extra clock time a theme may be quiet beyond its heartbeat cadence (demos).
    public var silenceGraceMs: Int64 = 0
    /// How often time-driven changes are evaluated.
    public var tickInterval: Duration = .milliseconds(200)

    public init(storePath: String, plan: Plan) {
        self.storePath = storePath
        self.plan = plan
        self.planVersion = UInt64(plan.version)
    }
}
